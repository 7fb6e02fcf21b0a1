"""candidate keys v2: rebuild company_key (initialisms one way, 8-letter typo blocks)

Lookups now ask for s:<initials> / i:<short name> and typo blocks span 8 letters, so keys
written by the previous scheme would no longer be found. No schema change: the index is
derived data, rebuilt here from the records with the default rules.

Revision ID: 5b7e2c4d9a10
Revises: c0f1d35c0de4
Create Date: 2026-11-27 19:20:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from domain.conflicts import ACTIVE_STATUSES, ConflictRules
from domain.matching import CompanyRef

revision: str = "5b7e2c4d9a10"
down_revision: str | Sequence[str] | None = "c0f1d35c0de4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 2_000
_KEY_LENGTH = 64


def upgrade() -> None:
    """Replace every record's keys with the ones the current rules give it."""
    bind = op.get_bind()
    rules = ConflictRules()
    bind.execute(sa.text("DELETE FROM company_key"))
    active = ", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES)
    sources: list[tuple[str, str, Callable[[Any], CompanyRef]]] = [
        (
            "registration",
            "SELECT id, company, website, contact_email, country FROM registration "
            f"WHERE status IN ({active}) AND id > :after ORDER BY id LIMIT {_PAGE}",
            lambda r: CompanyRef(
                r.company,
                domain=r.website or None,
                email=r.contact_email or None,
                country=r.country or None,
            ),
        ),
        (
            "account",
            "SELECT id, name, domain, country FROM crm_account "
            f"WHERE id > :after ORDER BY id LIMIT {_PAGE}",
            lambda r: CompanyRef(r.name, domain=r.domain, country=r.country),
        ),
        (
            "opportunity",
            "SELECT id, name, domain FROM crm_opportunity "
            f"WHERE id > :after ORDER BY id LIMIT {_PAGE}",
            lambda r: CompanyRef(r.name, domain=r.domain),
        ),
    ]
    insert = sa.text("INSERT INTO company_key (owner_kind, owner_id, key) VALUES (:k, :o, :key)")
    for kind, query, ref in sources:
        for rows in _pages(bind, query):
            keys = [
                {"k": kind, "o": row.id, "key": key}
                for row in rows
                for key in sorted({k[:_KEY_LENGTH] for k in rules.keys(ref(row))})
            ]
            if keys:
                bind.execute(insert, keys)


def downgrade() -> None:
    """Nothing to undo in the schema; the keys stay in the new scheme."""


def _pages(bind: sa.Connection, query: str) -> Iterator[list[Any]]:
    after = 0
    while rows := list(bind.execute(sa.text(query), {"after": after})):
        yield rows
        after = rows[-1].id
