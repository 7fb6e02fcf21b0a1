"""`dibs import accounts|opportunities FILE`: the direct team's CRM exports, upserted by id.

The command maps the file's columns, runs the import use case (`domain.services.crm`) on its
rows, and says what happened on the way: the columns read, the bad rows by line, then one line
of counts. A problem the user can fix ends as one `dibs: error: …` line and exit status 2.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy.exc import DBAPIError

from bot.bootstrap import make_uow_factory, utc_now
from bot.crm_import.files import CsvProblem, open_csv, read_delimiter
from bot.crm_import.headers import CLAIMS, ColumnMap, Kind, normal_header, read_map, resolve_columns
from bot.crm_import.pool import worker_count
from bot.crm_import.source import CsvSource
from bot.settings import get_settings
from domain.conflicts import ConflictRules
from domain.crm_import import BadRows, Tally
from domain.errors import DomainError
from domain.policy import NO_DESK, ProgramPolicy
from domain.ports import UnitOfWork
from domain.services import CrmImports, ServiceContext
from domain.services.crm import Phase
from storage.crm import SqlAlchemyCrmRepository, tune_for_bulk_load
from storage.db import make_engine

logger = logging.getLogger("bot.crm_import")

POOL_MIN_BYTES = 4_000_000
"""Files this large (some 40,000 rows) are read and keyed on every core."""


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
    try:
        return read_map(values)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--map") from None


def _delimiter(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    try:
        return None if value is None else read_delimiter(value)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--delimiter") from None


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
            csv_file = open_csv(file, delimiter)
            columns = resolve_columns(csv_file.headers, kind, overrides)
            _describe(columns)
            workers = worker_count(csv_file.size, large_file=POOL_MIN_BYTES)
            encode = SqlAlchemyCrmRepository.encode_keys
            source = CsvSource(csv_file, columns, kind, encode=encode, workers=workers)
            run = _dry_run if dry_run else _import
            asyncio.run(run(source, skip_bad_rows=skip_bad_rows))
        except BadRows as error:
            found = error.tally
            _fail(
                f"{_plural(found.bad, 'bad row')} in {file.name}; nothing was imported "
                f"(fix them, or add --skip-bad-rows to import the other {found.good:,})"
            )
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


class _Progress:
    """What the command shows while the use case works (`ImportProgress`), and how long each
    phase took, for the log."""

    def __init__(self, kind: Kind, *, dry_run: bool = False) -> None:
        self.kind: Kind = kind
        self.dry_run = dry_run
        self.done = 0
        self.marks: dict[Phase, float] = {}

    def phase(self, phase: Phase) -> None:
        self.marks[phase] = time.perf_counter()

    def written(self, records: int) -> None:
        self.done = records

    def checked(self, tally: Tally) -> None:
        """List the bad rows (and, in a dry run, what would be imported)."""
        for error in tally.listed:
            click.echo(f"line {error.line}: {error.reason}", err=True)
        if tally.bad > len(tally.listed):
            more = _plural(tally.bad - len(tally.listed), "more bad row")
            click.echo(f"… and {more}", err=True)
        if self.dry_run:
            bad = f", {_plural(tally.bad, 'bad row')}" if tally.bad else ""
            click.echo(f"dry run: {tally.good:,} {self.kind} to import{bad}; nothing was changed")

    def seconds(self) -> tuple[float, float, float]:
        """Checking, writing, and building the index."""
        now = time.perf_counter()
        phases: tuple[Phase, ...] = ("checking", "writing", "indexing")
        started, checked, wrote = (self.marks.get(phase, now) for phase in phases)
        return checked - started, wrote - checked, now - wrote


def _imports(uow: Callable[[], UnitOfWork]) -> CrmImports:
    """The import use case on `uow`'s storage (the command needs no policy file)."""
    context = ServiceContext(
        uow=uow,
        clock=utc_now,
        desk=NO_DESK,
        program=ProgramPolicy(),
    )
    return CrmImports(context, ConflictRules())


def _no_storage() -> UnitOfWork:
    raise RuntimeError("a dry run opens no unit of work")


async def _dry_run(source: CsvSource, *, skip_bad_rows: bool) -> None:
    """Check and count the rows; no database is touched."""
    progress = _Progress(source.kind, dry_run=True)
    await _imports(_no_storage).check(source, skip_bad_rows=skip_bad_rows, progress=progress)


async def _import(source: CsvSource, *, skip_bad_rows: bool) -> None:
    """Run the import on the configured database and report it."""
    try:
        database_url = get_settings().database_url
    except Exception as error:  # pydantic validation of the environment
        raise _Abort(f"bad environment: {error}".splitlines()[0]) from None
    kind = source.kind
    engine = make_engine(database_url)
    tune_for_bulk_load(engine)
    progress = _Progress(kind)
    try:
        imports = _imports(make_uow_factory(engine))
        outcome = await imports.run(
            source, CLAIMS[kind], skip_bad_rows=skip_bad_rows, progress=progress
        )
        seconds = progress.seconds()
    except DBAPIError as error:
        first = str(error.orig).splitlines()[0] if error.orig else str(error)
        raise _Abort(
            f"database: {first} ({progress.done:,} {kind} were imported before it; "
            "re-running the import is safe)"
        ) from None
    finally:
        await engine.dispose()
    found, counts = outcome.tally, outcome.counts
    skipped = f"; skipped {_plural(found.bad, 'bad row')}" if found.bad else ""
    click.echo(
        f"imported {outcome.written:,} {kind} from {source.name}: "
        f"{counts.inserted:,} new, {counts.updated:,} updated{skipped}"
    )
    logger.info(
        "crm import: %s %s from %s (%s new, %s updated, %s bad rows skipped; %s processes; "
        "checked in %.1f s, written in %.1f s, indexed in %.1f s; %.0f CPU s here)",
        outcome.written,
        kind,
        source.file.path,
        counts.inserted,
        counts.updated,
        found.bad,
        source.workers,
        *seconds,
        time.process_time(),
    )


import_accounts = _command("accounts")
import_opportunities = _command("opportunities")
