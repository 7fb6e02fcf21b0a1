"""Reading an import's rows and computing their candidate keys on every core.

Analysing a company name for its candidate keys costs far more than reading its row or
storing it, so a large import sends chunks of raw rows to worker processes, which read
them (`RowParser.read`), key them and put them in columns (`ImportBatch.keyed`), while the
main process reads the file and writes. Results come back in file order. A small file is
done in-process by the same code (`Chunks` with no pool): starting processes would cost more
than it saves.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from bot.crm_import.headers import CLAIMS, ColumnMap, Kind
from bot.crm_import.rows import RowParser
from domain.conflicts import ConflictRules
from domain.crm import Account, Opportunity
from domain.crm_import import Chunk, ImportBatch, KeyEncoder, ReadRows, RowError
from domain.matching.names import forget_analyses

Row = tuple[int, list[str]] | RowError
"""(line, cells) of one record in the file, or the reason it could not be read as CSV."""

CHUNK_ROWS = 1_000
GC_YOUNG = 100_000
WINDOW_PER_WORKER = 4
"""Chunks in flight per worker: enough to keep it busy, few enough to bound memory."""


class ChunkReader:
    """Reads chunks of rows: checked only, or keyed and ready to write as well."""

    def __init__(
        self, columns: ColumnMap, kind: Kind, rules: ConflictRules | None, encode: KeyEncoder
    ) -> None:
        self._parser = RowParser(columns, kind)
        self._kind = CLAIMS[kind]
        self._rules = rules
        self._encode = encode

    def read(self, rows: list[Row], keyed: bool) -> Chunk:
        """The rows checked and, when `keyed`, their good records with their keys.

        Checking alone reads less (`RowParser.check`: not the website of a record with an
        id of its own), for a first pass that only looks for bad rows.
        """
        if keyed and self._rules is None:
            raise RuntimeError("keys need the conflict rules")
        parser = self._parser
        has_own_id = parser.has_own_id
        out: ReadRows = []
        lines: list[int] = []
        records: list[Account | Opportunity] = []
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
            records.append(record)
        if not keyed or self._rules is None:
            return out, None
        return out, ImportBatch.keyed(self._kind, lines, records, self._rules, self._encode)


_worker: ChunkReader | None = None


def _start_worker(
    columns: ColumnMap, kind: Kind, rules: ConflictRules | None, encode: KeyEncoder
) -> None:
    global _worker  # noqa: PLW0603 - one reader per worker process, set once at its start
    _worker = ChunkReader(columns, kind, rules, encode)
    collect_less()


def collect_less() -> None:
    """Run the cycle collector far less often in a process that only imports.

    Keying allocates millions of short-lived tuples and sets, and each thousand of them would
    start a collection that walks the long-lived objects too (the word lists, the matching
    caches). Objects alive now are left out of collections for good (`gc.freeze`), and the
    youngest generation is collected every `GC_YOUNG` allocations instead of 700. Reference
    counting still frees nearly everything at once; only cycles wait longer.
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


def _read_in_worker(rows: list[Row], keyed: bool) -> Chunk:
    assert _worker is not None
    try:
        return _worker.read(rows, keyed)
    finally:
        # An import's names are nearly all distinct: the analysis cache (for the bot's
        # repeated lookups) would only grow each worker.
        forget_analyses()


class Chunks:
    """Chunks of rows mapped through a `ChunkReader`, in worker processes or in-process.

    Use as a context manager: the pool (if any) is shut down on leaving.
    """

    def __init__(
        self,
        columns: ColumnMap,
        kind: Kind,
        rules: ConflictRules | None,
        encode: KeyEncoder,
        *,
        workers: int,
    ) -> None:
        self.columns = columns
        self._local = ChunkReader(columns, kind, rules, encode)
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1:
            # spawn, not fork: the parent holds an event loop and database connections.
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(columns, kind, rules, encode),
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

    def read(self, chunks: Iterable[list[Row]], keyed: Callable[[], bool]) -> Iterator[Chunk]:
        """`ChunkReader.read` of each chunk, in order; `keyed()` is asked as each chunk is
        sent (a first import stops keying at its first bad row: it will write nothing)."""
        if self._pool is None:
            for chunk in chunks:
                yield self._local.read(chunk, keyed())
            return
        pending: deque[Future[Chunk]] = deque()
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
