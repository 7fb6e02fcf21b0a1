"""Conflict candidates and findings in SQL: the key lookup narrows, the domain judges.

The lookup reads, for each of the subject's lookup keys and each kind of claim that has any
keys at all (one primary-key probe per kind first), at most `key_cap` postings in index
order (`company_key (key, owner_kind, owner_id)`), in one UNION ALL statement. A name key
(``n:``, ``i:``, ``s:``, ``a:``, ``t:``) with more postings than the cap is dropped inside
the statement: it is too common to narrow anything (think a typo block of a common word
among a million accounts), and counting `key_cap + 1` index entries in SQL costs far less
than shipping them to Python. A domain key (``d:``) is specific by nature and never dropped,
only truncated to the first `key_cap` records. So one lookup touches at most
keys × 3 × (2 cap + 1) index entries however large the CRM is, without counters to keep up
to date on every write.

Scoring a candidate costs more than finding it. Every record sharing a domain, name or
alias key is loaded (at most `key_cap` per key); of those sharing only initialism and
typo-block keys, at most `candidate_cap` per kind, ranked by the rarity of the keys they
share (a block shared by 3 records says more than one shared by 150: a real typo shares
the rare blocks of the name's own words, a stranger only the common ones of "Logistics").
Every statement is built once and reused, so a lookup pays no SQL compilation, and the
lookup's text depends only on how many (key, kind) parts it has, so that the database keeps
each prepared (`prepare_lookups` prepares them when the app starts; see
`bench/conflict_lookup.py` for the numbers at a million accounts). Each candidate row
carries the analysis its record stored (``name_forms``): a `Screen` given by the caller
reads it as text and leaves out the rows that cannot match before any is built, and the
rest are built with it, so judging them does not analyse their names again; a row without
valid forms is kept and analysed as before.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from domain.conflicts import Claim, ClaimKind, ConflictFinding, ConflictRules, FindingCounts
from domain.matching import CompanyRef, Finding, Screen, Strength, load_forms
from domain.matching.names import CompanyName
from domain.registration import RegistrationStatus
from storage.company_keys import KEY_LENGTH
from storage.crm import ACCOUNT, OPPORTUNITY
from storage.models import RegistrationFindingRow, RegistrationRow

FINDING = cast(Table, RegistrationFindingRow.__table__)
_REGISTRATION = cast(Table, RegistrationRow.__table__)
_INSERT_FINDING = insert(FINDING)
_DOMAIN_PREFIX = "d:"
# A shared domain, name or alias always makes a record a candidate; those sharing only
# initialism or typo-block keys are ranked by rarity (1 / records sharing the key), summed.
_STRONG_KEYS = frozenset({"d:", "n:", "a:"})
_KINDS = tuple(kind.value for kind in ClaimKind)
_STRONG = 1_000_000  # the score of a strong posting: more than any sum of rarities
_PARAMETER = re.compile(r":(\w+)")
_COUNTS = (
    select(FINDING.c.registration_id, FINDING.c.strength, func.count())
    .where(FINDING.c.registration_id.in_(bindparam("ids", expanding=True)))
    .group_by(FINDING.c.registration_id, FINDING.c.strength)
)


_DROP_MIRRORS = delete(FINDING).where(
    FINDING.c.claim_kind == ClaimKind.registration.value,
    FINDING.c.claim_id == bindparam("id"),
    FINDING.c.registration_id.in_(
        select(_REGISTRATION.c.id).where(
            _REGISTRATION.c.status.in_([s.value for s in RegistrationStatus if s.is_open])
        )
    ),
)


KEYS_PER_STATEMENT_STEP = 4
"""The key lookup is built for a multiple of this many keys, the rest padded with keys no
record has: SQLite takes ~2 ms to prepare the statement of a typical lookup (50-odd parts)
and runs it in ~0.2 ms, so a statement per distinct count of keys, not per mix of key
sorts (40 mixes among the bench's 600 checks), keeps the ones in use prepared."""
_NO_KEY = ""  # a key no record has: every stored key starts with its sort's prefix
PREPARED_KEYS = 32
"""`prepare_lookups` prepares the statements for up to this many keys (nearly every name has
fewer; a longer one prepares its own on first use)."""


@functools.cache
def _owners_sql(parts: int, paramstyle: str) -> tuple[str, tuple[str, ...]]:
    """The statement for `parts` (key, kind) pairs in the driver's own placeholders, with
    its parameter names in order: it runs with `exec_driver_sql`, as binding a hundred
    named parameters through SQLAlchemy cost more than SQLite took to run it."""
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


async def _owner_rows(
    connection: AsyncConnection,
    keys: Sequence[str],
    rules: ConflictRules,
    kinds: Sequence[str] | None = None,
) -> Sequence[tuple[str, int]]:
    """(owner kind, owner id) of the owners `_owners_text` picks for these keys, among the
    `kinds` of records (default: those with any key at all).

    Looking a key up for a kind with no records still costs SQLite two index probes and
    the statement's machinery for them; a CRM without opportunities (or a desk with no
    registrations yet) would pay a third of every lookup for nothing. One probe per kind
    first is far cheaper, and reads in the same transaction as the lookup.
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
    `storage.sqlite_inline`), and the first checks after a start no longer pay ~2 to 4 ms
    each to prepare one; on PostgreSQL it prepares them on the connection it borrows.
    """
    sizes = range(KEYS_PER_STATEMENT_STEP, up_to_keys + 1, KEYS_PER_STATEMENT_STEP)
    parts = sorted({count * kinds for count in sizes for kinds in range(1, len(_KINDS) + 1)})
    async with engine.connect() as connection:
        for count in parts:
            await _owner_rows(connection, [_NO_KEY] * count, ConflictRules(), kinds=_KINDS[:1])


def _claim_columns(table: Table, *names: str) -> Any:
    """SELECT the named columns of rows whose id is in the expanding `:ids`."""
    return select(*(table.c[name] for name in names)).where(
        table.c.id.in_(bindparam("ids", expanding=True))
    )


_r = _REGISTRATION.c
_REGISTRATIONS = _claim_columns(
    _REGISTRATION,
    *("id", "partner_id", "status", "created_at", "protected_until", "company", "website"),
    *("contact_email", "country", "products", "name_forms", "reference"),
).where(
    _r.status.in_(bindparam("statuses", expanding=True)),
    or_(_r.protected_until.is_(None), _r.protected_until > bindparam("now")),
)
_ACCOUNTS = _claim_columns(
    ACCOUNT,
    *("id", "name", "domain", "country", "external_id", "is_customer", "is_named"),
    *("owner_slack_id", "owner_email", "name_forms"),
)
_OPPORTUNITIES = _claim_columns(
    OPPORTUNITY,
    *("id", "name", "domain", "external_id", "account_external_id", "owner_slack_id"),
    *("owner_email", "stage", "created_at", "last_activity_at", "name_forms"),
)


class SqlAlchemyConflictRepository:
    """`domain.ports.ConflictRepository` on an AsyncSession (the UoW owns the session)."""

    def __init__(self, session: AsyncSession, rules: ConflictRules) -> None:
        self._session = session
        self._rules = rules
        self._prefix = rules.match.block_prefix

    async def claims_for_keys(
        self,
        keys: Collection[str],
        *,
        exclude_registration_id: int | None,
        active_statuses: Collection[RegistrationStatus],
        now: datetime,
        screen: Screen | None = None,
    ) -> list[Claim]:
        """The claims sharing at least one usable key with the subject (see the module doc);
        with a `screen`, those it rules out are left out before they are built."""
        owners = await self._owners(sorted({key[:KEY_LENGTH] for key in keys}))
        registration_ids = {
            rid for rid in owners[ClaimKind.registration] if rid != exclude_registration_id
        }
        keep = screen.may_match if screen is not None else _keep_all
        return [
            *await self._registrations(registration_ids, active_statuses, now, keep),
            *await self._accounts(owners[ClaimKind.account], keep),
            *await self._opportunities(owners[ClaimKind.opportunity], keep),
        ]

    async def add_findings(
        self,
        registration_id: int,
        findings: Sequence[ConflictFinding],
        *,
        found_at: datetime,
        replace: bool = False,
        mirror_to: Collection[int] = (),
    ) -> None:
        """Insert the findings, and for each registration claim in `mirror_to` the same
        finding on that registration naming this one (so the pair shows on both sides).
        `replace` first drops this registration's older findings and the rows naming it on
        registrations still waiting for a decision (the decided ones keep their record)."""
        if replace:
            await self._session.execute(
                delete(FINDING).where(FINDING.c.registration_id == registration_id)
            )
            await self._session.execute(_DROP_MIRRORS, {"id": registration_id})
        rows = [_finding_columns(registration_id, f, found_at) for f in findings]
        rows += [
            _finding_columns(f.claim_id, _mirrored(f, registration_id), found_at)
            for f in findings
            if f.claim_kind is ClaimKind.registration and f.claim_id in mirror_to
        ]
        if rows:
            await self._session.execute(_INSERT_FINDING, rows)

    async def finding_counts(self, registration_ids: Collection[int]) -> dict[int, FindingCounts]:
        """Conflicts and possible conflicts per registration, in one grouped query."""
        if not registration_ids:
            return {}
        tally: dict[int, dict[str, int]] = defaultdict(dict)
        rows = await self._session.execute(_COUNTS, {"ids": list(registration_ids)})
        for registration_id, strength, count in rows:
            tally[registration_id][strength] = count
        return {
            rid: FindingCounts(
                conflicts=counts.get(Strength.conflict.value, 0),
                possible=counts.get(Strength.possible.value, 0),
            )
            for rid, counts in tally.items()
        }

    async def _owners(self, keys: Sequence[str]) -> dict[ClaimKind, set[int]]:
        """Every owner sharing a strong key and the best weak ones, per kind, in one query."""
        owners: dict[ClaimKind, set[int]] = {kind: set() for kind in ClaimKind}
        if not keys:
            return owners
        connection = await self._session.connection()
        for kind, owner_id in await _owner_rows(connection, keys, self._rules):
            owners[ClaimKind(kind)].add(owner_id)
        return owners

    async def _core(self, statement: Any, params: dict[str, Any]) -> Sequence[Row[Any]]:
        """Rows of a Core statement run on the session's connection: the ORM's handling of a
        plain SELECT cost more than the rows (0.8 ms against 0.47 for 100 candidates)."""
        connection = await self._session.connection()
        return (await connection.execute(statement, params)).all()

    async def _registrations(
        self, ids: set[int], statuses: Collection[RegistrationStatus], now: datetime, keep: Keep
    ) -> list[Claim]:
        if not ids or not statuses:
            return []
        params = {"ids": sorted(ids), "statuses": [s.value for s in statuses], "now": now}
        return [
            registration_claim(row, self._prefix)
            for row in await self._core(_REGISTRATIONS, params)
            if keep(row.company, row.name_forms, row.website, row.contact_email)
        ]

    async def _accounts(self, ids: set[int], keep: Keep) -> list[Claim]:
        if not ids:
            return []
        return [
            account_claim(row, self._prefix)
            for row in await self._core(_ACCOUNTS, {"ids": sorted(ids)})
            if keep(row.name, row.name_forms, row.domain, None)
        ]

    async def _opportunities(self, ids: set[int], keep: Keep) -> list[Claim]:
        if not ids:
            return []
        return [
            opportunity_claim(row, self._prefix)
            for row in await self._core(_OPPORTUNITIES, {"ids": sorted(ids)})
            if keep(row.name, row.name_forms, row.domain, None)
        ]


Keep = Callable[[str, str | None, str | None, str | None], bool]
"""Whether to build a candidate, from its name, stored name forms, website and e-mail."""


def _keep_all(_name: str, _forms: str | None, _domain: str | None, _email: str | None) -> bool:
    return True


# ---------------------------------------------------------------------------- conversions


def _analysed(name: str, row: Any, prefix: int | None) -> CompanyName | None:
    """The row's stored analysis of `name` (`prefix`: the rules' block prefix; None: the
    caller did not select ``name_forms``)."""
    if prefix is None or row.name_forms is None:
        return None
    return load_forms(name, row.name_forms, prefix)


def registration_claim(row: Any, prefix: int | None = None) -> Claim:
    """Mirrors `domain.conflicts.company_ref`, from the columns it reads (with `prefix`,
    the stored name forms too: see `_analysed`)."""
    company = CompanyRef(
        name=row.company,
        domain=row.website or None,
        email=row.contact_email or None,
        country=row.country or None,
        products=frozenset(row.products or ()),
        analysed=_analysed(row.company, row, prefix),
    )
    return Claim(
        kind=ClaimKind.registration,
        id=row.id,
        company=company,
        partner_id=row.partner_id,
        status=RegistrationStatus(row.status),
        created_at=row.created_at,
        protected_until=row.protected_until,
        reference=row.reference,
    )


def account_claim(row: Any, prefix: int | None = None) -> Claim:
    analysed = _analysed(row.name, row, prefix)
    return Claim(
        kind=ClaimKind.account,
        id=row.id,
        company=CompanyRef(
            name=row.name, domain=row.domain, country=row.country, analysed=analysed
        ),
        external_id=row.external_id,
        is_customer=row.is_customer,
        is_named=row.is_named,
        owner_slack_id=row.owner_slack_id,
        owner_email=row.owner_email,
    )


def opportunity_claim(row: Any, prefix: int | None = None) -> Claim:
    analysed = _analysed(row.name, row, prefix)
    return Claim(
        kind=ClaimKind.opportunity,
        id=row.id,
        company=CompanyRef(name=row.name, domain=row.domain, analysed=analysed),
        external_id=row.external_id,
        account_external_id=row.account_external_id,
        owner_slack_id=row.owner_slack_id,
        owner_email=row.owner_email,
        stage=row.stage,
        created_at=row.created_at,
        last_activity_at=row.last_activity_at,
    )


def _finding_columns(
    registration_id: int, finding: ConflictFinding, found_at: datetime
) -> dict[str, Any]:
    return {
        "registration_id": registration_id,
        "claim_kind": finding.claim_kind.value,
        "claim_id": finding.claim_id,
        "strength": finding.strength.value,
        "evidence": [evidence_data(f) for f in finding.evidence],
        "found_at": found_at,
    }


def _mirrored(finding: ConflictFinding, registration_id: int) -> ConflictFinding:
    """The finding as seen from its claim's side: the same evidence, naming registration
    `registration_id` as the claim (only its kind and id are stored)."""
    claim = Claim(ClaimKind.registration, registration_id, finding.claim.company)
    return dataclasses.replace(finding, claim=claim)


def evidence_data(finding: Finding) -> dict[str, Any]:
    """One signal as JSON: what, how strong, its score and what matched."""
    return {
        "signal": finding.signal.value,
        "strength": finding.strength.value,
        "score": finding.score,
        "detail": finding.detail,
    }
