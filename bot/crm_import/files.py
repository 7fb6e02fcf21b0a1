"""Streaming a CSV file for import: Excel's BOM, a sniffed delimiter, lines and a progress bar."""

from __future__ import annotations

import contextlib
import csv
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from domain.crm_import import RowError

ENCODING = "utf-8-sig"
DELIMITERS = ",;\t|"
SNIFF_CHARS = 64 * 1024
LARGE_FILE = 5_000_000
PROGRESS_EVERY = 500


class CsvProblem(Exception):
    """The file cannot be read as CSV at all; the message is for the user."""


@dataclass(frozen=True, slots=True)
class CsvFile:
    """A CSV file's header, delimiter and size, ready to stream its rows."""

    path: Path
    delimiter: str
    headers: list[str]
    size: int
    estimated_rows: int
    """Rows after the header, estimated from the lines in the first `SNIFF_CHARS`."""

    def rows(
        self, on_progress: Callable[[int], None]
    ) -> Iterator[tuple[int, list[str]] | RowError]:
        """(line, cells) for each record after the header; unreadable records as RowError.

        The line is where the record starts, so a quoted value spanning lines does not shift
        the numbers after it. `on_progress` gets the bytes read so far.
        """
        with self.path.open("rb") as raw, _text(raw, self.path) as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            next(reader, None)
            last = reader.line_num
            count = 0
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as error:
                    yield RowError(last + 1, f"not readable as CSV: {error}")
                else:
                    yield last + 1, row
                last = reader.line_num
                count += 1
                if count % PROGRESS_EVERY == 0:
                    on_progress(raw.tell())
            on_progress(self.size)


def open_csv(path: Path, delimiter: str | None = None) -> CsvFile:
    """Read the header row; sniff the delimiter (comma when unsure) unless one is given."""
    with path.open("rb") as raw, _text(raw, path) as text:
        sample = text.read(SNIFF_CHARS)
    if delimiter is None:
        delimiter = sniff_delimiter(sample)
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), None)
    if not header or not any(cell.strip() for cell in header):
        raise CsvProblem(f"{path} is empty: the first line must name the columns")
    size = path.stat().st_size
    lines = max(sample.count("\n"), 1)
    rows = round(size * lines / max(len(sample.encode()), 1)) - 1
    return CsvFile(path, delimiter, header, size, estimated_rows=max(rows, 0))


def sniff_delimiter(sample: str) -> str:
    """The delimiter csv.Sniffer sees in the first complete lines; a comma when it cannot tell."""
    lines = sample[: sample.rfind("\n") + 1] or sample
    try:
        return csv.Sniffer().sniff(lines, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


@contextlib.contextmanager
def _text(raw: io.BufferedReader, path: Path) -> Iterator[io.TextIOWrapper]:
    """The file as text; bytes that are not UTF-8 end the import with a one-line reason."""
    text = io.TextIOWrapper(raw, encoding=ENCODING, newline="")
    try:
        yield text
    except UnicodeDecodeError:
        raise CsvProblem(f"{path} is not UTF-8 text; save it as CSV UTF-8") from None
    finally:
        text.detach()


@contextlib.contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A bytes-read bar on stderr when it is a terminal or the file is large; else nothing."""
    if not (sys.stderr.isatty() or total >= LARGE_FILE):
        yield lambda _done: None
        return
    console = Console(file=sys.stderr)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with Progress(*columns, TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.update(task, completed=done)


def read_delimiter(value: str) -> str:
    """A delimiter as typed on the command line: one character, or `tab` (`\\t`)."""
    value = {"tab": "\t", "\\t": "\t"}.get(value.lower(), value)
    if len(value) != 1 or value in '"\r\n':
        raise ValueError("give one character, such as ; or tab")
    return value
