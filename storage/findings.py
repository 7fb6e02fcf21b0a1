"""The desk's view of a registration's findings, and direct reps' working notes, in SQL.

A finding stores which claim matched and why; the claim itself is read again here, so the
evidence thread shows it as it is now (a rival registration approved since, an opportunity
moved on), with the amounts, partner and owner the desk weighs.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.cases import WorkingNote
from domain.conflicts import ClaimKind
from domain.matching import Finding, Signal, Strength
from domain.ownership import ClaimDetails, StoredFinding
from domain.registration import RegistrationStatus
from storage.claim_rows import account_claim, opportunity_claim, registration_claim
from storage.crm import ACCOUNT, OPPORTUNITY
from storage.models import (
    PartnerRow,
    RegistrationFindingRow,
    RegistrationRow,
    WorkingNoteRow,
)

_FINDING = cast(Table, RegistrationFindingRow.__table__)
_WORKING_NOTE = cast(Table, WorkingNoteRow.__table__)
_REGISTRATION = cast(Table, RegistrationRow.__table__)
_PARTNER = cast(Table, PartnerRow.__table__)
_WORKING_NOTED = (
    select(_WORKING_NOTE.c.registration_id)
    .where(_WORKING_NOTE.c.registration_id.in_(bindparam("ids", expanding=True)))
    .distinct()
)
_OPEN_STATUSES = [s.value for s in RegistrationStatus if s.is_open]
_CITING = (
    select(_FINDING.c.registration_id)
    .join(_REGISTRATION, _REGISTRATION.c.id == _FINDING.c.registration_id)
    .where(
        _FINDING.c.claim_kind == ClaimKind.registration.value,
        _FINDING.c.claim_id.in_(bindparam("ids", expanding=True)),
        _REGISTRATION.c.status.in_(_OPEN_STATUSES),
    )
    .distinct()
)
_STRENGTH_ORDER = {Strength.conflict: 0, Strength.possible: 1, Strength.support: 2}


class SqlAlchemyFindingRepository:
    """`domain.ports.FindingRepository` on an AsyncSession (the UoW owns the session)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_registration(self, registration_id: int) -> list[StoredFinding]:
        """The registration's findings, strongest first, with each claim as it is now."""
        return (await self.for_registrations([registration_id])).get(registration_id, [])

    async def for_registrations(
        self, registration_ids: Collection[int]
    ) -> dict[int, list[StoredFinding]]:
        """`for_registration` of each of `registration_ids` (absent: none found), in four
        queries whatever their number: the findings, then each kind of claim at once."""
        if not registration_ids:
            return {}
        rows = list(
            await self._session.execute(
                select(_FINDING)
                .where(_FINDING.c.registration_id.in_(sorted(registration_ids)))
                .order_by(_FINDING.c.id)
            )
        )
        ids: dict[str, set[int]] = {kind.value: set() for kind in ClaimKind}
        for row in rows:
            ids[row.claim_kind].add(row.claim_id)
        details = {
            **await self._registrations(ids[ClaimKind.registration.value]),
            **await self._accounts(ids[ClaimKind.account.value]),
            **await self._opportunities(ids[ClaimKind.opportunity.value]),
        }
        found: dict[int, list[StoredFinding]] = {}
        for row in rows:
            claim = details.get((ClaimKind(row.claim_kind), row.claim_id))
            if claim is None:
                continue
            found.setdefault(row.registration_id, []).append(
                StoredFinding(
                    details=claim,
                    strength=Strength(row.strength),
                    evidence=tuple(_evidence(item) for item in row.evidence),
                    found_at=row.found_at,
                )
            )
        return {
            rid: sorted(items, key=lambda f: _STRENGTH_ORDER[f.strength])
            for rid, items in found.items()
        }

    async def add_working_note(self, note: WorkingNote) -> None:
        await self._session.execute(
            insert(_WORKING_NOTE).values(
                registration_id=note.registration_id,
                by_user_id=note.by_user_id,
                by_team_id=note.by_team_id,
                at=note.at,
                note=note.note,
                link=note.link,
            )
        )

    async def working_notes(self, registration_id: int) -> list[WorkingNote]:
        statement = (
            select(_WORKING_NOTE)
            .where(_WORKING_NOTE.c.registration_id == registration_id)
            .order_by(_WORKING_NOTE.c.at, _WORKING_NOTE.c.id)
        )
        return [working_note(row) for row in await self._session.execute(statement)]

    async def with_working_notes(self, registration_ids: Collection[int]) -> set[int]:
        if not registration_ids:
            return set()
        return set(await self._session.scalars(_WORKING_NOTED, {"ids": list(registration_ids)}))

    async def citing(self, registration_ids: Collection[int]) -> set[int]:
        """The registrations still waiting for a decision whose findings name any of
        `registration_ids` (leaving those out)."""
        if not registration_ids:
            return set()
        found = set(await self._session.scalars(_CITING, {"ids": list(registration_ids)}))
        return found - set(registration_ids)

    async def _registrations(
        self, ids: Collection[int]
    ) -> dict[tuple[ClaimKind, int], ClaimDetails]:
        if not ids:
            return {}
        r, p = _REGISTRATION.c, _PARTNER.c
        statement = (
            select(
                r.id,
                r.reference,
                r.partner_id,
                r.status,
                r.created_at,
                r.protected_until,
                r.company,
                r.website,
                r.contact_email,
                r.country,
                r.products,
                r.amount,
                r.currency,
                p.name.label("partner_name"),
                p.tier.label("partner_tier"),
                p.manager_user_id,
            )
            .join(_PARTNER, p.id == r.partner_id)
            .where(r.id.in_(sorted(ids)))
        )
        found: dict[tuple[ClaimKind, int], ClaimDetails] = {}
        for row in await self._session.execute(statement):
            claim = registration_claim(row)
            found[(ClaimKind.registration, row.id)] = ClaimDetails(
                claim,
                amount=row.amount,
                currency=row.currency,
                partner_name=row.partner_name,
                partner_tier=row.partner_tier,
                partner_manager=row.manager_user_id,
                company_name=row.company,
            )
        return found

    async def _accounts(self, ids: Collection[int]) -> dict[tuple[ClaimKind, int], ClaimDetails]:
        if not ids:
            return {}
        found: dict[tuple[ClaimKind, int], ClaimDetails] = {}
        for row in await self._session.execute(
            select(ACCOUNT).where(ACCOUNT.c.id.in_(sorted(ids)))
        ):
            claim = account_claim(row)
            found[(ClaimKind.account, row.id)] = ClaimDetails(claim, company_name=row.name)
        return found

    async def _opportunities(
        self, ids: Collection[int]
    ) -> dict[tuple[ClaimKind, int], ClaimDetails]:
        if not ids:
            return {}
        found: dict[tuple[ClaimKind, int], ClaimDetails] = {}
        statement = select(OPPORTUNITY).where(OPPORTUNITY.c.id.in_(sorted(ids)))
        for row in await self._session.execute(statement):
            claim = opportunity_claim(row)
            found[(ClaimKind.opportunity, row.id)] = ClaimDetails(
                claim, amount=row.amount, company_name=row.name
            )
        return found


def working_note(row: Any) -> WorkingNote:
    """From a `working_note` row."""
    return WorkingNote(
        registration_id=row.registration_id,
        by_user_id=row.by_user_id,
        by_team_id=row.by_team_id,
        at=row.at,
        note=row.note,
        link=row.link,
    )


def _evidence(item: dict[str, Any]) -> Finding:
    """One stored signal back as a Finding (see `storage.conflicts.evidence_data`)."""
    return Finding(
        signal=Signal(item["signal"]),
        strength=Strength(item["strength"]),
        score=float(item.get("score", 1.0)),
        detail=str(item.get("detail", "")),
    )
