"""typo blocks v3: rebuild the t: keys, cut past common leading words

A typo block that a common business word would fill ("globalma" of "Global Madasena",
shared by hundreds of accounts at CRM scale) is now cut after it ("madasena"), and a block
led by a short common word keeps its exact prefix ("groupvod"). The lookup asks for the new
blocks, so every record's ``t:`` keys are rebuilt here with the default rules; no other
key and no schema changes. The downgrade rebuilds them in the previous scheme.

Revision ID: 8a4c6e1f3b27
Revises: 7c3d9e2a4b61
Create Date: 2026-11-27 20:40:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from domain.conflicts import ACTIVE_STATUSES, ConflictRules
from domain.matching import CompanyRef
from domain.matching.names import analyse

revision: str = "8a4c6e1f3b27"
down_revision: str | Sequence[str] | None = "7c3d9e2a4b61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 2_000
_KEY_LENGTH = 64
_PREFIX = 8
_MIN_LENGTH = 5


def upgrade() -> None:
    """Replace every record's typo blocks with the ones the current rules give it."""
    rules = ConflictRules()
    _rebuild(lambda name: {k for k in rules.keys(CompanyRef(name)) if k.startswith("t:")})


def downgrade() -> None:
    """Typo blocks as before: the one-deletion neighbourhood of each form's first 8 letters."""
    _rebuild(_previous_blocks)


def _previous_blocks(name: str) -> set[str]:
    analysed = analyse(name, _PREFIX)
    if not analysed.variants or len(analysed.compact) < _MIN_LENGTH:
        return set()
    keys: set[str] = set()
    for forms in analysed.variants:
        for toks in {forms.core, forms.base, tuple(sorted(forms.core)), tuple(sorted(forms.base))}:
            text = "".join(toks)[:_PREFIX]
            keys |= {f"t:{text}"} | {f"t:{text[:i]}{text[i + 1 :]}" for i in range(len(text))}
    return keys


def _rebuild(blocks: Callable[[str], set[str]]) -> None:
    """Delete every ``t:`` key and write `blocks(name)` for each record that holds keys."""
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM company_key WHERE key >= 't:' AND key < 't;'"))
    active = ", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES)
    sources = [
        (
            "registration",
            "SELECT id, company AS name FROM registration "
            f"WHERE status IN ({active}) AND id > :after ORDER BY id LIMIT {_PAGE}",
        ),
        (
            "account",
            f"SELECT id, name FROM crm_account WHERE id > :after ORDER BY id LIMIT {_PAGE}",
        ),
        (
            "opportunity",
            f"SELECT id, name FROM crm_opportunity WHERE id > :after ORDER BY id LIMIT {_PAGE}",
        ),
    ]
    insert = sa.text("INSERT INTO company_key (owner_kind, owner_id, key) VALUES (:k, :o, :key)")
    for kind, query in sources:
        for rows in _pages(bind, query):
            keys = [
                {"k": kind, "o": row.id, "key": key}
                for row in rows
                for key in sorted({k[:_KEY_LENGTH] for k in blocks(row.name)})
            ]
            if keys:
                bind.execute(insert, keys)


def _pages(bind: sa.Connection, query: str) -> Iterator[list[Any]]:
    after = 0
    while rows := list(bind.execute(sa.text(query), {"after": after})):
        yield rows
        after = rows[-1].id
