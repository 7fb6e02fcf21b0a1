"""The SQL unit of work: one session, one transaction, rolled back unless committed."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.conflicts import ConflictRules
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
from storage.aliases import SqlAlchemyAliasRepository
from storage.conflicts import SqlAlchemyConflictRepository
from storage.crm import SqlAlchemyCrmRepository
from storage.deliveries import SqlAlchemyDeliveries
from storage.findings import SqlAlchemyFindingRepository
from storage.outbox import SqlAlchemyEventReceipts, SqlAlchemyMessageRefs, SqlAlchemyOutbox
from storage.partners import SqlAlchemyPartnerRepository
from storage.registrations import (
    SqlAlchemyRegistrationRepository,
    duplicate_submission,
    is_duplicate_submission,
)

SessionFactory = async_sessionmaker[AsyncSession]


class SessionSource:
    """Hands out sessions and takes closed ones back: `close()` resets a session to as good
    as new, and building one is a real share of a short unit of work's CPU."""

    def __init__(self, factory: SessionFactory, *, keep: int = 8) -> None:
        self._factory = factory
        self._keep = keep
        self._idle: list[AsyncSession] = []

    def acquire(self) -> AsyncSession:
        return self._idle.pop() if self._idle else self._factory()

    def release(self, session: AsyncSession) -> None:
        """Take back a session that closed cleanly."""
        if len(self._idle) < self._keep:
            self._idle.append(session)


class SqlAlchemyUnitOfWork:
    """`domain.ports.UnitOfWork` on SQLAlchemy. Reusable: each `async with` is a new session.

    The repositories exist only inside the block; leaving it without `commit()` rolls back.
    A commit that queued outbox messages calls `on_commit` (the outbox worker's wake-up).
    """

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

    def __init__(
        self,
        sessions: SessionFactory | SessionSource,
        *,
        conflict_rules: ConflictRules | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = (
            sessions if isinstance(sessions, SessionSource) else SessionSource(sessions, keep=0)
        )
        self._rules = conflict_rules or ConflictRules()
        self._on_commit = on_commit
        self._session: AsyncSession | None = None
        self._outbox: SqlAlchemyOutbox | None = None

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already in use; blocks cannot nest")
        session = self._session = self._sessions.acquire()
        self.registrations = SqlAlchemyRegistrationRepository(session, self._rules)
        self.partners = SqlAlchemyPartnerRepository(session)
        self.crm = SqlAlchemyCrmRepository(session, self._rules)
        self.aliases = SqlAlchemyAliasRepository(session)
        self.conflicts = SqlAlchemyConflictRepository(session, self._rules)
        self.findings = SqlAlchemyFindingRepository(session)
        self.outbox = self._outbox = SqlAlchemyOutbox(session)
        self.message_refs = SqlAlchemyMessageRefs(session)
        self.deliveries = SqlAlchemyDeliveries(
            session,
            registrations=self.registrations,
            partners=self.partners,
            conflicts=self.conflicts,
            findings=self.findings,
        )
        self.receipts = SqlAlchemyEventReceipts(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:  # pragma: no cover - __aenter__ always sets it
            return
        await session.close()  # rolls back anything uncommitted
        self._sessions.release(session)

    async def commit(self) -> None:
        """Commit; raises DuplicateSubmission when a guard fails."""
        if self._session is None:
            raise RuntimeError("commit() outside `async with` of the unit of work")
        try:
            await self._session.commit()
        except IntegrityError as error:
            if is_duplicate_submission(error):
                raise duplicate_submission() from error
            raise
        if self._on_commit is not None and self._outbox is not None and self._outbox.queued:
            self._outbox.queued = 0
            self._on_commit()


def uow_factory(
    session_factory: SessionFactory,
    *,
    conflict_rules: ConflictRules | None = None,
    on_commit: Callable[[], None] | None = None,
) -> Callable[[], SqlAlchemyUnitOfWork]:
    """A fresh unit of work on each call. `conflict_rules` decide the candidate keys stored
    with every record (keep them the rules that look the keys up); `on_commit` is called
    after a commit that queued outbox messages (it wakes the worker)."""
    rules = conflict_rules or ConflictRules()
    sessions = SessionSource(session_factory)
    return lambda: SqlAlchemyUnitOfWork(sessions, conflict_rules=rules, on_commit=on_commit)
