"""In-memory fakes of the ports, for fast service tests (STYLE.md rules 32-33).

`FakeStorage` holds the committed data; `FakeStorage.uow` makes units of work on it (use it
as `ServiceContext.uow`). A unit of work reads a snapshot taken when its block opens, writes
to that snapshot, and at `commit()` applies its writes to the committed data, after the
guards storage keeps: a registration saved in it must still be at the version it was saved
against, a submission key must still be free (first committer wins). Leaving the block
without committing drops every write. Ids come from counters that never go back, like
database sequences.

What it does not imitate, on purpose (the database tests cover them): the SQL candidate
narrowing's caps and ranking (`ConflictRules.key_cap`, `candidate_cap`): a check here gets
every record sharing a key; and truly concurrent transactions: `before_next_commit` only
lets a test make another unit of work commit first, which is how a service loses a race.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self, TypeVar

from domain.conflicts import ConflictRules
from domain.messages import OutboxMessage
from domain.ports import (
    AliasRepository,
    ConflictRepository,
    CrmRepository,
    DeliverySnapshots,
    EventReceipts,
    FindingRepository,
    MessageRefs,
    Outbox,
    PartnerRepository,
    RegistrationRepository,
)
from tests.fakes.conflicts import FakeConflicts, FakeFindings
from tests.fakes.data import Data, Transaction
from tests.fakes.delivery import FakeDeliveries, FakeMessageRefs, FakeOutbox, FakeReceipts
from tests.fakes.records import FakeAliases, FakeCrm
from tests.fakes.registrations import FakePartners, FakeRegistrations

__all__ = ["Data", "FakeStorage", "FakeUnitOfWork", "FixedClock"]

T = TypeVar("T")


@dataclass(slots=True)
class FixedClock:
    """A clock that says `now` until a test moves it (use it as `ServiceContext.clock`)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


class FakeStorage:
    """The committed data, shared by every unit of work `uow()` makes, and what happened to
    it: `commits` (how many units of work committed), `messages_put` (every outbox message
    queued, committed or not) and `upkeep` (the CRM's index and statistics calls by name)."""

    def __init__(self, rules: ConflictRules | None = None) -> None:
        self.rules = rules or ConflictRules()
        """The rules the candidate keys are stored under (the UoW's `conflict_rules`)."""
        self.data = Data()
        self.commits = 0
        self.messages_put: list[OutboxMessage] = []
        self.upkeep: Counter[str] = Counter()
        self._ids: dict[str, itertools.count[int]] = {}
        self._before_commit: list[Callable[[], Awaitable[object]]] = []
        self._failing: dict[int, Exception] = {}  # commit number: what it raises
        self._watchers: list[Callable[[bool], None]] = []
        self._taken = 0

    def uow(self) -> FakeUnitOfWork:
        """A new unit of work on this storage (what `ServiceContext.uow` is called for)."""
        return FakeUnitOfWork(self)

    def next_id(self, table: str) -> int:
        return next(self._ids.setdefault(table, itertools.count(1)))

    def before_next_commit(self, action: Callable[[], Awaitable[object]]) -> None:
        """Run `action` (another unit of work that commits) just before the next commit is
        checked: the unit of work committing then lost the race to it."""
        self._before_commit.append(action)

    def fail_commit(self, error: Exception, *, after: int = 0) -> None:
        """Make the next commit, or the one after `after` more succeed, raise `error` (its
        writes are dropped)."""
        self._failing[self.commits + after + 1] = error

    def watch(self, look: Callable[[Data], T]) -> list[T | None]:
        """The list `look(committed data)` is added to as each unit-of-work block from now on
        ends (None for a block that did not commit)."""
        seen: list[T | None] = []
        self._watchers.append(lambda committed: seen.append(look(self.data) if committed else None))
        return seen

    def queued(self) -> list[OutboxMessage]:
        """Every outbox message committed so far, oldest first."""
        return [row.message for row in self.data.outbox]

    def take_queued(self) -> list[OutboxMessage]:
        """The outbox messages committed since the last call, oldest first."""
        queued = self.queued()
        taken, self._taken = queued[self._taken :], len(queued)
        return taken

    async def _run_before_commit(self) -> None:
        actions, self._before_commit = self._before_commit, []
        for action in actions:
            await action()


class FakeUnitOfWork:
    """`domain.ports.UnitOfWork` in memory. Reusable; blocks do not nest. `committed`: the
    last block committed."""

    registrations: RegistrationRepository
    partners: PartnerRepository
    crm: CrmRepository
    aliases: AliasRepository
    conflicts: ConflictRepository
    findings: FindingRepository
    outbox: Outbox
    message_refs: MessageRefs
    deliveries: DeliverySnapshots
    receipts: EventReceipts

    def __init__(self, storage: FakeStorage) -> None:
        self.storage = storage
        self.committed = False
        self._tx: Transaction | None = None

    async def __aenter__(self) -> Self:
        if self._tx is not None:
            raise RuntimeError("this unit of work is already in use; blocks cannot nest")
        tx = self._tx = Transaction(self.storage)
        self.committed = False
        self.registrations = FakeRegistrations(tx)
        self.partners = FakePartners(tx)
        self.crm = FakeCrm(tx)
        self.aliases = FakeAliases(tx)
        self.conflicts = FakeConflicts(tx)
        self.findings = FakeFindings(tx)
        self.outbox = FakeOutbox(tx)
        self.message_refs = refs = FakeMessageRefs(tx)
        self.deliveries = FakeDeliveries(
            registrations=self.registrations,
            partners=self.partners,
            conflicts=self.conflicts,
            findings=self.findings,
            refs=refs,
        )
        self.receipts = FakeReceipts(tx)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tx = None  # what was not committed is dropped
        for watcher in self.storage._watchers:
            watcher(self.committed)

    async def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("commit() outside `async with` of the unit of work")
        if (error := self.storage._failing.pop(self.storage.commits + 1, None)) is not None:
            raise error
        await self.storage._run_before_commit()
        self._tx.commit()
        self.committed = True
        self.storage.commits += 1
