"""What every `dibs` command shares: one way to end with `dibs: error: …`, the
environment's settings, and the use cases bound to the configured database."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

import click
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import make_uow_factory, utc_now
from bot.config import DibsConfig
from bot.settings import Settings, SettingsError, get_settings
from domain.errors import DomainError
from domain.policy import NO_DESK, ProgramPolicy
from domain.services import ServiceContext, Services
from storage.db import make_engine

T = TypeVar("T")


UPGRADE_HINT = " (has `dibs db upgrade` been run?)"


def execute(make: Callable[[], Awaitable[T]], *, database_hint: str = UPGRADE_HINT) -> T:
    """Run a coroutine; turn user-facing errors into `dibs: error: …` and exit 2."""
    try:
        return asyncio.run(make())  # type: ignore[arg-type]
    except (SettingsError, DomainError) as error:
        message = error.message if isinstance(error, DomainError) else str(error)
        click.echo(f"dibs: error: {message}", err=True)
    except (ArgumentError, NoSuchModuleError) as error:
        first = str(error).splitlines()[0]
        click.echo(
            f"dibs: error: DIBS_DATABASE_URL is not a database URL we can use: {first}", err=True
        )
    except DBAPIError as error:
        first = str(error.orig).splitlines()[0] if error.orig else str(error)
        click.echo(f"dibs: error: database: {first}{database_hint}", err=True)
    sys.exit(2)


def read_settings() -> Settings:
    """The environment's settings, or one `dibs: error:` line and exit 2."""
    try:
        return get_settings()
    except Exception as error:  # pydantic validation of the environment
        click.echo(f"dibs: error: bad environment: {error}".splitlines()[0], err=True)
        sys.exit(2)


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]], *, empty: str) -> None:
    """`rows` under `header`, tab-separated on stdout; `empty` (a hint) when there are none."""
    if not rows:
        click.echo(empty)
        return
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


@contextlib.asynccontextmanager
async def open_services(config: DibsConfig | None = None) -> AsyncIterator[Services]:
    """The use cases for a CLI command, on the configured database; `config`, the policy
    file, for the commands that need one (the others need no desk)."""
    engine = make_engine(read_settings().database_url)
    try:
        yield Services.bind(service_context(engine, config))
    finally:
        await engine.dispose()


def service_context(engine: AsyncEngine, config: DibsConfig | None) -> ServiceContext:
    return ServiceContext(
        uow=make_uow_factory(engine),
        clock=utc_now,
        desk=config.desk if config else NO_DESK,
        program=config.program if config else ProgramPolicy(),
    )
