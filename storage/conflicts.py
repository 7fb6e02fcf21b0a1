"""Conflict candidates and findings in SQL: the key lookup narrows, the domain judges.

The lookup reads, for each of the subject's keys and each kind of claim, at most
`key_cap + 1` postings in index order (`company_key (key, owner_kind, owner_id)`), in one
UNION ALL statement. A name key (``n:``, ``i:``, ``a:``, ``t:``) with more postings than the
cap is skipped: it is too common to narrow anything (think ``i:ab`` among a million
accounts). A domain key (``d:``) is specific by nature and never skipped, only truncated to
the first `key_cap` records. So one lookup touches at most keys × 3 × (cap + 1) index
entries however large the CRM is, without counters to keep up to date on every write.

Scoring a candidate costs far more than finding it (its name must be analysed), so at most
`candidate_cap` records of each kind are loaded: first those sharing a domain, name or alias
key, then by the rarity of the initialism and typo-block keys they share (a block shared by
3 records says more than one shared by 150). At a million accounts this keeps a lookup near
20 ms and loses only fuzzy candidates (see `bench/conflict_lookup.py`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, TextClause, delete, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.conflicts import Claim, ClaimKind, ConflictFinding, ConflictRules, FindingCounts
from domain.matching import CompanyRef, Finding, Strength
from domain.registration import RegistrationStatus
from storage.company_keys import KEY_LENGTH
from storage.crm import ACCOUNT, OPPORTUNITY
from storage.models import RegistrationFindingRow, RegistrationRow
from storage.sql import batches

FINDING = cast(Table, RegistrationFindingRow.__table__)
_REGISTRATION = cast(Table, RegistrationRow.__table__)
_DOMAIN_PREFIX = "d:"
# Ranking when there are more candidates than the budget: a shared domain, name or alias
# always makes the cut; initialisms and typo blocks count by rarity (1 / records sharing it).
_STRONG_KEYS = frozenset({"d:", "n:", "a:"})
_STRONG = 1000.0


@functools.cache
def _postings_sql(parts: int) -> TextClause:
    """The capped postings of `parts` (key, kind) pairs in one UNION ALL, as plain SQL.

    Built once per size: composing and compiling the same statement from Core objects on
    every registration cost more than running it.
    """
    one = (
        "SELECT * FROM (SELECT key, owner_kind, owner_id FROM company_key "
        "WHERE key = :k{n} AND owner_kind = :o{n} ORDER BY owner_id LIMIT :limit) AS p{n}"
    )
    return text(" UNION ALL ".join(one.format(n=n) for n in range(parts)))


class SqlAlchemyConflictRepository:
    """`domain.ports.ConflictRepository` on an AsyncSession (the UoW owns the session)."""

    def __init__(self, session: AsyncSession, rules: ConflictRules) -> None:
        self._session = session
        self._rules = rules

    async def claims_for_keys(
        self,
        keys: Collection[str],
        *,
        exclude_registration_id: int | None,
        active_statuses: Collection[RegistrationStatus],
        now: datetime,
    ) -> list[Claim]:
        """The claims sharing at least one usable key with the subject (see the module doc)."""
        owners = await self._owners(sorted({key[:KEY_LENGTH] for key in keys}))
        registration_ids = {
            rid for rid in owners[ClaimKind.registration] if rid != exclude_registration_id
        }
        return [
            *await self._registrations(registration_ids, active_statuses, now),
            *await self._accounts(owners[ClaimKind.account]),
            *await self._opportunities(owners[ClaimKind.opportunity]),
        ]

    async def add_findings(
        self,
        registration_id: int,
        findings: Sequence[ConflictFinding],
        *,
        found_at: datetime,
        replace: bool = False,
    ) -> None:
        """Insert the findings (after dropping the registration's older ones if `replace`)."""
        if replace:
            await self._session.execute(
                delete(FINDING).where(FINDING.c.registration_id == registration_id)
            )
        if findings:
            await self._session.execute(
                insert(FINDING),
                [_finding_columns(registration_id, f, found_at) for f in findings],
            )

    async def finding_counts(self, registration_ids: Collection[int]) -> dict[int, FindingCounts]:
        """Conflicts and possible conflicts per registration, in one grouped query."""
        if not registration_ids:
            return {}
        statement = (
            select(FINDING.c.registration_id, FINDING.c.strength, func.count())
            .where(FINDING.c.registration_id.in_(list(registration_ids)))
            .group_by(FINDING.c.registration_id, FINDING.c.strength)
        )
        tally: dict[int, dict[str, int]] = defaultdict(dict)
        for registration_id, strength, count in await self._session.execute(statement):
            tally[registration_id][strength] = count
        return {
            rid: FindingCounts(
                conflicts=counts.get(Strength.conflict.value, 0),
                possible=counts.get(Strength.possible.value, 0),
            )
            for rid, counts in tally.items()
        }

    async def _owners(self, keys: Sequence[str]) -> dict[ClaimKind, set[int]]:
        """Owners per kind from the capped postings of every (key, kind), best overlap first."""
        owners: dict[ClaimKind, set[int]] = {kind: set() for kind in ClaimKind}
        if not keys:
            return owners
        cap = self._rules.key_cap
        postings: dict[tuple[str, str], list[int]] = defaultdict(list)
        pairs = [(key, kind.value) for key in keys for kind in ClaimKind]
        for chunk in batches(pairs, 90):  # a few hundred parameters per statement
            params: dict[str, Any] = {"limit": cap + 1}
            for n, (key, kind) in enumerate(chunk):
                params[f"k{n}"], params[f"o{n}"] = key, kind
            rows = await self._session.execute(_postings_sql(len(chunk)), params)
            for key, kind, owner_id in rows:
                postings[(key, kind)].append(owner_id)
        overlap: dict[ClaimKind, dict[int, float]] = {
            kind: defaultdict(float) for kind in ClaimKind
        }
        for (key, kind), ids in postings.items():
            if len(ids) > cap and not key.startswith(_DOMAIN_PREFIX):
                continue
            weight = _STRONG if key[:2] in _STRONG_KEYS else 1 / len(ids)
            for owner_id in ids[:cap]:
                overlap[ClaimKind(kind)][owner_id] += weight
        budget = self._rules.candidate_cap
        for kind, counts in overlap.items():
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            owners[kind] = {owner_id for owner_id, _ in ranked[:budget]}
        return owners

    async def _registrations(
        self, ids: set[int], statuses: Collection[RegistrationStatus], now: datetime
    ) -> list[Claim]:
        if not ids or not statuses:
            return []
        r = _REGISTRATION.c
        statement = select(
            r.id,
            r.partner_id,
            r.status,
            r.created_at,
            r.protected_until,
            r.company,
            r.website,
            r.contact_email,
            r.country,
            r.products,
        ).where(
            r.id.in_(sorted(ids)),
            r.status.in_([s.value for s in statuses]),
            or_(r.protected_until.is_(None), r.protected_until > now),
        )
        return [_registration_claim(row) for row in await self._session.execute(statement)]

    async def _accounts(self, ids: set[int]) -> list[Claim]:
        if not ids:
            return []
        statement = select(ACCOUNT).where(ACCOUNT.c.id.in_(sorted(ids)))
        return [_account_claim(row) for row in await self._session.execute(statement)]

    async def _opportunities(self, ids: set[int]) -> list[Claim]:
        if not ids:
            return []
        statement = select(OPPORTUNITY).where(OPPORTUNITY.c.id.in_(sorted(ids)))
        return [_opportunity_claim(row) for row in await self._session.execute(statement)]


# ---------------------------------------------------------------------------- conversions


def _registration_claim(row: Any) -> Claim:
    """Mirrors `domain.conflicts.company_ref`, from the columns it reads."""
    company = CompanyRef(
        name=row.company,
        domain=row.website or None,
        email=row.contact_email or None,
        country=row.country or None,
        products=frozenset(row.products or ()),
    )
    return Claim(
        kind=ClaimKind.registration,
        id=row.id,
        company=company,
        partner_id=row.partner_id,
        status=RegistrationStatus(row.status),
        created_at=row.created_at,
        protected_until=row.protected_until,
    )


def _account_claim(row: Any) -> Claim:
    return Claim(
        kind=ClaimKind.account,
        id=row.id,
        company=CompanyRef(name=row.name, domain=row.domain, country=row.country),
        external_id=row.external_id,
        is_customer=row.is_customer,
        is_named=row.is_named,
        owner_slack_id=row.owner_slack_id,
        owner_email=row.owner_email,
    )


def _opportunity_claim(row: Any) -> Claim:
    return Claim(
        kind=ClaimKind.opportunity,
        id=row.id,
        company=CompanyRef(name=row.name, domain=row.domain),
        external_id=row.external_id,
        account_external_id=row.account_external_id,
        owner_slack_id=row.owner_slack_id,
        owner_email=row.owner_email,
        stage=row.stage,
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


def evidence_data(finding: Finding) -> dict[str, Any]:
    """One signal as JSON: what, how strong, its score and what matched."""
    return {
        "signal": finding.signal.value,
        "strength": finding.strength.value,
        "score": finding.score,
        "detail": finding.detail,
    }
