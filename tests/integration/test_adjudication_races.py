"""A resolution racing an approve or reject click, on real storage: exactly one outcome.

Each test runs two decisions on one conflict case (Acme's #1 was first, Globex's #2
is the registration being settled), each in its own unit of work and session, both commands
carrying the version their clicker saw before either ran, and fixes which one commits first.
They run in two timings:

- queued (SQLite and PostgreSQL): the second decision's transaction starts once the first has
  committed. This is all SQLite can do: the engine keeps one connection per process and every
  transaction starts with BEGIN IMMEDIATE, so units of work queue for the connection and
  never overlap. It is also the race people have in real time: a desk member opens the
  resolution modal, someone else clicks on the review card, then the modal is submitted.
- overlapping (PostgreSQL only): both transactions have read everything they act on before
  either writes; the second writes while the first is committing. Only the storage's
  version guard can stop the loser here.

After each race: the loser raised and named the registration that moved first with who
decided it, every registration involved shows one outcome (status, audit trail, notices),
and nothing of the loser's was kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.actor import Actor
from domain.errors import AlreadyDecided, ConcurrentUpdate, ConflictToResolve
from domain.messages import MessageKind, Notice
from domain.ownership import Resolution
from domain.ports import RegistrationRepository, UnitOfWork
from domain.registration import Registration, RegistrationStatus, RejectionReason
from domain.services import Decide, Decision, Resolve, Resolved
from domain.slack_ids import SlackUserId
from storage.models import OutboxMessageRow
from storage.uow import SqlAlchemyUnitOfWork
from tests.builders import an_approver, calling, services
from tests.integration.claims import partners, register
from tests.integration.conftest import Backend, NewUow

A = TypeVar("A")
B = TypeVar("B")

GATE_TIMEOUT = 10.0
"""Seconds a decision waits for the other at a gate before the test fails (never hangs)."""

DESK_MEMBER, CLICKER = an_approver(0), an_approver(1)
REASON = "Globex ran the pilot; settled on the desk call."


class Timing(StrEnum):
    queued = "queued"
    overlapping = "overlapping"


@dataclass(frozen=True, slots=True)
class Setup:
    database: str
    timing: Timing


@pytest.fixture(
    params=[
        pytest.param(Setup("sqlite", Timing.queued), id="sqlite-queued"),
        pytest.param(
            Setup("postgres", Timing.queued), id="postgres-queued", marks=pytest.mark.postgres
        ),
        pytest.param(
            Setup("postgres", Timing.overlapping),
            id="postgres-overlapping",
            marks=pytest.mark.postgres,
        ),
    ]
)
def setup(request: pytest.FixtureRequest) -> Setup:
    """The database and the timing of the race (SQLite transactions cannot overlap)."""
    return cast(Setup, request.param)


@pytest.fixture
def backend(setup: Setup, request: pytest.FixtureRequest) -> Backend:
    """The shared `backend` fixture, narrowed to the setups above."""
    if setup.database == "postgres":
        return Backend("postgres", request.getfixturevalue("pg_schema"))
    return Backend("sqlite")


# ---------------------------------------------------------------------------- the race


async def _gate(event: asyncio.Event, what: str) -> None:
    try:
        await asyncio.wait_for(event.wait(), GATE_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"gave up waiting {GATE_TIMEOUT}s for {what}", pytrace=False)


@dataclass(slots=True)
class Race:
    """Two decisions, each in its own unit of work, with the first fixed to commit first."""

    timing: Timing
    sessions: async_sessionmaker[AsyncSession]
    second_has_read: asyncio.Event = field(default_factory=asyncio.Event)
    first_committing: asyncio.Event = field(default_factory=asyncio.Event)
    first_done: asyncio.Event = field(default_factory=asyncio.Event)
    first_committed: bool = False
    overlapped: bool = False

    def first(self) -> UnitOfWork:
        return _Lane(self, first=True)

    def second(self) -> UnitOfWork:
        return _Lane(self, first=False)


class _Lane(SqlAlchemyUnitOfWork):
    """A real unit of work that stops at the race's gates: before its first write (both
    sides have read), at commit, and (queued) before its transaction starts."""

    def __init__(self, race: Race, *, first: bool) -> None:
        super().__init__(race.sessions)
        self._race = race
        self._first = first
        self._gated = False

    async def __aenter__(self) -> Self:
        if not self._first and self._race.timing is Timing.queued:
            await _gate(self._race.first_done, "the first decision to commit")
        await super().__aenter__()
        self.registrations = cast(
            RegistrationRepository, _GatedSaves(self.registrations, self._before_first_save)
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await super().__aexit__(exc_type, exc, tb)
        if self._first:  # committed, or failed: either way the second goes on
            self._race.first_committing.set()
            self._race.first_done.set()
        else:
            self._race.second_has_read.set()

    async def commit(self) -> None:
        if self._first:
            self._race.first_committed = True
            self._race.first_committing.set()
        await super().commit()

    async def _before_first_save(self) -> None:
        if self._gated or self._race.timing is not Timing.overlapping:
            return
        self._gated = True
        if self._first:
            await _gate(self._race.second_has_read, "the second decision to read")
        else:
            self._race.second_has_read.set()
            await _gate(self._race.first_committing, "the first decision to commit")
            self._race.overlapped = self._race.first_committed


class _GatedSaves:
    """The lane's registration repository, with `before` awaited ahead of every save."""

    def __init__(
        self, inner: RegistrationRepository, before: Callable[[], Awaitable[None]]
    ) -> None:
        self._inner = inner
        self._before = before

    async def save(self, registration: Registration, *, expected_version: int) -> None:
        await self._before()
        await self._inner.save(registration, expected_version=expected_version)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def race(setup: Setup, session_factory: async_sessionmaker[AsyncSession]) -> Race:
    return Race(setup.timing, session_factory)


async def run(race: Race, first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both decisions at once; overlapping, proof that both had read before either wrote."""
    results = await asyncio.gather(first, second)
    if race.timing is Timing.overlapping:
        assert race.overlapped, "the second decision never waited for the first to commit"
    return results


# ---------------------------------------------------------------------------- decisions


async def settle(
    uow: UnitOfWork, subject: Registration, resolution: Resolution
) -> Resolved | AlreadyDecided:
    """The desk member's resolution of `subject` as they saw it: what it did, or the race."""
    assert subject.id is not None
    command = Resolve(subject.id, subject.version, resolution, REASON)
    try:
        return await services(lambda: uow).conflicts.resolve(command, calling(DESK_MEMBER))
    except AlreadyDecided as lost:
        return lost


async def click(
    uow: UnitOfWork, registration: Registration, decision: Decision
) -> Registration | AlreadyDecided | ConflictToResolve:
    """Another approver's approve / reject click on a review card, as they saw it (an
    approval of a registration in a conflict is refused: the desk settles it instead)."""
    assert registration.id is not None
    reason = RejectionReason.not_qualified if decision is Decision.reject else None
    note = "Which office runs the pilot?" if decision is Decision.request_info else None
    command = Decide(registration.id, registration.version, decision, reason=reason, note=note)
    try:
        return await services(lambda: uow).decisions.decide(command, calling(CLICKER))
    except (AlreadyDecided, ConflictToResolve) as lost:
        return lost


# ---------------------------------------------------------------------------- what holds


@dataclass(frozen=True, slots=True)
class Now:
    """One registration as stored after the race: itself, its moves after review (action,
    who), and the notices its partner is owed for them."""

    registration: Registration
    moves: list[tuple[str, SlackUserId]]
    notices: list[str]

    @property
    def status(self) -> RegistrationStatus:
        return self.registration.status


@dataclass(frozen=True, slots=True)
class Case:
    """Acme's #1 (the rival, first) and Globex's #2 (the subject) on one customer."""

    rival: Registration
    subject: Registration
    new_uow: NewUow
    engine: AsyncEngine

    async def now(self) -> tuple[Now, Now]:
        """(rival, subject) as stored now."""
        return await self._now(self.rival), await self._now(self.subject)

    async def _now(self, registration: Registration) -> Now:
        rid = registration.id or 0
        async with self.new_uow() as uow:
            stored = await uow.registrations.get(rid)
            moves = [
                (record.event.action, record.event.actor.user_id)
                async for record in uow.registrations.audit_log()
                if record.registration_id == rid and record.event.action not in ("submit", "review")
            ]
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(OutboxMessageRow.notice)
                .where(
                    OutboxMessageRow.registration_id == rid,
                    OutboxMessageRow.kind == MessageKind.partner_notice.value,
                )
                .order_by(OutboxMessageRow.id)
            )
            notices = [str(n) for (n,) in rows if n != Notice.received]
        assert stored is not None
        return Now(stored, moves, notices)


@pytest.fixture
async def case(new_uow: NewUow, engine: AsyncEngine) -> Case:
    acme, globex = await partners(new_uow, 2)
    rival = await register(new_uow, acme, "Initech")
    subject = await register(new_uow, globex, "Initech")
    async with new_uow() as uow:
        found = await uow.findings.for_registration(subject.id or 0)
    assert [f.claim.id for f in found] == [rival.id], "#2's check must find #1"
    return Case(rival, subject, new_uow, engine)


def untouched(now: Now) -> None:
    """Still waiting for the desk, as submitted: no move, no notice, no decision."""
    assert now.status is RegistrationStatus.under_review
    assert (now.moves, now.notices) == ([], [])
    assert now.registration.decided_by is None


def told_who_decided(
    race: Race, lost: object, registration: Registration, by: Actor | None
) -> None:
    """The loser's error names the registration that moved first, as it is, and who moved it
    (who asked, for an info request, which is no decision: `decided_by` stays empty).
    Overlapping, the loser had read that registration as open: only the storage's version
    guard can have stopped it."""
    assert isinstance(lost, AlreadyDecided), lost
    if race.timing is Timing.overlapping:
        assert isinstance(lost.__cause__, ConcurrentUpdate), lost.__cause__
        assert lost.__cause__ is not lost
    assert lost.registration.id == registration.id
    assert lost.registration.status is registration.status
    assert lost.registration.version == registration.version
    asked = registration.status is RegistrationStatus.info_requested
    assert lost.registration.decided_by == (None if asked else by)
    assert lost.by == by
    assert registration.reference in str(lost)


AWARD = "adjudicate:award_partner"
REJECT_BOTH = "adjudicate:reject_both"


# ---------------------------------------------------------------------------- the races


@dataclass(frozen=True, slots=True)
class ClickFirst:
    """A decision on the subject's review card that commits before a resolution of it."""

    decision: Decision
    resolution: Resolution
    status: RegistrationStatus
    notice: Notice
    reason: RejectionReason | None = None


CLICKS_FIRST = {
    "reject-then-award": ClickFirst(
        Decision.reject,
        Resolution.award_partner,
        RegistrationStatus.rejected,
        Notice.rejected,
        RejectionReason.not_qualified,
    ),
    "info-then-reject-both": ClickFirst(
        Decision.request_info,
        Resolution.reject_both,
        RegistrationStatus.info_requested,
        Notice.info_requested,
    ),
}


class TestAClickOnTheSameRegistrationCommittedFirst:
    @pytest.mark.parametrize("first", CLICKS_FIRST.values(), ids=CLICKS_FIRST.keys())
    async def test_the_click_stands_and_the_resolution_changes_nothing(
        self, race: Race, case: Case, first: ClickFirst
    ) -> None:
        subject = case.subject

        clicked, settled = await run(
            race,
            click(race.first(), subject, first.decision),
            settle(race.second(), subject, first.resolution),
        )

        rival_now, subject_now = await case.now()
        assert isinstance(clicked, Registration)
        assert subject_now.status is first.status
        assert subject_now.registration.rejection_reason is first.reason
        assert subject_now.moves == [(first.decision.value, CLICKER.user_id)]
        assert subject_now.notices == [first.notice]
        untouched(rival_now)
        told_who_decided(race, settled, subject_now.registration, CLICKER)


class TestResolutionRacesARejectOfTheSameRegistration:
    async def test_the_resolution_committed_first_so_the_reject_changes_nothing(
        self, race: Race, case: Case
    ) -> None:
        rival, subject = case.rival, case.subject

        settled, rejected = await run(
            race,
            settle(race.first(), subject, Resolution.award_partner),
            click(race.second(), subject, Decision.reject),
        )

        rival_now, subject_now = await case.now()
        assert isinstance(settled, Resolved)
        assert [r.id for r in settled.changed] == [rival.id]
        assert subject_now.status is RegistrationStatus.approved
        assert subject_now.moves == [(AWARD, DESK_MEMBER.user_id)]
        assert subject_now.notices == [Notice.conflict_won]
        assert rival_now.status is RegistrationStatus.rejected
        assert rival_now.registration.rejection_reason is RejectionReason.duplicate
        assert rival_now.moves == [(AWARD, DESK_MEMBER.user_id)]
        assert rival_now.notices == [Notice.conflict_lost]
        told_who_decided(race, rejected, subject_now.registration, DESK_MEMBER)


class TestResolutionRacesARejectOfTheRival:
    async def test_the_reject_committed_first_and_the_rival_keeps_it(
        self, race: Race, case: Case
    ) -> None:
        """Queued, the resolution finds the rival already rejected and settles the subject
        alone; overlapping, it had read the rival as open, so it changes nothing."""
        rival, subject = case.rival, case.subject

        rejected, settled = await run(
            race,
            click(race.first(), rival, Decision.reject),
            settle(race.second(), subject, Resolution.award_partner),
        )

        rival_now, subject_now = await case.now()
        assert isinstance(rejected, Registration)
        assert rival_now.status is RegistrationStatus.rejected
        assert rival_now.registration.rejection_reason is RejectionReason.not_qualified
        assert rival_now.moves == [("reject", CLICKER.user_id)]
        assert rival_now.notices == [Notice.rejected]
        if race.timing is Timing.queued:
            assert isinstance(settled, Resolved)
            assert settled.changed == ()
            assert subject_now.status is RegistrationStatus.approved
            assert subject_now.moves == [(AWARD, DESK_MEMBER.user_id)]
            assert subject_now.notices == [Notice.conflict_won]
        else:
            untouched(subject_now)
            told_who_decided(race, settled, rival_now.registration, CLICKER)

    async def test_the_resolution_committed_first_so_the_reject_changes_nothing(
        self, race: Race, case: Case
    ) -> None:
        rival, subject = case.rival, case.subject

        settled, rejected = await run(
            race,
            settle(race.first(), subject, Resolution.award_partner),
            click(race.second(), rival, Decision.reject),
        )

        rival_now, subject_now = await case.now()
        assert isinstance(settled, Resolved)
        assert subject_now.status is RegistrationStatus.approved
        assert subject_now.moves == [(AWARD, DESK_MEMBER.user_id)]
        assert rival_now.status is RegistrationStatus.rejected
        assert rival_now.registration.rejection_reason is RejectionReason.duplicate
        assert rival_now.moves == [(AWARD, DESK_MEMBER.user_id)]
        assert rival_now.notices == [Notice.conflict_lost]
        told_who_decided(race, rejected, rival_now.registration, DESK_MEMBER)

    async def test_an_award_to_the_existing_owner_is_refused_once_that_owner_was_rejected(
        self,
        race: Race,
        case: Case,
    ) -> None:
        """The desk awards the customer to Acme's #1 while another approver rejects
        #1. Whichever order, the desk's award must not leave Globex's #2
        rejected in favour of a claim that no longer holds."""
        rival, subject = case.rival, case.subject

        rejected, settled = await run(
            race,
            click(race.first(), rival, Decision.reject),
            settle(race.second(), subject, Resolution.award_existing),
        )

        rival_now, subject_now = await case.now()
        assert isinstance(rejected, Registration)
        assert rival_now.moves == [("reject", CLICKER.user_id)]
        assert isinstance(settled, AlreadyDecided), (
            f"the award to #{rival.id} went ahead: #{subject.id} is "
            f"{subject_now.status}, moves {subject_now.moves}, notices {subject_now.notices}"
        )
        untouched(subject_now)
        told_who_decided(race, settled, rival_now.registration, CLICKER)


class TestResolutionRacesAnInfoRequest:
    async def test_the_info_request_committed_first_so_the_loser_is_told_who_asked(
        self, race: Race, case: Case
    ) -> None:
        """Asking for info is no decision (`decided_by` stays empty), so who asked comes from
        the audit trail."""
        subject = case.subject

        asked, settled = await run(
            race,
            click(race.first(), subject, Decision.request_info),
            settle(race.second(), subject, Resolution.award_partner),
        )

        rival_now, subject_now = await case.now()
        assert isinstance(asked, Registration)
        assert subject_now.status is RegistrationStatus.info_requested
        assert subject_now.moves == [("request_info", CLICKER.user_id)]
        untouched(rival_now)
        assert isinstance(settled, AlreadyDecided)
        assert settled.registration.status is RegistrationStatus.info_requested
        assert settled.by == CLICKER


class TestAnApproveClickOnTheCaseNeverApproves:
    @pytest.mark.parametrize("target", ["subject", "rival"])
    @pytest.mark.parametrize("settled_first", [True, False], ids=["settled-first", "click-first"])
    async def test_the_resolution_decides_and_one_partner_owns_the_customer(
        self, race: Race, case: Case, target: str, settled_first: bool
    ) -> None:
        """Approve on either registration of the case, before or after (or, overlapping,
        while) the desk settles it: the click approves nothing, so the customer never has
        two owners, and the resolution applies as chosen."""
        rival, subject = case.rival, case.subject
        clicked = subject if target == "subject" else rival
        if settled_first:
            settled, approved = await asyncio.gather(
                settle(race.first(), subject, Resolution.award_partner),
                click(race.second(), clicked, Decision.approve),
            )
        else:
            approved, settled = await asyncio.gather(
                click(race.first(), clicked, Decision.approve),
                settle(race.second(), subject, Resolution.award_partner),
            )

        rival_now, subject_now = await case.now()
        assert isinstance(settled, Resolved), settled
        assert isinstance(approved, ConflictToResolve | AlreadyDecided), approved
        if isinstance(approved, AlreadyDecided):  # it saw the resolution's new version
            assert settled_first
            assert race.timing is Timing.queued
        assert subject_now.status is RegistrationStatus.approved
        assert subject_now.moves == [(AWARD, DESK_MEMBER.user_id)]
        assert rival_now.status is RegistrationStatus.rejected
        assert rival_now.moves == [(AWARD, DESK_MEMBER.user_id)]
        assert rival_now.notices == [Notice.conflict_lost]


CLICKS = {
    "info-subject": ("subject", Decision.request_info),
    "reject-subject": ("subject", Decision.reject),
    "reject-rival": ("rival", Decision.reject),
}
"""The clicks that can decide a registration of a case (Approve cannot: see above)."""

BETWEEN_PARTNERS = [r for r in Resolution if r is not Resolution.co_sell]
"""Every resolution the desk is offered between two partners (co-selling is with the direct
team, and is refused where no direct claim holds)."""


class TestEveryResolutionAgainstEveryClick:
    @pytest.mark.parametrize("clicked", CLICKS.values(), ids=CLICKS.keys())
    @pytest.mark.parametrize(
        "resolution", BETWEEN_PARTNERS, ids=[r.value for r in BETWEEN_PARTNERS]
    )
    @pytest.mark.parametrize("settled_first", [True, False], ids=["settled-first", "click-first"])
    async def test_each_registration_keeps_one_decision_and_the_loser_keeps_nothing(
        self,
        race: Race,
        case: Case,
        clicked: tuple[str, Decision],
        resolution: Resolution,
        settled_first: bool,
    ) -> None:
        """Any resolution against any click, in either order: the one that committed first
        stands; each registration carries at most one decision and one notice for it; the
        other raised (if they touched the same registration), named it and kept nothing."""
        rival, subject = case.rival, case.subject
        target = subject if clicked[0] == "subject" else rival
        if settled_first:
            settled, clicked_result = await run(
                race,
                settle(race.first(), subject, resolution),
                click(race.second(), target, clicked[1]),
            )
        else:
            clicked_result, settled = await run(
                race,
                click(race.first(), target, clicked[1]),
                settle(race.second(), subject, resolution),
            )

        rival_now, subject_now = await case.now()
        after = {rival.id: rival_now, subject.id: subject_now}
        deciders: set[str] = set()
        for current in after.values():
            # Request info records its precedent beside the move it makes.
            decisions = [m for m in current.moves if m[0] != "adjudicate:request_info"]
            assert len(decisions) <= 1, current.moves
            assert len(current.notices) == len(decisions), (current.moves, current.notices)
            deciders.update(who for _, who in decisions)
        click_won = isinstance(clicked_result, Registration)
        resolution_won = isinstance(settled, Resolved)
        assert resolution_won if settled_first else click_won
        assert (CLICKER.user_id in deciders) is click_won
        assert (DESK_MEMBER.user_id in deciders) is resolution_won
        clicked_now = after[target.id].registration
        if not click_won:
            told_who_decided(race, clicked_result, clicked_now, DESK_MEMBER)
        if not resolution_won:
            told_who_decided(race, settled, clicked_now, CLICKER)
