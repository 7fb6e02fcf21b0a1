"""Registrations in SQL: the `domain.ports.RegistrationRepository` with its audit trail and
references (rows never leave this module)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.actor import Actor
from domain.conflicts import ACTIVE_STATUSES, ClaimKind, ConflictRules, company_ref
from domain.errors import ConcurrentUpdate, DuplicateSubmission, NotFound
from domain.matching import CompanyRef, name_forms
from domain.ports import AuditRecord
from domain.references import format_reference, parse_reference
from domain.registration import (
    AuditEvent,
    DealDetails,
    DealStage,
    Registration,
    RegistrationStatus,
    RejectionReason,
)
from storage.company_keys import replace_keys
from storage.models import AuditEventRow, PartnerRow, RegistrationRow
from storage.sql import rows_affected

_REGISTRATION = cast(Table, RegistrationRow.__table__)
_AUDIT_EVENT = cast(Table, AuditEventRow.__table__)
_PARTNER = cast(Table, PartnerRow.__table__)

_AWAITING_DESK = (RegistrationStatus.submitted, RegistrationStatus.under_review)
# Statements on every submission, built once: composing them per call cost more than running
# them (SQLAlchemy derives a cache key from every new statement object).
_INSERT_REGISTRATION = insert(_REGISTRATION).returning(_REGISTRATION.c.id)
# The partner's next reference number; the UPDATE locks the partner's row until the submitting
# transaction ends, so concurrent submissions (two `dibs serve` on PostgreSQL) take turns.
_NEXT_NUMBER = (
    update(_PARTNER)
    .where(_PARTNER.c.id == bindparam("partner"))
    .values(last_reference_number=_PARTNER.c.last_reference_number + 1)
    .returning(_PARTNER.c.code, _PARTNER.c.last_reference_number)
)
_INSERT_EVENT = insert(_AUDIT_EVENT)
_AUDIT_PAGE = 500
_REGISTRATION_BY_ID = select(_REGISTRATION).where(_REGISTRATION.c.id == bindparam("id"))
_REGISTRATION_BY_REFERENCE = select(_REGISTRATION).where(
    _REGISTRATION.c.reference == bindparam("reference")
)
_REGISTRATION_BY_SUBMISSION = select(_REGISTRATION).where(
    _REGISTRATION.c.submission_key == bindparam("key")
)
_REGISTRATIONS_BY_IDS = select(_REGISTRATION).where(
    _REGISTRATION.c.id.in_(bindparam("ids", expanding=True))
)


def is_duplicate_submission(error: IntegrityError) -> bool:
    """Whether the integrity error is the unique `submission_key` (same form sent twice)."""
    return "submission_key" in str(error.orig)


def duplicate_submission() -> DuplicateSubmission:
    """The domain error for a form submitted twice."""
    return DuplicateSubmission("This form was already submitted; the first one stands.")


class SqlAlchemyRegistrationRepository:
    """`domain.ports.RegistrationRepository` on an AsyncSession (the UoW owns the session).

    It keeps each registration's candidate keys (`company_key`) in step with its details:
    written on `add`, replaced on `save` when the customer it names changed.
    """

    def __init__(self, session: AsyncSession, rules: ConflictRules | None = None) -> None:
        self._session = session
        self._rules = rules or ConflictRules()
        self._indexed: dict[int, CompanyRef | None] = {}  # whose keys are stored (None: none)

    async def add(self, registration: Registration) -> None:
        """Insert the registration and its pending audit events; assigns `registration.id`
        and its reference, the partner's code and next number (`NW-0007`)."""
        if registration.id is not None:
            raise ValueError(f"registration {registration.id} is already stored")
        numbered = (
            await self._session.execute(_NEXT_NUMBER, {"partner": registration.partner_id})
        ).first()
        if numbered is None:
            raise NotFound("That partner no longer exists.")
        reference = format_reference(numbered.code, numbered.last_reference_number)
        try:
            inserted = await self._session.execute(
                _INSERT_REGISTRATION,
                {**_registration_columns(registration), "reference": reference},
            )
            registration.id = inserted.scalar_one()
            registration.assigned_reference = reference
        except IntegrityError as error:
            if is_duplicate_submission(error):
                raise duplicate_submission() from error
            raise
        await self._add_events(registration.id, registration)
        await self._index(registration.id, registration, fresh=True)

    async def get(self, registration_id: int) -> Registration | None:
        """The registration as stored now, or None."""
        return await self._one(_REGISTRATION_BY_ID, {"id": registration_id})

    async def get_many(self, registration_ids: Collection[int]) -> dict[int, Registration]:
        """The registrations that exist among `registration_ids`, by id (one query)."""
        if not registration_ids:
            return {}
        found = await self._list(_REGISTRATIONS_BY_IDS, {"ids": list(registration_ids)})
        return {registration.id: registration for registration in found if registration.id}

    async def get_by_submission_key(self, key: str) -> Registration | None:
        """The registration created by the form submission `key`, or None."""
        return await self._one(_REGISTRATION_BY_SUBMISSION, {"key": key})

    async def get_by_reference(self, text: str) -> Registration | None:
        """The registration a typed reference names (`NW-0007`, `nw-7 `; a legacy `DR-12`
        is registration 12's own), or None, also when `text` is no reference at all."""
        reference = parse_reference(text)
        if reference is None:
            return None
        return await self._one(_REGISTRATION_BY_REFERENCE, {"reference": reference})

    async def partner_numbered_with(self, code: str) -> int | None:
        """The partner whose registrations' references were made with `code`, if any (a
        code never numbers two partners' registrations, so at most one has)."""
        statement = (
            select(_REGISTRATION.c.partner_id)
            .where(_REGISTRATION.c.reference.like(f"{code}-%"))
            .limit(1)
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def save(self, registration: Registration, *, expected_version: int) -> None:
        """Conditional UPDATE on (id, expected_version); ConcurrentUpdate if no row matched."""
        if registration.id is None:
            raise ValueError("save() needs a stored registration; use add()")
        statement = (
            update(_REGISTRATION)
            .where(
                RegistrationRow.id == registration.id,
                RegistrationRow.version == expected_version,
            )
            .values(**_registration_columns(registration))
            .execution_options(synchronize_session=False)
        )
        result = await self._session.execute(statement)
        if rows_affected(result) != 1:
            raise ConcurrentUpdate(
                f"{registration.reference} was changed by someone else; reload and retry."
            )
        await self._add_events(registration.id, registration)
        await self._index(registration.id, registration)

    async def list_by_partner(self, partner_id: int, *, limit: int = 50) -> list[Registration]:
        """A partner's registrations, newest first."""
        statement = (
            select(_REGISTRATION)
            .where(RegistrationRow.partner_id == partner_id)
            .order_by(RegistrationRow.created_at.desc(), RegistrationRow.id.desc())
            .limit(limit)
        )
        return await self._list(statement)

    async def list_open(self, *, limit: int = 50) -> list[Registration]:
        """Registrations waiting for a desk decision, oldest first."""
        statement = (
            select(_REGISTRATION)
            .where(RegistrationRow.status.in_([s.value for s in _AWAITING_DESK]))
            .order_by(RegistrationRow.created_at, RegistrationRow.id)
            .limit(limit)
        )
        return await self._list(statement)

    async def audit_log(self) -> AsyncIterator[AuditRecord]:
        """Every audit event, oldest first, streamed in pages rather than loaded at once."""
        statement = (
            select(_AUDIT_EVENT, _REGISTRATION.c.reference)
            .join(_REGISTRATION, _REGISTRATION.c.id == _AUDIT_EVENT.c.registration_id)
            .order_by(_AUDIT_EVENT.c.at, _AUDIT_EVENT.c.id)
            .execution_options(yield_per=_AUDIT_PAGE)
        )
        rows = await self._session.stream(statement)
        async for row in rows:
            yield AuditRecord(row.registration_id, _event_to_domain(row), row.reference)

    async def history(self, registration_id: int) -> list[AuditEvent]:
        """One registration's audit events, oldest first."""
        statement = (
            select(AuditEventRow)
            .where(AuditEventRow.registration_id == registration_id)
            .order_by(AuditEventRow.at, AuditEventRow.id)
        )
        return [_event_to_domain(row) for row in await self._session.scalars(statement)]

    async def _one(self, statement: Any, params: dict[str, Any]) -> Registration | None:
        row = (await self._session.execute(statement, params)).first()
        return None if row is None else self._loaded(row)

    async def _list(
        self, statement: Any, params: dict[str, Any] | None = None
    ) -> list[Registration]:
        """Core rows, not ORM instances: the hot paths skip the identity map entirely."""
        return [self._loaded(row) for row in await self._session.execute(statement, params)]

    def _loaded(self, row: Any) -> Registration:
        registration = _registration_to_domain(row)
        self._indexed[row.id] = _indexed_ref(registration)
        return registration

    async def _index(
        self, registration_id: int, registration: Registration, *, fresh: bool = False
    ) -> None:
        """Keep the candidate keys in step: the customer's keys while the registration holds a
        claim, none once it is closed (so closed ones never crowd out live candidates)."""
        ref = _indexed_ref(registration)
        if not fresh and registration_id in self._indexed and self._indexed[registration_id] == ref:
            return
        keys = frozenset() if ref is None else self._rules.keys(ref)
        await replace_keys(
            self._session, ClaimKind.registration, {registration_id: keys}, fresh=fresh
        )
        self._indexed[registration_id] = ref

    async def _add_events(self, registration_id: int, registration: Registration) -> None:
        events = [_event_columns(registration_id, event) for event in registration.pending_events()]
        if events:
            await self._session.execute(_INSERT_EVENT, events)


# ---------------------------------------------------------------------------- conversions


def _indexed_ref(registration: Registration) -> CompanyRef | None:
    """The customer whose keys a registration keeps in the index (None once it is closed)."""
    if registration.status not in ACTIVE_STATUSES:
        return None
    return company_ref(registration.details)


def _registration_columns(registration: Registration) -> dict[str, Any]:
    """Every column but the id, from the domain object (insert and update share it)."""
    details, by, decided = registration.details, registration.submitted_by, registration.decided_by
    return {
        "partner_id": registration.partner_id,
        "company": details.company,
        "name_forms": name_forms(details.company),
        "website": details.website,
        "country": details.country,
        "amount": details.amount,
        "currency": details.currency,
        "close_date": details.close_date,
        "products": list(details.products),
        "contact_name": details.contact_name,
        "contact_email": details.contact_email,
        "stage": None if details.stage is None else details.stage.value,
        "notes": details.notes,
        "submitted_by_team_id": by.team_id,
        "submitted_by_user_id": by.user_id,
        "submitted_by_enterprise_id": by.enterprise_id,
        "status": registration.status.value,
        "created_at": registration.created_at,
        "updated_at": registration.updated_at,
        "decision_due_at": registration.decision_due_at,
        "decided_at": registration.decided_at,
        "decided_by_team_id": None if decided is None else decided.team_id,
        "decided_by_user_id": None if decided is None else decided.user_id,
        "decided_by_enterprise_id": None if decided is None else decided.enterprise_id,
        "protected_until": registration.protected_until,
        "rejection_reason": (
            None if registration.rejection_reason is None else registration.rejection_reason.value
        ),
        "decision_note": registration.decision_note,
        "info_request": registration.info_request,
        "submission_key": registration.submission_key,
        "version": registration.version,
    }


def _registration_to_domain(row: Any) -> Registration:
    """From a `registration` row (ORM instance or Core row: both have the column names)."""
    details = DealDetails(
        company=row.company,
        website=row.website,
        country=row.country,
        amount=row.amount,
        currency=row.currency,
        close_date=row.close_date,
        products=tuple(row.products),
        contact_name=row.contact_name,
        contact_email=row.contact_email,
        stage=None if row.stage is None else DealStage(row.stage),
        notes=row.notes,
    )
    decided_by = (
        None
        if row.decided_by_team_id is None or row.decided_by_user_id is None
        else Actor(row.decided_by_team_id, row.decided_by_user_id, row.decided_by_enterprise_id)
    )
    return Registration(
        id=row.id,
        partner_id=row.partner_id,
        submitted_by=Actor(
            row.submitted_by_team_id, row.submitted_by_user_id, row.submitted_by_enterprise_id
        ),
        details=details,
        status=RegistrationStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        decision_due_at=row.decision_due_at,
        version=row.version,
        submission_key=row.submission_key,
        decided_at=row.decided_at,
        decided_by=decided_by,
        protected_until=row.protected_until,
        rejection_reason=(
            None if row.rejection_reason is None else RejectionReason(row.rejection_reason)
        ),
        decision_note=row.decision_note,
        info_request=row.info_request,
        assigned_reference=row.reference,
    )


def _event_columns(registration_id: int, event: AuditEvent) -> dict[str, Any]:
    return {
        "registration_id": registration_id,
        "at": event.at,
        "actor_team_id": event.actor.team_id,
        "actor_user_id": event.actor.user_id,
        "actor_enterprise_id": event.actor.enterprise_id,
        "action": event.action,
        "from_status": None if event.from_status is None else event.from_status.value,
        "to_status": event.to_status.value,
        "reason": event.reason,
    }


def _event_to_domain(row: Any) -> AuditEvent:
    return AuditEvent(
        at=row.at,
        actor=Actor(row.actor_team_id, row.actor_user_id, row.actor_enterprise_id),
        action=row.action,
        from_status=None if row.from_status is None else RegistrationStatus(row.from_status),
        to_status=RegistrationStatus(row.to_status),
        reason=row.reason,
    )
