"""What a batch of outbox messages shows, read in one go (`domain.ports.DeliverySnapshots`)."""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.cases import WorkingNote
from domain.deliveries import DeliverySnapshot, MessageRef
from domain.messages import Launcher, MessageKind, OutboxMessage
from domain.ports import (
    ConflictRepository,
    FindingRepository,
    PartnerRepository,
    RegistrationRepository,
)
from storage.findings import working_note
from storage.models import WorkingNoteRow
from storage.outbox import PAGE_KINDS, REFS_OF

_WORKING_NOTE = cast(Table, WorkingNoteRow.__table__)
_WORKING_NOTES_OF = (
    select(_WORKING_NOTE)
    .where(_WORKING_NOTE.c.registration_id.in_(bindparam("ids", expanding=True)))
    .order_by(_WORKING_NOTE.c.at, _WORKING_NOTE.c.id)
)
_CASE = frozenset({MessageKind.review_card, MessageKind.evidence, MessageKind.evidence_page})
"""Kinds that show the case: its findings as they are now and the working notes."""
_EVIDENCE = frozenset({MessageKind.evidence, MessageKind.evidence_page})
_EVIDENCE_REFS = [MessageKind.evidence.value, *PAGE_KINDS]


class SqlAlchemyDeliveries:
    """`domain.ports.DeliverySnapshots`: at most nine queries a batch, one per thing it shows."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        registrations: RegistrationRepository,
        partners: PartnerRepository,
        conflicts: ConflictRepository,
        findings: FindingRepository,
    ) -> None:
        self._session = session
        self._registrations = registrations
        self._partners = partners
        self._conflicts = conflicts
        self._findings = findings

    async def snapshot(self, messages: Collection[OutboxMessage]) -> DeliverySnapshot:
        """The registrations and partners, posted cards, evidence heads and pages, the
        partner cards' finding counts, the cases' findings and working notes."""
        launched = {m.partner_id for m in messages if isinstance(m, Launcher)}
        shown = [m for m in messages if not isinstance(m, Launcher)]
        registrations = await self._registrations.get_many({m.registration_id for m in shown})
        partner_ids = {r.partner_id for r in registrations.values()} | launched
        partners = await self._partners.get_many(partner_ids)
        counts = await self._conflicts.finding_counts(
            {m.registration_id for m in shown if m.kind is MessageKind.partner_card}
        )
        cases = {
            m.registration_id
            for m in shown
            if m.kind in _CASE and m.registration_id in registrations
        }
        findings = await self._findings.for_registrations(cases)
        working: dict[int, list[WorkingNote]] = {}
        if cases:
            for row in await self._session.execute(_WORKING_NOTES_OF, {"ids": sorted(cases)}):
                working.setdefault(row.registration_id, []).append(working_note(row))
        refs, pages = await self._posted(shown, set(registrations))
        return DeliverySnapshot(
            registrations=registrations,
            partners=partners,
            refs=refs,
            pages=pages,
            counts=counts,
            findings=findings,
            working=working,
        )

    async def _posted(
        self, shown: Collection[OutboxMessage], registration_ids: Collection[int]
    ) -> tuple[dict[tuple[MessageKind, int], MessageRef], dict[int, dict[int, MessageRef]]]:
        """The cards the messages live on or under, and the evidence heads and pages posted
        of those showing evidence, in one query on the refs' primary key."""
        kinds: set[str] = set()
        for message in shown:
            card = message.kind.card
            if card is not None:
                kinds.add(card.value)
            if message.kind in _EVIDENCE:
                kinds.update(_EVIDENCE_REFS)
        refs: dict[tuple[MessageKind, int], MessageRef] = {}
        pages: dict[int, dict[int, MessageRef]] = {}
        if not kinds or not registration_ids:
            return refs, pages
        rows = await self._session.execute(
            REFS_OF, {"kinds": sorted(kinds), "ids": sorted(registration_ids)}
        )
        for row in rows:
            ref = MessageRef(row.channel_id, row.ts)
            number = PAGE_KINDS.get(row.kind)
            if number is None:
                refs[(MessageKind(row.kind), row.registration_id)] = ref
            else:
                pages.setdefault(row.registration_id, {})[number] = ref
        return refs, pages
