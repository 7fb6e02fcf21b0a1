"""The registration repository: round trips, audit trail, lists, and its write guards."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.actor import Actor
from domain.errors import ConcurrentUpdate, DuplicateSubmission, NotFound
from domain.partner import Partner
from domain.registration import (
    DealStage,
    Registration,
    RegistrationStatus,
    RejectionReason,
)
from domain.slack_ids import SlackEnterpriseId, SlackTeamId, SlackUserId
from tests.builders import (
    NOW,
    PROGRAM,
    a_partner,
    a_registration,
    a_rep,
    an_approver,
    some_details,
)
from tests.integration.conftest import NewUow

CEST = timezone(timedelta(hours=2))


def every_field_set(partner_id: int) -> Registration:
    """A registration with every optional field filled, times given in a non-UTC zone."""
    return Registration(
        partner_id=partner_id,
        submitted_by=Actor(
            SlackTeamId("T0ACME"), SlackUserId("U0REP"), SlackEnterpriseId("E0GRID")
        ),
        details=some_details(
            amount=Decimal("999999999999.99"),
            close_date=date(2025, 12, 31),
            products=("Cloud", "Support", "Training"),
            stage=DealStage.negotiation,
        ),
        status=RegistrationStatus.rejected,
        created_at=datetime(2025, 3, 3, 11, 30, 15, 123456, tzinfo=CEST),
        updated_at=datetime(2025, 3, 4, 8, 0, tzinfo=UTC),
        decision_due_at=datetime(2025, 3, 5, 11, 30, tzinfo=CEST),
        version=3,
        submission_key="view-V0123:hash",
        decided_at=datetime(2025, 3, 4, 8, 0, tzinfo=UTC),
        decided_by=Actor(
            SlackTeamId("T0HOST"), SlackUserId("U0DESK1"), SlackEnterpriseId("E0HOST")
        ),
        protected_until=datetime(2025, 6, 1, tzinfo=UTC),
        rejection_reason=RejectionReason.other,
        decision_note="Customer asked for direct",
        info_request="Who is the economic buyer?",
    )


async def add_and_commit(new_uow: NewUow, registration: Registration) -> None:
    async with new_uow() as uow:
        await uow.registrations.add(registration)
        await uow.commit()


class TestRoundTrip:
    async def test_registration_comes_back_with_every_field(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        registration = every_field_set(partner.id)
        await add_and_commit(new_uow, registration)

        async with new_uow() as uow:
            assert registration.id is not None
            loaded = await uow.registrations.get(registration.id)

        assert loaded == registration
        assert loaded.details.amount == Decimal("999999999999.99")
        assert loaded.details.products == ("Cloud", "Support", "Training")

    async def test_timestamps_read_back_as_utc(self, new_uow: NewUow, partner: Partner) -> None:
        assert partner.id is not None
        registration = every_field_set(partner.id)
        await add_and_commit(new_uow, registration)

        async with new_uow() as uow:
            assert registration.id is not None
            loaded = await uow.registrations.get(registration.id)

        assert loaded is not None
        assert loaded.created_at.tzinfo is UTC
        assert loaded.created_at == datetime(2025, 3, 3, 9, 30, 15, 123456, tzinfo=UTC)
        assert loaded.decided_at is not None
        assert loaded.decided_at.tzinfo is UTC

    async def test_minimal_registration_keeps_its_blanks(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        details = some_details(contact_name=None, contact_email=None, stage=None, notes=None)
        registration = a_registration(partner.id, id=None, details=details)
        await add_and_commit(new_uow, registration)

        async with new_uow() as uow:
            assert registration.id is not None
            loaded = await uow.registrations.get(registration.id)

        assert loaded == registration
        assert loaded.decided_by is None

    async def test_unknown_id_is_none(self, new_uow: NewUow) -> None:
        async with new_uow() as fresh:
            assert await fresh.registrations.get(4242) is None

    async def test_found_by_submission_key(self, new_uow: NewUow, partner: Partner) -> None:
        assert partner.id is not None
        registration = a_registration(partner.id, id=None, submission_key="view-1")
        await add_and_commit(new_uow, registration)

        async with new_uow() as uow:
            found = await uow.registrations.get_by_submission_key("view-1")
            missing = await uow.registrations.get_by_submission_key("view-2")

        assert found is not None
        assert found.id == registration.id
        assert missing is None


class TestAuditTrail:
    async def test_events_are_saved_in_order_across_transitions(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        registration = a_registration(partner.id, id=None)
        await add_and_commit(new_uow, registration)
        async with new_uow() as uow:
            assert registration.id is not None
            stored = await uow.registrations.get(registration.id)
            assert stored is not None
            stored.request_info(by=an_approver(), now=NOW + timedelta(hours=1), question="Who?")
            await uow.registrations.save(stored, expected_version=1)
            await uow.commit()

        async with new_uow() as uow:
            records = [record async for record in uow.registrations.audit_log()]

        assert [(r.event.action, r.event.from_status, r.event.to_status) for r in records] == [
            ("submit", None, RegistrationStatus.submitted),
            ("review", RegistrationStatus.submitted, RegistrationStatus.under_review),
            ("request_info", RegistrationStatus.under_review, RegistrationStatus.info_requested),
        ]
        assert {r.registration_id for r in records} == {registration.id}
        assert records[2].event.actor == an_approver()
        assert records[2].event.reason == "Who?"
        assert records[2].event.at == NOW + timedelta(hours=1)

    async def test_saved_events_are_not_saved_twice(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        registration = a_registration(partner.id, id=None)
        async with new_uow() as uow:
            await uow.registrations.add(registration)
            registration.approve(by=an_approver(), now=NOW, protection=PROGRAM.protection)
            await uow.registrations.save(registration, expected_version=1)
            await uow.commit()

        async with new_uow() as uow:
            actions = [record.event.action async for record in uow.registrations.audit_log()]

        assert actions == ["submit", "review", "approve"]

    async def test_audit_log_streams_every_registration_oldest_first(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        later = a_registration(partner.id, id=None, now=NOW + timedelta(days=1))
        earlier = a_registration(partner.id, id=None, now=NOW)
        async with new_uow() as uow:
            await uow.registrations.add(later)
            await uow.registrations.add(earlier)
            await uow.commit()

        async with new_uow() as uow:
            records = [record async for record in uow.registrations.audit_log()]

        assert [r.registration_id for r in records] == [earlier.id, earlier.id, later.id, later.id]


class TestLists:
    async def test_partner_sees_only_its_own_newest_first(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        other = a_partner(id=None)
        async with new_uow() as uow:
            await uow.partners.add(other)
            assert other.id is not None
            first = a_registration(partner.id, id=None, now=NOW)
            second = a_registration(partner.id, id=None, now=NOW + timedelta(hours=1))
            foreign = a_registration(other.id, id=None, now=NOW + timedelta(hours=2))
            for registration in (first, second, foreign):
                await uow.registrations.add(registration)
            await uow.commit()

        async with new_uow() as uow:
            mine = await uow.registrations.list_by_partner(partner.id)
            limited = await uow.registrations.list_by_partner(partner.id, limit=1)

        assert [r.id for r in mine] == [second.id, first.id]
        assert [r.id for r in limited] == [second.id]

    async def test_open_lists_only_those_awaiting_the_desk_oldest_first(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        waiting_long = a_registration(partner.id, id=None, now=NOW)
        waiting = a_registration(partner.id, id=None, now=NOW + timedelta(hours=1))
        approved = a_registration(partner.id, id=None, now=NOW - timedelta(days=1))
        approved.approve(by=an_approver(), now=NOW, protection=PROGRAM.protection)
        asked = a_registration(partner.id, id=None, now=NOW - timedelta(days=2))
        asked.request_info(by=an_approver(), now=NOW, question="Budget?")
        async with new_uow() as uow:
            for registration in (waiting, approved, asked, waiting_long):
                await uow.registrations.add(registration)
            await uow.commit()

        async with new_uow() as uow:
            open_ = await uow.registrations.list_open()

        assert [r.id for r in open_] == [waiting_long.id, waiting.id]


class TestWriteGuards:
    async def test_save_with_a_stale_version_raises_concurrent_update(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        registration = a_registration(partner.id, id=None)
        await add_and_commit(new_uow, registration)
        assert registration.id is not None
        async with new_uow() as uow:
            stale = await uow.registrations.get(registration.id)
        async with new_uow() as uow:
            fresh = await uow.registrations.get(registration.id)
            assert fresh is not None
            fresh.approve(by=an_approver(0), now=NOW, protection=PROGRAM.protection)
            await uow.registrations.save(fresh, expected_version=1)
            await uow.commit()

        assert stale is not None
        stale.reject(by=an_approver(1), now=NOW, reason=RejectionReason.duplicate)
        async with new_uow() as uow:
            with pytest.raises(ConcurrentUpdate):
                await uow.registrations.save(stale, expected_version=1)

        async with new_uow() as uow:
            stored = await uow.registrations.get(registration.id)
            actions = [record.event.action async for record in uow.registrations.audit_log()]
        assert stored is not None
        assert stored.status is RegistrationStatus.approved
        assert stored.version == 2
        assert actions == ["submit", "review", "approve"]

    async def test_second_registration_with_the_same_submission_key_is_a_duplicate(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        async with new_uow() as uow:
            await uow.registrations.add(
                a_registration(partner.id, id=None, submission_key="view-7")
            )
            await uow.commit()

        with pytest.raises(DuplicateSubmission):  # at add() or at commit(), both are allowed
            await add_and_commit(
                new_uow, a_registration(partner.id, id=None, submission_key="view-7")
            )

        async with new_uow() as uow:
            assert len(await uow.registrations.list_by_partner(partner.id)) == 1

    async def test_registrations_without_a_key_never_collide(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        async with new_uow() as uow:
            await uow.registrations.add(a_registration(partner.id, id=None))
            await uow.registrations.add(a_registration(partner.id, id=None))
            await uow.commit()

        async with new_uow() as uow:
            assert len(await uow.registrations.list_by_partner(partner.id)) == 2

    async def test_registration_needs_an_existing_partner(self, new_uow: NewUow) -> None:
        async with new_uow() as uow:
            with pytest.raises(NotFound, match="That partner no longer exists"):
                await uow.registrations.add(a_registration(4242, id=None, by=a_rep()))
