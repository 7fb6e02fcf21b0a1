"""A CSV file as the import use case reads it (`domain.services.crm.RowSource`): chunks of
rows, read and keyed by `pool`, with a progress bar over each pass."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterator

from bot.crm_import.files import CsvFile, progress_bar
from bot.crm_import.headers import ColumnMap, Kind
from bot.crm_import.pool import Chunks, chunked, collecting_less
from domain.conflicts import ConflictRules
from domain.crm_import import Chunk, KeyEncoder
from domain.services.crm import Pass


class CsvSource:
    """The rows of `file`, its columns mapped, read by `workers` processes; `encode` gives
    each record's keys the form storage takes."""

    def __init__(
        self, file: CsvFile, columns: ColumnMap, kind: Kind, *, encode: KeyEncoder, workers: int
    ) -> None:
        self.file = file
        self.columns = columns
        self.kind: Kind = kind
        self._encode = encode
        self._workers = workers
        self.workers = 1
        """Processes the last reading used (1: this one)."""

    @property
    def name(self) -> str:
        return self.file.path.name

    @property
    def estimated_rows(self) -> int:
        return self.file.estimated_rows

    @contextlib.contextmanager
    def reading(self, rules: ConflictRules | None) -> Iterator[_Reader]:
        """Worker processes (for a large file) until the block ends; `rules` key records."""
        chunks = Chunks(self.columns, self.kind, rules, self._encode, workers=self._workers)
        with chunks, collecting_less():
            self.workers = chunks.workers
            yield _Reader(self.file, chunks)


class _Reader:
    def __init__(self, file: CsvFile, chunks: Chunks) -> None:
        self._file = file
        self._chunks = chunks

    def read(self, step: Pass, *, keyed: Callable[[], bool]) -> Generator[Chunk, None, None]:
        """A pass over the file in chunks, with a bar labelled `checking FILE` or
        `importing FILE`."""
        with progress_bar(f"{step} {self._file.path.name}", self._file.size) as advance:
            yield from self._chunks.read(chunked(self._file.rows(advance)), keyed)
