"""The conflict lookup's SQL: which records share a subject's candidate keys.

It reads, for each lookup key and each kind of claim that has any keys at all (one
primary-key probe per kind first), at most `key_cap` postings in index order
(`company_key (key, owner_kind, owner_id)`), in one UNION ALL statement. A name key
(``n:``, ``i:``, ``s:``, ``a:``, ``t:``) with more postings than the cap is dropped inside
the statement: it is too common to narrow anything, and counting `key_cap + 1` index entries
in SQL costs far less than shipping them to Python. A domain key (``d:``) is specific by
nature and never dropped, only truncated to the first `key_cap` records. Every record
sharing a domain, name or alias key comes back; of those sharing only initialism and
typo-block keys, at most `candidate_cap` per kind, ranked by the rarity of the keys they
share. The statement's text depends only on how many (key, kind) parts it has, so the
database keeps each prepared (`prepare_lookups` prepares them when the app starts).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.conflicts import ClaimKind, ConflictRules

_DOMAIN_PREFIX = "d:"
# A shared domain, name or alias always makes a record a candidate; those sharing only
# initialism or typo-block keys are ranked by rarity (1 / records sharing the key), summed.
_STRONG_KEYS = frozenset({"d:", "n:", "a:"})
_KINDS = tuple(kind.value for kind in ClaimKind)
_STRONG = 1_000_000  # the score of a strong posting: more than any sum of rarities
_PARAMETER = re.compile(r":(\w+)")
KEYS_PER_STATEMENT_STEP = 4
"""The key lookup is built for a multiple of this many keys, the rest padded with keys no
record has: preparing a lookup costs far more than running it, so a statement per distinct
count of keys, not per mix of key sorts, keeps the ones in use prepared."""
_NO_KEY = ""  # a key no record has: every stored key starts with its sort's prefix
PREPARED_KEYS = 32
"""`prepare_lookups` prepares the statements for up to this many keys (nearly every name has
fewer; a longer one prepares its own on first use)."""


@functools.cache
def _owners_sql(parts: int, paramstyle: str) -> tuple[str, tuple[str, ...]]:
    """The statement for `parts` (key, kind) pairs in the driver's own placeholders, with
    its parameter names in order: it runs with `exec_driver_sql`, as binding a hundred
    named parameters through SQLAlchemy costs more than running it."""
    named = _owners_text(parts)
    order = tuple(_PARAMETER.findall(named))
    if paramstyle == "qmark":
        return _PARAMETER.sub("?", named), order
    if paramstyle == "numeric_dollar":
        numbers = iter(range(1, len(order) + 1))
        return _PARAMETER.sub(lambda _: f"${next(numbers)}", named), order
    raise NotImplementedError(f"no conflict lookup for the {paramstyle} parameter style")


def _owners_text(parts: int) -> str:
    """The best owners of the postings of one (key, kind) pair per part, as plain SQL.

    Part n looks up key `:kn` of kind `:on`; `:dn` is true for a domain key (its first
    `:cap` postings, strong), `:wn` for an initialism or typo-block key (weighing
    1 / its postings), neither for a name or alias key (strong). A name, alias, initialism
    or typo-block part with more than `:cap` postings yields nothing. The owners' scores
    are summed and ranked in SQL: every strong owner and the `:budget` best weak ones of
    each kind come back, not the postings. Built once per number of parts.
    """
    selects = []
    for n in range(parts):
        count = (
            f"(SELECT count(*) FROM (SELECT 1 FROM company_key WHERE key = :k{n} "
            f"AND owner_kind = :o{n} LIMIT :over) AS c{n})"
        )
        # An over-common key gets LIMIT 0: SQLite then reads none of its postings, where a
        # WHERE on the count would still walk all of them (42,000 for "t:internat").
        limit = f"(CASE WHEN :d{n} THEN :cap WHEN {count} <= :cap THEN :cap ELSE 0 END)"
        weight = f"(CASE WHEN :w{n} THEN 1.0 / {count} ELSE {_STRONG} END)"
        selects.append(
            f"SELECT * FROM (SELECT owner_kind, owner_id, {weight} AS w FROM company_key "
            f"WHERE key = :k{n} AND owner_kind = :o{n} ORDER BY owner_id LIMIT {limit}) AS p{n}"
        )
    scored = (
        "SELECT owner_kind, owner_id, sum(w) AS score FROM ("
        + " UNION ALL ".join(selects)
        + ") AS postings GROUP BY owner_kind, owner_id"
    )
    ranked = (
        f"SELECT owner_kind, owner_id, score >= {_STRONG} AS strong, row_number() OVER "
        f"(PARTITION BY owner_kind, score >= {_STRONG} ORDER BY score DESC, owner_id) AS rank "
        f"FROM ({scored}) AS owners"
    )
    return f"SELECT owner_kind, owner_id FROM ({ranked}) AS ranked WHERE strong OR rank <= :budget"


def _padded(keys: Sequence[str]) -> list[str]:
    """`keys` and as many `_NO_KEY` as make their number a multiple of the step."""
    return [*keys, *[_NO_KEY] * (-len(keys) % KEYS_PER_STATEMENT_STEP)]


_KINDS_PRESENT = "SELECT " + ", ".join(
    f"EXISTS (SELECT 1 FROM company_key WHERE owner_kind = '{kind}')" for kind in _KINDS
)
"""Which kinds of records have any key: probes of the primary key (owner_kind first)."""


async def owner_rows(
    connection: AsyncConnection,
    keys: Sequence[str],
    rules: ConflictRules,
    kinds: Sequence[str] | None = None,
) -> Sequence[tuple[str, int]]:
    """(owner kind, owner id) of the owners `_owners_text` picks for these keys, among the
    `kinds` of records (default: those with any key at all).

    Looking a key up for a kind with no records still costs SQLite index probes and the
    statement's machinery for them; one probe per kind first is far cheaper, and reads in
    the same transaction as the lookup.
    """
    if kinds is None:
        present = (await connection.exec_driver_sql(_KINDS_PRESENT)).one()
        kinds = [kind for kind, has_keys in zip(_KINDS, present, strict=True) if has_keys]
    if not kinds:
        return []
    params: dict[str, Any] = {
        "cap": rules.key_cap,
        "over": rules.key_cap + 1,
        "budget": rules.candidate_cap,
    }
    pairs = [(key, kind) for key in _padded(keys) for kind in kinds]
    for n, (key, kind) in enumerate(pairs):
        params[f"k{n}"], params[f"o{n}"] = key, kind
        params[f"d{n}"] = key.startswith(_DOMAIN_PREFIX)
        params[f"w{n}"] = bool(key) and key[:2] not in _STRONG_KEYS
    sql, order = _owners_sql(len(pairs), connection.dialect.paramstyle)
    result = await connection.exec_driver_sql(sql, tuple(params[name] for name in order))
    return cast("Sequence[tuple[str, int]]", result.all())


async def prepare_lookups(engine: AsyncEngine, *, up_to_keys: int = PREPARED_KEYS) -> None:
    """Run the key lookup once at each size up to `up_to_keys` keys (for one, two and three
    kinds of records), with keys no record has, so that the database holds each statement
    prepared before a check needs it.

    On SQLite the engine's one connection keeps them in sqlite3's statement cache (see
    `storage.sqlite_inline`), so the first checks after a start do not prepare them; on
    PostgreSQL it prepares them on the connection it borrows.
    """
    sizes = range(KEYS_PER_STATEMENT_STEP, up_to_keys + 1, KEYS_PER_STATEMENT_STEP)
    parts = sorted({count * kinds for count in sizes for kinds in range(1, len(_KINDS) + 1)})
    async with engine.connect() as connection:
        for count in parts:
            await owner_rows(connection, [_NO_KEY] * count, ConflictRules(), kinds=_KINDS[:1])
