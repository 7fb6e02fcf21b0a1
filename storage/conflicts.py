"""Conflict candidates and findings in SQL: the key lookup narrows, the domain judges.

Candidates come from the key lookup (`storage.candidate_lookup`); each candidate row carries
the analysis its record stored (``name_forms``): a `Screen` given by the caller reads it as
text and leaves out the rows that cannot match before any is built, and the rest are built
with it, so judging them does not analyse their names again. Findings are stored with the
registration that found them, and on the registrations they name that still wait (so a
pair shows on both sides).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.conflicts import Claim, ClaimKind, ConflictFinding, ConflictRules, FindingCounts
from domain.matching import Finding, Screen, Strength
from domain.registration import RegistrationStatus
from storage.candidate_lookup import owner_rows
from storage.claim_rows import account_claim, opportunity_claim, registration_claim
from storage.company_keys import KEY_LENGTH
from storage.crm import ACCOUNT, OPPORTUNITY
from storage.models import RegistrationFindingRow, RegistrationRow

FINDING = cast(Table, RegistrationFindingRow.__table__)
_REGISTRATION = cast(Table, RegistrationRow.__table__)
_INSERT_FINDING = insert(FINDING)
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
        for kind, owner_id in await owner_rows(connection, keys, self._rules):
            owners[ClaimKind(kind)].add(owner_id)
        return owners

    async def _core(self, statement: Any, params: dict[str, Any]) -> Sequence[Row[Any]]:
        """Rows of a Core statement run on the session's connection: the ORM's handling of a
        plain SELECT costs more than the rows themselves."""
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
