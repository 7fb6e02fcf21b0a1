"""The CRM import: the direct team's accounts or opportunities upserted by external id.

A file with a bad row changes nothing unless bad rows may be skipped. The good records are
written in batches of `BATCH_SIZE`, a transaction each; importing a file again is safe, since
records are upserted by their external id. Into a table that holds records of the kind the
rows are read twice: once to check every row, then again to write. A first import (none of
the kind stored) reads them once, checking and writing together: at its first bad row it
stops writing, reads on to list the others, and deletes what it wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from domain.company_aliases import with_aliases
from domain.conflicts import ClaimKind, ConflictRules
from domain.crm import UpsertCounts
from domain.crm_import import BadRows, Chunk, ImportBatch, Tally
from domain.services.context import ServiceContext

logger = logging.getLogger(__name__)

BATCH_SIZE = 20_000
"""Records per transaction: fewer, larger commits write each touched index page once."""
DEFER_INDEX_MIN = 50_000
"""Records from which an import that at least doubles the stored ones has storage set the
key index aside while it writes (where building it afterwards is faster)."""

Pass = Literal["checking", "importing"]
Phase = Literal["checking", "writing", "indexing"]


class RowReader(Protocol):
    def read(self, step: Pass, *, keyed: Callable[[], bool]) -> Generator[Chunk, None, None]:
        """One pass over the rows, a chunk at a time in file order: its rows read (good or
        bad), and its good records keyed when `keyed()`, asked as the chunk is read, says so
        (else None)."""


class RowSource(Protocol):
    """An import's rows, read as many times as the import needs."""

    @property
    def name(self) -> str:
        """The source as messages name it (the file's name)."""

    @property
    def estimated_rows(self) -> int:
        """How many rows there are, guessed before reading them."""

    def reading(self, rules: ConflictRules | None) -> AbstractContextManager[RowReader]:
        """Ready to read until the block ends; `rules` key the good records (None: only
        check the rows)."""


class ImportProgress(Protocol):
    """What the import tells its caller as it goes."""

    def phase(self, phase: Phase) -> None:
        """It starts checking the rows, writing the records, or finishing (the key index)."""

    def written(self, records: int) -> None:
        """`records` are written and committed so far."""

    def checked(self, tally: Tally) -> None:
        """Every row is checked: before writing, or, in a first import, once done."""


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import wrote (records, of them new and updated) and what its rows were."""

    written: int
    counts: UpsertCounts
    tally: Tally
    first_import: bool


@dataclass(slots=True)
class _Writing:
    """One import's writing: where its records go and how far it got."""

    kind: ClaimKind
    imported_at: datetime
    first_import: bool
    progress: ImportProgress
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    written: int = 0
    deferred: bool = False


class CrmImports:
    """Imports of the direct team's CRM records. `base`: the rules before the admins' aliases."""

    def __init__(self, ctx: ServiceContext, base: ConflictRules) -> None:
        self._ctx = ctx
        self._base = base

    async def check(
        self, source: RowSource, *, skip_bad_rows: bool, progress: ImportProgress
    ) -> Tally:
        """A dry run: read every row once and tell `progress` what was found; change nothing.
        Raises BadRows where the import would refuse the file."""
        with source.reading(None) as reader:
            tally = _tallied(reader)
        _report(tally, progress, skip_bad_rows=skip_bad_rows)
        return tally

    async def run(
        self,
        source: RowSource,
        kind: ClaimKind,
        *,
        skip_bad_rows: bool,
        progress: ImportProgress,
    ) -> ImportOutcome:
        """Upsert the source's good records of `kind` batch by batch; raises BadRows (having
        written nothing, or deleted it) when a bad row blocks the import."""
        if kind not in (ClaimKind.account, ClaimKind.opportunity):
            raise ValueError(f"no CRM records of kind {kind}")
        rules = await self._rules()
        progress.phase("checking")
        stored = await self._begin(kind)
        writing = _Writing(kind, self._ctx.clock(), stored == 0, progress)
        tally = Tally()
        try:
            with source.reading(rules) as reader:
                if not writing.first_import:
                    tally = _tallied(reader)
                    _report(tally, progress, skip_bad_rows=skip_bad_rows)
                progress.phase("writing")
                incoming = source.estimated_rows if writing.first_import else tally.good
                if incoming >= DEFER_INDEX_MIN and stored < incoming:
                    writing.deferred = await self._defer_index()
                blocked = await self._write(reader, writing, tally, skip_bad_rows=skip_bad_rows)
            if blocked:
                await self._discard(writing)
        finally:  # after the reader has stopped (worker processes): an index takes memory
            progress.phase("indexing")
            await self._finish(writing)
        if writing.first_import:
            _report(tally, progress, skip_bad_rows=skip_bad_rows)
        return ImportOutcome(writing.written, writing.counts, tally, writing.first_import)

    async def restore_key_index(self) -> None:
        """Put back the key index that a large import sets aside, in case it was killed
        before it could (a no-op when the index is there): without it every conflict check
        scans the key table."""
        async with self._ctx.uow() as uow:
            await uow.crm.ensure_key_index()
            await uow.commit()

    async def _rules(self) -> ConflictRules:
        """The rules to key records under: the base rules and the admins' aliases."""
        async with self._ctx.uow() as uow:
            return with_aliases(self._base, await uow.aliases.list_all())

    async def _begin(self, kind: ClaimKind) -> int:
        """How many records of `kind` are stored; the key index is put back first, in case
        an import that set it aside was killed."""
        async with self._ctx.uow() as uow:
            await uow.crm.ensure_key_index()
            stored = await uow.crm.count(kind)
            await uow.commit()
        return stored

    async def _defer_index(self) -> bool:
        async with self._ctx.uow() as uow:
            deferred = await uow.crm.defer_key_index()
            await uow.commit()
        return deferred

    async def _write(
        self, reader: RowReader, writing: _Writing, tally: Tally, *, skip_bad_rows: bool
    ) -> bool:
        """Write the good records in batches, in file order; True when a bad row blocked it.
        A first import checks the rows (into `tally`) as it reads them: unless bad rows may
        be skipped, the first one ends the writing and the rest is only checked."""

        def blocked() -> bool:
            return writing.first_import and bool(tally.bad) and not skip_bad_rows

        pending = _Pending(writing.kind, BATCH_SIZE)
        with closing(reader.read("importing", keyed=lambda: not blocked())) as chunks:
            for rows, batch in chunks:
                repeated = tally.add(rows) if writing.first_import else tally.repeated
                if blocked():
                    continue
                assert batch is not None  # keyed when it was read: nothing blocked then
                for full in pending.add(batch.without(repeated) if repeated else batch):
                    await self._upsert(full, writing)
        if blocked():
            return True
        if pending.count:
            await self._upsert(pending.rest(), writing)
        return False

    async def _upsert(self, batch: ImportBatch, writing: _Writing) -> None:
        async with self._ctx.uow() as uow:
            counts = await uow.crm.upsert_batch(
                batch, imported_at=writing.imported_at, first_import=writing.first_import
            )
            await uow.commit()
        writing.counts = UpsertCounts(
            inserted=writing.counts.inserted + counts.inserted,
            updated=writing.counts.updated + counts.updated,
        )
        writing.written += len(batch)
        logger.debug("crm import: %s records written", writing.written)
        writing.progress.written(writing.written)

    async def _discard(self, writing: _Writing) -> None:
        """Delete what a blocked first import wrote (it only inserted)."""
        async with self._ctx.uow() as uow:
            await uow.crm.discard_imported(writing.kind, writing.imported_at)
            await uow.commit()
        writing.written = 0

    async def _finish(self, writing: _Writing) -> None:
        """Put back the key index if it was set aside; refresh the planner's statistics
        when records were written."""
        async with self._ctx.uow() as uow:
            if writing.deferred:
                await uow.crm.ensure_key_index()
                writing.deferred = False
            if writing.written:
                await uow.crm.refresh_statistics()
            await uow.commit()


def _tallied(reader: RowReader) -> Tally:
    """Every row read once and counted, keying nothing."""
    tally = Tally()
    with closing(reader.read("checking", keyed=_never)) as chunks:
        for rows, _batch in chunks:
            tally.add(rows)
    return tally


def _never() -> bool:
    return False


def _report(tally: Tally, progress: ImportProgress, *, skip_bad_rows: bool) -> None:
    """Tell `progress` what the rows are; raise BadRows when a bad one blocks the import."""
    progress.checked(tally)
    if tally.bad and not skip_bad_rows:
        raise BadRows(tally)


class _Pending:
    """Records waiting to be written, released in batches of `size`."""

    def __init__(self, kind: ClaimKind, size: int) -> None:
        self._kind = kind
        self._size = size
        self._parts: list[ImportBatch] = []
        self.count = 0

    def add(self, batch: ImportBatch) -> list[ImportBatch]:
        """Take `batch`; the full batches now ready, in order."""
        self._parts.append(batch)
        self.count += len(batch)
        full: list[ImportBatch] = []
        while self.count >= self._size:
            head, rest = self.rest().split(self._size)
            full.append(head)
            self._parts, self.count = [rest], len(rest)
        return full

    def rest(self) -> ImportBatch:
        """Everything pending, as one batch (still pending until `add` takes more)."""
        if len(self._parts) != 1:
            self._parts = [ImportBatch.join(self._kind, self._parts)]
        return self._parts[0]
