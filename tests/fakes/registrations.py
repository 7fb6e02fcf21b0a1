"""Registrations and partners in memory."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, Collection

from domain.conflicts import ACTIVE_STATUSES, ClaimKind, company_ref
from domain.errors import ConcurrentUpdate, DuplicateSubmission, InvalidInput, NotFound
from domain.partner import Partner
from domain.ports import AuditRecord
from domain.references import format_reference
from domain.references import parse_reference as parsed
from domain.registration import AuditEvent, Registration
from tests.fakes.data import Transaction


class FakeRegistrations:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, registration: Registration) -> None:
        if registration.id is not None:
            raise ValueError(f"registration {registration.id} is already stored")
        data = self._tx.data
        partner = data.partners.get(registration.partner_id)
        if partner is None or partner.code is None:
            raise NotFound("That partner no longer exists.")
        key = registration.submission_key
        if key is not None and any(r.submission_key == key for r in data.registrations.values()):
            raise DuplicateSubmission("This form was already submitted; the first one stands.")
        number = data.numbered.get(registration.partner_id, 0) + 1
        registration.id = rid = self._tx.storage.next_id("registration")
        registration.assigned_reference = format_reference(partner.code, number)
        self._tx.added.add(rid)
        if key is not None:
            self._tx.keys_taken.add(key)
        self._store(registration)
        self._tx.put("numbered", registration.partner_id, number)

    async def get(self, registration_id: int) -> Registration | None:
        found = self._tx.data.registrations.get(registration_id)
        return copy.deepcopy(found)

    async def get_many(self, registration_ids: Collection[int]) -> dict[int, Registration]:
        found = self._tx.data.registrations
        return {i: copy.deepcopy(found[i]) for i in registration_ids if i in found}

    async def get_by_submission_key(self, key: str) -> Registration | None:
        return self._first(lambda r: r.submission_key == key)

    async def get_by_reference(self, text: str) -> Registration | None:
        reference = parsed(text)
        return None if reference is None else self._first(lambda r: r.reference == reference)

    async def partner_numbered_with(self, code: str) -> int | None:
        found = self._first(lambda r: (r.assigned_reference or "").startswith(f"{code}-"))
        return None if found is None else found.partner_id

    async def save(self, registration: Registration, *, expected_version: int) -> None:
        if registration.id is None:
            raise ValueError("save() needs a stored registration; use add()")
        stored = self._tx.data.registrations.get(registration.id)
        if stored is None or stored.version != expected_version:
            raise ConcurrentUpdate(
                f"{registration.reference} was changed by someone else; reload and retry."
            )
        if registration.id not in self._tx.added:
            self._tx.saved_at.setdefault(registration.id, expected_version)
        self._store(registration)

    async def list_by_partner(self, partner_id: int, *, limit: int = 50) -> list[Registration]:
        mine = [r for r in self._tx.data.registrations.values() if r.partner_id == partner_id]
        mine.sort(key=lambda r: (r.created_at, r.id or 0), reverse=True)
        return copy.deepcopy(mine[:limit])

    async def list_open(self, *, limit: int = 50) -> list[Registration]:
        waiting = [r for r in self._tx.data.registrations.values() if r.status.awaits_desk]
        waiting.sort(key=lambda r: (r.created_at, r.id or 0))
        return copy.deepcopy(waiting[:limit])

    async def audit_log(self) -> AsyncIterator[AuditRecord]:
        data = self._tx.data
        for _, rid, event in sorted(data.events, key=lambda e: (e[2].at, e[0])):
            yield AuditRecord(rid, event, data.registrations[rid].reference)

    async def history(self, registration_id: int) -> list[AuditEvent]:
        mine = [e for e in self._tx.data.events if e[1] == registration_id]
        return [event for _, _, event in sorted(mine, key=lambda e: (e[2].at, e[0]))]

    def _first(self, wanted: Callable[[Registration], bool]) -> Registration | None:
        found = self._tx.data.registrations
        return copy.deepcopy(next((found[i] for i in sorted(found) if wanted(found[i])), None))

    def _store(self, registration: Registration) -> None:
        """Write the registration as it is now with its pending events, and its keys: the
        customer's while it holds a claim, none once it is closed (as storage does)."""
        assert registration.id is not None
        rid, storage = registration.id, self._tx.storage
        events = [(storage.next_id("event"), rid, e) for e in registration.pending_events()]
        self._tx.put("registrations", rid, registration)
        self._tx.extend("events", events)
        active = registration.status in ACTIVE_STATUSES
        keys = storage.rules.keys(company_ref(registration.details)) if active else frozenset()
        self._tx.index(ClaimKind.registration, rid, keys)


# ---------------------------------------------------------------------------- partners


class FakePartners:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, partner: Partner) -> None:
        if partner.id is not None:
            raise ValueError(f"partner {partner.id} is already stored")
        if partner.code is None:
            raise ValueError("a partner needs a code before it is stored")
        self._check_unique(partner)
        partner.id = self._tx.storage.next_id("partner")
        self._store(partner)

    async def save(self, partner: Partner) -> None:
        if partner.id not in self._tx.data.partners:
            raise NotFound("That partner no longer exists.")
        self._check_unique(partner)
        self._store(partner)

    async def get(self, partner_id: int) -> Partner | None:
        return copy.deepcopy(self._tx.data.partners.get(partner_id))

    async def get_many(self, partner_ids: Collection[int]) -> dict[int, Partner]:
        found = self._tx.data.partners
        return {i: copy.deepcopy(found[i]) for i in partner_ids if i in found}

    async def get_by_channel(self, channel_id: str) -> Partner | None:
        found = self._where(lambda p: p.channel_id == channel_id)
        return found[0] if found else None

    async def list_all(self) -> list[Partner]:
        return sorted(self._where(lambda _: True), key=lambda p: (p.name, p.id or 0))

    async def find_for_actor(
        self, *, team_id: str, enterprise_id: str | None, channel_id: str | None
    ) -> list[Partner]:
        return self._where(
            lambda p: (
                p.slack_team_id == team_id
                or bool(enterprise_id and p.slack_enterprise_id == enterprise_id)
                or bool(channel_id and p.channel_id == channel_id)
            )
        )

    def _where(self, wanted: Callable[[Partner], bool]) -> list[Partner]:
        found = self._tx.data.partners
        return [copy.deepcopy(found[i]) for i in sorted(found) if wanted(found[i])]

    def _check_unique(self, partner: Partner) -> None:
        for other in self._tx.data.partners.values():
            if other.id == partner.id:
                continue
            if other.code == partner.code:
                raise InvalidInput(
                    f"The code {partner.code} was just taken by another partner; pick another.",
                    field="code",
                )
            if other.channel_id == partner.channel_id:
                raise ValueError(f"channel {partner.channel_id} is linked to another partner")

    def _store(self, partner: Partner) -> None:
        self._tx.put("partners", partner.id, partner)
