"""Reading an import's rows and computing their candidate keys on every core.

Analysing a company name for its candidate keys costs far more than reading its row or
storing it, so a large import sends chunks of raw rows to worker processes, which read
them (`RowParser.read`), key them (`ConflictRules.keys`) and put them in the form the
database takes (`BulkRecords`: column values, keys as one JSON array per record), while the
main process reads the file, checks that no external id repeats, and only writes. Results
come back in file order. A small file is done in-process by the same code (`Chunks` with no
pool): starting processes would cost more than it saves.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Set
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from domain.conflicts import ConflictRules, account_ref, opportunity_ref
from domain.crm import Account, Opportunity
from domain.crm_csv import ColumnMap, Kind, RowError, RowParser
from domain.matching.names import forget_analyses
from storage.company_keys import encode_keys
from storage.crm import BulkRecords, account_values, opportunity_values

Record = Account | Opportunity
Row = tuple[int, list[str]] | RowError
"""(line, cells) of one record in the file, or the reason it could not be read as CSV."""

CHUNK_ROWS = 1_000
GC_YOUNG = 100_000
WINDOW_PER_WORKER = 4
"""Chunks in flight per worker: enough to keep it busy, few enough to bound memory."""


Seen = tuple[int, str, bool]
"""A row that reads as a good record, as the file-wide duplicate check needs it: (line,
external id, whether the id is the file's own). A plain tuple: a chunk's thousand of them
cross between processes some 25 times faster than as dataclasses."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A chunk's good records, ready to write: `records` row i is from line `lines[i]`."""

    lines: list[int]
    records: BulkRecords

    def __len__(self) -> int:
        return len(self.lines)

    def without(self, lines: Set[int]) -> Prepared:
        """These records but those from `lines`."""
        keep = [i for i, line in enumerate(self.lines) if line not in lines]
        if len(keep) == len(self.lines):
            return self
        values, keys = self.records.values, self.records.keys
        return Prepared(
            [self.lines[i] for i in keep],
            BulkRecords([values[i] for i in keep], [keys[i] for i in keep]),
        )


Read = tuple[list[Seen | RowError], Prepared | None]
"""What a chunk of rows reads as: each non-blank row as `Seen` or as its RowError, in order,
and the good records ready to write (None when they were only checked)."""


class ChunkReader:
    """Reads chunks of rows: checked only, or keyed and ready to write as well."""

    def __init__(self, columns: ColumnMap, kind: Kind, rules: ConflictRules | None) -> None:
        self._parser = RowParser(columns, kind)
        self._rules = rules

    def read(self, rows: list[Row], keyed: bool) -> Read:
        """The rows checked and, when `keyed`, their good records with their keys.

        Checking alone reads less (`RowParser.check`: not the website of a record with an
        id of its own), for a first pass that only looks for bad rows.
        """
        if keyed and self._rules is None:
            raise RuntimeError("keys need the conflict rules")
        parser = self._parser
        has_own_id = parser.has_own_id
        out: list[Seen | RowError] = []
        lines: list[int] = []
        values: list[tuple[Any, ...]] = []
        keys: list[str] = []
        for row in rows:
            if isinstance(row, RowError):
                out.append(row)
                continue
            line, cells = row
            if not keyed:
                external_id = parser.check(cells, line)
                if isinstance(external_id, RowError):
                    out.append(external_id)
                elif external_id is not None:
                    out.append((line, external_id, has_own_id(cells)))
                continue
            record = parser.read(cells, line)
            if record is None:
                continue
            if isinstance(record, RowError):
                out.append(record)
                continue
            out.append((line, record.external_id, has_own_id(cells)))
            lines.append(line)
            values.append(self._values(record))
            keys.append(self._keys(record))
        return out, Prepared(lines, BulkRecords(values, keys)) if keyed else None

    def _values(self, record: Record) -> tuple[Any, ...]:
        if isinstance(record, Account):
            return account_values(record)
        return opportunity_values(record)

    def _keys(self, record: Record) -> str:
        assert self._rules is not None
        ref = account_ref(record) if isinstance(record, Account) else opportunity_ref(record)
        return encode_keys(self._rules.keys(ref))


_worker: ChunkReader | None = None


def _start_worker(columns: ColumnMap, kind: Kind, rules: ConflictRules | None) -> None:
    global _worker  # noqa: PLW0603 - one reader per worker process, set once at its start
    _worker = ChunkReader(columns, kind, rules)
    collect_less()


def collect_less() -> None:
    """Run the cycle collector far less often in a process that only imports.

    Keying allocates millions of short-lived tuples and sets, and each thousand of them
    started a collection that walked the long-lived objects too (the word lists, the
    matching caches): a third of a worker's time on the bench's accounts. Objects alive now
    are left out of collections for good (`gc.freeze`), and the youngest generation is
    collected every `GC_YOUNG` allocations instead of 700. Reference counting still frees
    nearly everything at once; only cycles wait longer.
    """
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG, middle, old)


@contextlib.contextmanager
def collecting_less() -> Iterator[None]:
    """`collect_less` for a while (this process may go on to do other things, e.g. tests)."""
    before = gc.get_threshold()
    collect_less()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def _read_in_worker(rows: list[Row], keyed: bool) -> Read:
    assert _worker is not None
    try:
        return _worker.read(rows, keyed)
    finally:
        # An import's names are nearly all distinct: the analysis cache (for the bot's
        # repeated lookups) would only grow each worker by a few hundred MB.
        forget_analyses()


class Chunks:
    """Chunks of rows mapped through a `ChunkReader`, in worker processes or in-process.

    Use as a context manager: the pool (if any) is shut down on leaving.
    """

    def __init__(
        self, columns: ColumnMap, kind: Kind, rules: ConflictRules | None, *, workers: int
    ) -> None:
        self.columns = columns
        self._local = ChunkReader(columns, kind, rules)
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1:
            # spawn, not fork: the parent holds an event loop and database connections.
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(columns, kind, rules),
            )

    def __enter__(self) -> Chunks:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    @property
    def workers(self) -> int:
        """Processes doing the work (1: this one)."""
        return self._workers if self._pool is not None else 1

    def read(self, chunks: Iterable[list[Row]], keyed: Callable[[], bool]) -> Iterator[Read]:
        """`ChunkReader.read` of each chunk, in order; `keyed()` is asked as each chunk is
        sent (a first import stops keying at its first bad row: it will write nothing)."""
        if self._pool is None:
            for chunk in chunks:
                yield self._local.read(chunk, keyed())
            return
        pending: deque[Future[Read]] = deque()
        for chunk in chunks:
            pending.append(self._pool.submit(_read_in_worker, chunk, keyed()))
            if len(pending) >= self._workers * WINDOW_PER_WORKER:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def chunked(rows: Iterable[Row], size: int | None = None) -> Iterator[list[Row]]:
    """Rows in lists of `size` (default `CHUNK_ROWS`)."""
    size = size or CHUNK_ROWS
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def worker_count(file_size: int, *, large_file: int) -> int:
    """Processes for a file: every core for a large one, this process for a small one."""
    return (os.cpu_count() or 1) if file_size >= large_file else 1
