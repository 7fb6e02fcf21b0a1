"""`dibs import accounts|opportunities FILE`: the direct team's CRM exports, upserted by id.

A file with a bad row changes nothing unless `--skip-bad-rows`. The good records are written
in batches of 20,000, one transaction per batch; re-running an import is safe: records are
upserted by their external id. Into a table that holds records of that kind the file is read
twice: once to check every row, then again to write. A first import (none of that kind
stored) reads it once, checking and writing together: at its first bad row it stops
writing, reads on to list the others, and deletes what it wrote.

The worker processes (`bot.import_pool`) read, key and shape the records; this process only
writes them, below the ORM (`SqlAlchemyCrmRepository.bulk_upsert`). An import into an empty
table skips looking up its ids; one that at least doubles the stored records (and has
`DEFER_INDEX_MIN` of them) builds the key index once at the end on SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, Protocol, cast

import click
from sqlalchemy.exc import DBAPIError

from bot.bootstrap import make_uow_factory
from bot.csv_file import CsvFile, CsvProblem, open_csv, progress_bar
from bot.import_pool import Chunks, Prepared, Seen, chunked, collecting_less, worker_count
from bot.settings import get_settings
from domain.company_aliases import with_aliases
from domain.conflicts import ClaimKind, ConflictRules
from domain.crm import UpsertCounts
from domain.crm_csv import ColumnMap, Kind, RowError, RowParser, normal_header, resolve_columns
from domain.errors import DomainError
from domain.ports import UnitOfWork
from storage.crm import BulkRecords, tune_for_bulk_load
from storage.db import make_engine
from storage.models import utcnow

logger = logging.getLogger(__name__)

BATCH_SIZE = 20_000
"""Records per transaction: fewer, larger commits write each touched index page once."""
MAX_LISTED = 50
POOL_MIN_BYTES = 4_000_000
"""Files this large (some 40,000 rows) are read and keyed on every core."""
DEFER_INDEX_MIN = 50_000
"""Records from which an import that at least doubles the stored ones builds the key index
after writing them (SQLite), instead of updating it record by record."""
_CRM = "crm"
_CLAIMS: dict[Kind, ClaimKind] = {
    "accounts": ClaimKind.account,
    "opportunities": ClaimKind.opportunity,
}


class CrmWriter(Protocol):
    """Writes an import's records in bulk, upserted by external id; one transaction a call."""

    async def begin(self, kind: ClaimKind) -> int:
        """Get ready to write records of `kind`; how many of them are stored."""

    async def defer_index(self) -> None:
        """Set the key index aside while a bulk load writes, if that is faster (`finish`
        builds it)."""

    async def upsert(
        self, kind: ClaimKind, records: BulkRecords, *, first_import: bool
    ) -> UpsertCounts: ...

    async def discard(self, kind: ClaimKind) -> None:
        """Delete the records this import wrote (a first import: it inserted them all)."""

    async def finish(self, *, written: int) -> None:
        """Put back what `begin` set aside; refresh statistics when records were written."""

    async def rules(self) -> ConflictRules:
        """The rules to key records under: the shipped aliases and the admins' ones."""


class _BulkCrm(Protocol):
    """What the SQL CRM repository adds to `domain.ports.CrmRepository` for imports."""

    async def bulk_upsert(
        self,
        kind: ClaimKind,
        records: BulkRecords,
        *,
        now: datetime | None = None,
        first_import: bool = False,
    ) -> UpsertCounts: ...

    async def discard_imported(self, kind: ClaimKind, stamp: datetime) -> None: ...

    async def stored(self, kind: ClaimKind) -> int: ...

    async def defer_key_index(self) -> bool: ...

    async def ensure_key_index(self) -> None: ...

    async def refresh_statistics(self) -> None: ...


class _UowCrmWriter:
    """Writes each batch through `uow.crm` in a unit of work of its own."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow_factory = uow_factory
        self._deferred = False
        self._stamp = utcnow()

    async def begin(self, kind: ClaimKind) -> int:
        self._stamp = utcnow()  # every record of the import: imported at its start
        async with self._uow_factory() as uow:
            crm = cast(_BulkCrm, uow.crm)
            await crm.ensure_key_index()  # an import that was killed may have left it out
            stored = await crm.stored(kind)
            await uow.commit()
        return stored

    async def defer_index(self) -> None:
        async with self._uow_factory() as uow:
            self._deferred = await cast(_BulkCrm, uow.crm).defer_key_index()
            await uow.commit()

    async def upsert(
        self, kind: ClaimKind, records: BulkRecords, *, first_import: bool
    ) -> UpsertCounts:
        async with self._uow_factory() as uow:
            crm = cast(_BulkCrm, uow.crm)
            counts = await crm.bulk_upsert(
                kind, records, now=self._stamp, first_import=first_import
            )
            await uow.commit()
        return counts

    async def discard(self, kind: ClaimKind) -> None:
        async with self._uow_factory() as uow:
            await cast(_BulkCrm, uow.crm).discard_imported(kind, self._stamp)
            await uow.commit()

    async def finish(self, *, written: int) -> None:
        async with self._uow_factory() as uow:
            crm = cast(_BulkCrm, uow.crm)
            if self._deferred:
                await crm.ensure_key_index()
                self._deferred = False
            if written:
                await crm.refresh_statistics()
            await uow.commit()

    async def rules(self) -> ConflictRules:
        """The conflict rules with the admins' aliases (the keys an import stores)."""
        async with self._uow_factory() as uow:
            return with_aliases(ConflictRules(), await uow.aliases.list_all())


def crm_storage_available() -> bool:
    """True once the UnitOfWork protocol declares a `crm` repository."""
    return _CRM in getattr(UnitOfWork, "__annotations__", {}) or hasattr(UnitOfWork, _CRM)


async def restore_key_index(uow_factory: Callable[[], UnitOfWork]) -> None:
    """Put back the key index that a large first import sets aside on SQLite, in case the
    import was killed before it could (an instant no-op when the index is there): without
    it every conflict check scans the key table."""
    if not crm_storage_available():
        return
    async with uow_factory() as uow:
        await cast(_BulkCrm, uow.crm).ensure_key_index()
        await uow.commit()


def crm_writer(uow_factory: Callable[[], UnitOfWork]) -> CrmWriter | None:
    """Writing through `uow.crm`, or None while storage has no CRM tables (tests swap this)."""
    return _UowCrmWriter(uow_factory) if crm_storage_available() else None


async def store(
    chunks: Iterable[Prepared],
    *,
    writer: CrmWriter,
    kind: ClaimKind,
    first_import: bool = False,
    batch_size: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> UpsertCounts:
    """Upsert the records in batches of `batch_size` (default `BATCH_SIZE`); `on_batch` gets
    the running record count."""
    batch_size = batch_size or BATCH_SIZE
    inserted = updated = done = 0
    values: list[tuple[Any, ...]] = []
    keys: list[str] = []

    async def flush() -> None:
        nonlocal inserted, updated, done, values, keys
        counts = await writer.upsert(kind, BulkRecords(values, keys), first_import=first_import)
        inserted += counts.inserted
        updated += counts.updated
        done += len(values)
        logger.debug("crm import: %s records written", done)
        values, keys = [], []
        if on_batch is not None:
            on_batch(done)

    for chunk in chunks:
        records = chunk.records
        start = 0
        while start < len(records.values):
            end = start + batch_size - len(values)
            values += records.values[start:end]
            keys += records.keys[start:end]
            start = end
            if len(values) >= batch_size:
                await flush()
    if values:
        await flush()
    return UpsertCounts(inserted=inserted, updated=updated)


@dataclass(slots=True)
class Check:
    """What reading the rows found: good records counted, bad rows listed (the first 50), and
    the lines whose external id repeats an earlier line's (skipped when writing)."""

    good: int = 0
    bad: int = 0
    listed: list[RowError] = field(default_factory=list)
    repeated: set[int] = field(default_factory=set)

    def add(self, items: list[Seen | RowError], ids: RowParser) -> set[int]:
        """Count a chunk's rows (chunks in file order); the lines in it that repeat an id."""
        repeated: set[int] = set()
        for item in items:
            error = _repeated(ids, item) if isinstance(item, tuple) else item
            if error is None:
                self.good += 1
                continue
            if isinstance(item, tuple):
                repeated.add(item[0])
            self.bad += 1
            if len(self.listed) < MAX_LISTED:
                self.listed.append(error)
        self.repeated |= repeated
        return repeated


def check(source: CsvFile, columns: ColumnMap, kind: Kind, chunks: Chunks) -> Check:
    """Read every row once, counting good records and collecting bad rows."""
    result = Check()
    ids = RowParser(columns, kind)
    with progress_bar(f"checking {source.path.name}", source.size) as advance:
        for items, _records in chunks.read(chunked(source.rows(advance)), keyed=_never):
            result.add(items, ids)
    return result


def _never() -> bool:
    return False


def _always() -> bool:
    return True


def _repeated(ids: RowParser, seen: Seen) -> RowError | None:
    line, external_id, own_id = seen
    return ids.first_time(external_id, line, own_id=own_id)


def _good(
    source: CsvFile, chunks: Chunks, found: Check, advance: Callable[[int], None]
) -> Iterator[Prepared]:
    """The good records with their keys, in file order (the first pass found the bad ones)."""
    for _items, prepared in chunks.read(chunked(source.rows(advance)), keyed=_always):
        assert prepared is not None
        yield prepared.without(found.repeated) if found.repeated else prepared


class _Blocked(Exception):
    """A first import found bad rows and may not skip them: what it wrote is to be deleted."""


def _good_as_checked(
    source: CsvFile,
    chunks: Chunks,
    kind: Kind,
    found: Check,
    advance: Callable[[int], None],
    *,
    skip_bad_rows: bool,
) -> Iterator[Prepared]:
    """The good records with their keys, in file order, checked (into `found`) as they are
    read. Unless `skip_bad_rows`, the first bad row ends them: the rest of the file is only
    checked, to list its bad rows as well, and then `_Blocked` is raised."""
    ids = RowParser(chunks.columns, kind)

    def blocked() -> bool:
        return bool(found.bad) and not skip_bad_rows

    for items, prepared in chunks.read(chunked(source.rows(advance)), lambda: not blocked()):
        repeated = found.add(items, ids)
        if blocked():
            continue
        assert prepared is not None
        yield prepared.without(repeated) if repeated else prepared
    if blocked():
        raise _Blocked


class _Abort(Exception):
    """Ends the command with `dibs: error: <message>` and exit status 2."""


def _fail(message: str) -> NoReturn:
    click.echo(f"dibs: error: {message}", err=True)
    sys.exit(2)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _overrides(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        column, sep, name = (part.strip() for part in value.rpartition("="))
        if not sep or not column or not name:
            raise click.BadParameter(f"{value!r} is not COLUMN=FIELD", param_hint="--map")
        if column in mapping:
            raise click.BadParameter(f"column {column!r} is mapped twice", param_hint="--map")
        mapping[column] = name
    return mapping


def _delimiter(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    value = {"tab": "\t", "\\t": "\t"}.get(value.lower(), value)
    if len(value) != 1 or value in '"\r\n':
        raise click.BadParameter("give one character, such as ; or tab", param_hint="--delimiter")
    return value


@click.group("import")
def import_group() -> None:
    """Import the direct team's CRM accounts and open opportunities from CSV exports."""


def _command(kind: Kind) -> click.Command:
    """`dibs import KIND FILE` with its options."""

    @import_group.command(
        kind,
        short_help=f"Upsert CRM {kind} from a CSV file.",
        help=f"Upsert {kind} from a CSV export (ours, Salesforce, HubSpot), by external id.",
    )
    @click.argument(
        "file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
    )
    @click.option(
        "--map",
        "overrides",
        multiple=True,
        callback=_overrides,
        metavar="COLUMN=FIELD",
        help="Read COLUMN as FIELD (repeatable); FIELD `ignore` skips the column.",
    )
    @click.option("--dry-run", is_flag=True, help="Check and count; change nothing.")
    @click.option("--skip-bad-rows", is_flag=True, help="Import the good rows despite bad ones.")
    @click.option(
        "--delimiter", callback=_delimiter, help="Column separator (default: detected, else comma)."
    )
    def command(
        file: Path,
        overrides: dict[str, str],
        dry_run: bool,
        skip_bad_rows: bool,
        delimiter: str | None,
    ) -> None:
        try:
            source = open_csv(file, delimiter)
            columns = resolve_columns(source.headers, kind, overrides)
            _describe(columns)
            if dry_run:
                with _chunks(source, columns, kind, None) as chunks:
                    _checked(source, chunks, kind, skip_bad_rows=skip_bad_rows, dry_run=True)
            else:
                asyncio.run(_import(source, columns, kind, skip_bad_rows=skip_bad_rows))
        except (_Abort, CsvProblem) as error:
            _fail(str(error))
        except DomainError as error:
            _fail(error.message)

    return command


def _describe(columns: ColumnMap) -> None:
    used = ", ".join(
        header if normal_header(header) == normal_header(name) else f"{header} → {name}"
        for header, name in columns.used()
    )
    click.echo(f"columns: {used}", err=True)
    if columns.unused():
        click.echo(f"not imported: {', '.join(columns.unused())}", err=True)


def _chunks(source: CsvFile, columns: ColumnMap, kind: Kind, rules: ConflictRules | None) -> Chunks:
    """Worker processes for a large file (`rules` to compute keys; None to check only)."""
    workers = worker_count(source.size, large_file=POOL_MIN_BYTES)
    return Chunks(columns, kind, rules, workers=workers)


def _checked(
    source: CsvFile, chunks: Chunks, kind: Kind, *, skip_bad_rows: bool, dry_run: bool
) -> Check:
    """The first pass, its bad rows listed; aborts when a bad row would block the import."""
    found = check(source, chunks.columns, kind, chunks)
    _report(found, source, kind, skip_bad_rows=skip_bad_rows, dry_run=dry_run)
    return found


def _report(
    found: Check, source: CsvFile, kind: Kind, *, skip_bad_rows: bool, dry_run: bool = False
) -> None:
    """List the bad rows; abort when one blocks the import."""
    for error in found.listed:
        click.echo(f"line {error.line}: {error.reason}", err=True)
    if found.bad > len(found.listed):
        click.echo(f"… and {_plural(found.bad - len(found.listed), 'more bad row')}", err=True)
    if dry_run:
        bad = f", {_plural(found.bad, 'bad row')}" if found.bad else ""
        click.echo(f"dry run: {found.good:,} {kind} to import{bad}; nothing was changed")
    if found.bad and not skip_bad_rows:
        raise _Abort(
            f"{_plural(found.bad, 'bad row')} in {source.path.name}; nothing was imported "
            f"(fix them, or add --skip-bad-rows to import the other {found.good:,})"
        )


@dataclass(slots=True)
class _Run:
    """How far an import got: rows checked, records written, seconds per phase."""

    found: Check = field(default_factory=Check)
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    written: int = 0
    workers: int = 1
    seconds: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def progress(self, done: int) -> None:
        self.written = done


async def _import(source: CsvFile, columns: ColumnMap, kind: Kind, *, skip_bad_rows: bool) -> None:
    """Upsert the file's good records batch by batch: checked first, or as they are read
    in a first import (see the module's docstring)."""
    try:
        database_url = get_settings().database_url
    except Exception as error:  # pydantic validation of the environment
        raise _Abort(f"bad environment: {error}".splitlines()[0]) from None
    engine = make_engine(database_url)
    tune_for_bulk_load(engine)
    run = _Run()
    try:
        writer = crm_writer(make_uow_factory(engine))
        if writer is None:
            raise _Abort("CRM storage is not available yet")
        first_import = await _write(run, source, columns, kind, writer, skip_bad_rows=skip_bad_rows)
    except DBAPIError as error:
        first = str(error.orig).splitlines()[0] if error.orig else str(error)
        raise _Abort(
            f"database: {first} ({run.written:,} {kind} were imported before it; "
            "re-running the import is safe)"
        ) from None
    finally:
        await engine.dispose()
    found, counts = run.found, run.counts
    if first_import:
        _report(found, source, kind, skip_bad_rows=skip_bad_rows)
    skipped = f"; skipped {_plural(found.bad, 'bad row')}" if found.bad else ""
    click.echo(
        f"imported {run.written:,} {kind} from {source.path.name}: "
        f"{counts.inserted:,} new, {counts.updated:,} updated{skipped}"
    )
    logger.info(
        "crm import: %s %s from %s (%s new, %s updated, %s bad rows skipped; %s processes; "
        "checked in %.1f s, written in %.1f s, indexed in %.1f s; %.0f CPU s here)",
        run.written,
        kind,
        source.path,
        counts.inserted,
        counts.updated,
        found.bad,
        run.workers,
        *run.seconds,
        time.process_time(),
    )


async def _write(
    run: _Run,
    source: CsvFile,
    columns: ColumnMap,
    kind: Kind,
    writer: CrmWriter,
    *,
    skip_bad_rows: bool,
) -> bool:
    """Check and write the file's records into `run`; True when it was a first import."""
    rules = await writer.rules()
    started = time.perf_counter()
    claim = _CLAIMS[kind]
    stored = await writer.begin(claim)
    first_import = stored == 0
    chunks = _chunks(source, columns, kind, rules)
    run.workers = chunks.workers
    try:
        with chunks, collecting_less():
            if not first_import:
                run.found = _checked(
                    source, chunks, kind, skip_bad_rows=skip_bad_rows, dry_run=False
                )
            checked = time.perf_counter()
            incoming = source.estimated_rows if first_import else run.found.good
            if incoming >= DEFER_INDEX_MIN and stored < incoming:
                await writer.defer_index()
            with progress_bar(f"importing {source.path.name}", source.size) as advance:
                records = (
                    _good_as_checked(
                        source, chunks, kind, run.found, advance, skip_bad_rows=skip_bad_rows
                    )
                    if first_import
                    else _good(source, chunks, run.found, advance)
                )
                run.counts = await store(
                    records,
                    writer=writer,
                    kind=claim,
                    first_import=first_import,
                    on_batch=run.progress,
                )
    except _Blocked:
        await writer.discard(claim)
        run.written = 0
    finally:  # after the worker processes have ended: building an index takes memory
        wrote = time.perf_counter()
        await writer.finish(written=run.written)
    run.seconds = (checked - started, wrote - checked, time.perf_counter() - wrote)
    return first_import


import_accounts = _command("accounts")
import_opportunities = _command("opportunities")
