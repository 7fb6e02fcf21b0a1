"""The fake unit of work keeps the promises of `domain.ports.UnitOfWork` that the services
rely on: nothing is written without a commit, a stale save or a taken submission key fails,
and ids and references are given as storage gives them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.errors import ConcurrentUpdate, DuplicateSubmission, NotFound
from domain.messages import MessageKind, ReviewCard
from domain.ports import UnitOfWork
from domain.registration import RegistrationStatus
from tests.builders import NOW, PROGRAM, a_partner, a_registration, an_approver
from tests.fakes import FakeStorage, FakeUnitOfWork, FixedClock

# mypy --strict checks that the fake is a UnitOfWork, and its storage a factory of them.
_IS_A_UNIT_OF_WORK: UnitOfWork = FakeUnitOfWork(FakeStorage())
_IS_A_FACTORY: Callable[[], UnitOfWork] = FakeStorage().uow


@pytest.fixture
async def storage() -> FakeStorage:
    """Storage with one partner (code IN)."""
    storage = FakeStorage()
    async with storage.uow() as uow:
        await uow.partners.add(a_partner(id=None, code="IN"))
        await uow.commit()
    return storage


async def test_leaving_the_block_without_commit_writes_nothing(storage: FakeStorage) -> None:
    uow = storage.uow()
    async with uow:
        await uow.registrations.add(a_registration(1, id=None))
        await uow.outbox.put([ReviewCard(1)], now=NOW)

    assert not uow.committed
    assert storage.data.registrations == {}
    assert storage.queued() == []
    assert [m.kind for m in storage.messages_put] == [MessageKind.review_card]


async def test_a_commit_is_counted_and_seen_by_the_next_unit_of_work(
    storage: FakeStorage,
) -> None:
    commits = storage.commits
    registration = a_registration(1, id=None)
    async with storage.uow() as uow:
        await uow.registrations.add(registration)
        await uow.commit()

    async with storage.uow() as uow:
        found = await uow.registrations.get(registration.id or 0)
        history = await uow.registrations.history(registration.id or 0)

    assert storage.commits == commits + 1
    assert found == registration
    assert [event.action for event in history] == ["submit", "review"]


async def test_references_number_each_partners_registrations_and_legacy_ones_are_found(
    storage: FakeStorage,
) -> None:
    first, second = a_registration(1, id=None), a_registration(1, id=None)
    async with storage.uow() as uow:
        await uow.registrations.add(first)
        await uow.registrations.add(second)
        await uow.commit()
    storage.data.registrations[first.id or 0].assigned_reference = "DR-0012"  # migrated

    async with storage.uow() as uow:
        legacy = await uow.registrations.get_by_reference(" dr-12 ")
        numbered = await uow.registrations.get_by_reference("in-2")

    assert (first.reference, second.reference) == ("IN-0001", "IN-0002")
    assert (legacy.id if legacy else None, numbered.id if numbered else None) == (
        first.id,
        second.id,
    )


async def test_a_save_against_a_stale_version_fails_at_once_or_at_commit(
    storage: FakeStorage,
) -> None:
    registration = a_registration(1, id=None)
    async with storage.uow() as uow:
        await uow.registrations.add(registration)
        await uow.commit()
    rid = registration.id or 0

    async def approve() -> None:
        async with storage.uow() as uow:
            fresh = await uow.registrations.get(rid)
            assert fresh is not None
            fresh.approve(by=an_approver(1), now=NOW, protection=PROGRAM.protection)
            await uow.registrations.save(fresh, expected_version=1)
            await uow.commit()

    loser = storage.uow()
    async with loser:
        stale = await loser.registrations.get(rid)
        assert stale is not None
        stale.request_info(by=an_approver(), now=NOW, question="Who?")
        await loser.registrations.save(stale, expected_version=1)
        storage.before_next_commit(approve)
        with pytest.raises(ConcurrentUpdate):
            await loser.commit()
    async with storage.uow() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.registrations.save(stale, expected_version=1)

    assert storage.data.registrations[rid].status is RegistrationStatus.approved
    assert not loser.committed


async def test_a_submission_key_is_taken_once(storage: FakeStorage) -> None:
    async with storage.uow() as uow:
        await uow.registrations.add(a_registration(1, id=None, submission_key="view-1"))
        with pytest.raises(DuplicateSubmission):
            await uow.registrations.add(a_registration(1, id=None, submission_key="view-1"))


async def test_a_registration_needs_a_stored_partner() -> None:
    async with FakeStorage().uow() as uow:
        with pytest.raises(NotFound):
            await uow.registrations.add(a_registration(4242, id=None))


async def test_a_watch_sees_the_committed_data_as_each_block_ends(storage: FakeStorage) -> None:
    registrations = storage.watch(lambda data: len(data.registrations))
    async with storage.uow() as uow:
        await uow.registrations.add(a_registration(1, id=None))
    async with storage.uow() as uow:
        await uow.registrations.add(a_registration(1, id=None))
        await uow.commit()

    assert registrations == [None, 1]


async def test_a_failing_commit_raises_and_writes_nothing(storage: FakeStorage) -> None:
    storage.fail_commit(RuntimeError("connection reset"), after=1)
    added = []
    for _ in range(3):
        async with storage.uow() as uow:
            await uow.registrations.add(a_registration(1, id=None))
            with contextlib.suppress(RuntimeError):
                await uow.commit()
            added.append(uow.committed)

    assert added == [True, False, True]
    assert len(storage.data.registrations) == 2


def test_the_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(NOW)

    assert (clock(), clock.advance(timedelta(hours=1)), clock()) == (
        NOW,
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=1),
    )
