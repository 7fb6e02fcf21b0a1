"""The `dibs` command: serve the bot, migrate the database, link partners, show a registration,
export the audit log.

Every problem a user can cause (a missing token, a bad config key, bad input) ends as one
line on stderr and a non-zero exit, never a stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import getpass
import logging
import logging.config
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, TypeGuard, TypeVar

import click
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import make_uow_factory, require_config, utc_now
from bot.config import DibsConfig
from bot.crm_import.cli import import_group
from bot.server import serve_forever
from bot.settings import Settings, SettingsError, get_settings
from bot.views.checks import check_lines
from bot.views.show import show_lines
from domain.cases import RegistrationWithPartner
from domain.company_aliases import AliasOutcome, CompanyAlias
from domain.errors import DomainError
from domain.matching import CompanyRef
from domain.policy import NO_DESK, ProgramPolicy
from domain.services import LinkPartner, ServiceContext, Services
from domain.slack_ids import (
    is_slack_channel_id,
    is_slack_enterprise_id,
    is_slack_team_id,
    is_slack_user_id,
)
from storage.db import make_engine
from storage.migrate import upgrade

T = TypeVar("T")
logger = logging.getLogger(__name__)


def configure_logging(level: str = "INFO") -> None:
    """Plain, greppable log lines on stderr; ids only, never tokens or payloads."""
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
            "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
            "root": {"level": level, "handlers": ["stderr"]},
            "loggers": {"aiohttp.access": {"level": "WARNING"}},
        }
    )


UPGRADE_HINT = " (has `dibs db upgrade` been run?)"


def _run(make: Callable[[], Awaitable[T]], *, database_hint: str = UPGRADE_HINT) -> T:
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


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as error:  # pydantic validation of the environment
        click.echo(f"dibs: error: bad environment: {error}".splitlines()[0], err=True)
        sys.exit(2)


@click.group()
@click.option("--log-level", default="INFO", show_default=True, help="Logging level.")
def main(log_level: str) -> None:
    """Dibs: partner deal registration in Slack."""
    configure_logging(log_level.upper())


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on.")
@click.option("--port", default=3000, show_default=True, type=int, help="HTTP port.")
def serve(host: str, port: int) -> None:
    """Answer Slack: HTTP (/slack/events, /healthz), or Socket Mode when SLACK_APP_TOKEN is set."""
    settings = _settings()
    _run(lambda: serve_forever(settings, host=host, port=port))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration (creates the database if it is new)."""
    settings = _settings()
    _run(lambda: upgrade(settings.database_url), database_hint="")
    click.echo("database is up to date")


@main.group()
def partners() -> None:
    """Partner organisations and their shared channels."""


@partners.command("add")
@click.argument("name")
@click.option("--tier", required=True, help="Partner tier, e.g. Gold.")
@click.option("--channel", "channel_id", required=True, help="The shared channel id, C….")
@click.option("--slack-team", "team_id", default=None, help="The partner's Slack team id, T….")
@click.option(
    "--slack-enterprise", "enterprise_id", default=None, help="The partner's Grid id, E…."
)
@click.option(
    "--manager",
    "manager_id",
    default=None,
    help="The vendor's channel manager for this partner, U…; named in conflict threads.",
)
@click.option(
    "--code",
    default=None,
    help="Short code for its references (NW gives NW-0001, NW-0002, …): 2 to 6 letters or "
    "digits, starting with a letter. Default: from the name (initials), or the code it has.",
)
def partners_add(  # click passes every option by name
    name: str,
    *,
    tier: str,
    channel_id: str,
    team_id: str | None,
    enterprise_id: str | None,
    manager_id: str | None,
    code: str | None,
) -> None:
    """Link a partner to its shared channel; the running bot posts the launcher there.

    Run again for the same channel to update it; a new --code applies to its future
    registrations only (references already given never change). Reads the policy file
    (DIBS_CONFIG or dibs.toml): the desk channel is never linked."""
    cmd = LinkPartner(
        name=name,
        tier=tier,
        channel_id=_slack_id(channel_id, "--channel", is_slack_channel_id),
        slack_team_id=_optional_id(team_id, "--slack-team", is_slack_team_id),
        slack_enterprise_id=_optional_id(
            enterprise_id, "--slack-enterprise", is_slack_enterprise_id
        ),
        manager_user_id=_optional_id(manager_id, "--manager", is_slack_user_id),
        code=code,
    )

    async def run() -> Any:
        config = require_config(_settings())  # the desk channel is never a partner's
        async with _services(config) as services:
            return await services.partners.link(cmd)

    partner = _run(run)
    manager = f", channel manager {partner.manager_user_id}" if partner.manager_user_id else ""
    click.echo(
        f"linked partner {partner.id}: {partner.name} ({partner.tier}) to {partner.channel_id}"
        f"{manager}; its references read {partner.code}-0001, {partner.code}-0002, …; "
        "the launcher is queued for the bot to post"
    )


@partners.command("list")
def partners_list() -> None:
    """Every linked partner, one per line."""

    async def run() -> Any:
        async with _services() as services:
            return await services.partners.all()

    rows = _run(run)
    if not rows:
        click.echo("no partners yet: dibs partners add NAME --tier TIER --channel C…")
        return
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    writer.writerow(
        ["id", "code", "name", "tier", "channel", "slack_team", "slack_enterprise", "manager"]
    )
    for p in rows:
        writer.writerow(
            [
                p.id,
                p.code or "",
                p.name,
                p.tier,
                p.channel_id,
                p.slack_team_id or "",
                p.slack_enterprise_id or "",
                p.manager_user_id or "",
            ]
        )


@main.group()
def export() -> None:
    """Export data."""


@export.command("audit")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: stdout).",
)
def export_audit(fmt: str, output: Path | None) -> None:
    """Every audit event (who, when, from, to, why), oldest first."""

    partial = None if output is None else output.with_name(f".{output.name}.partial")

    async def run() -> int:
        async with _services() as services:
            if partial is None:
                return await _write_audit(services, sys.stdout)
            with partial.open("w", newline="", encoding="utf-8") as handle:
                return await _write_audit(services, handle)

    try:
        count = _run(run)
    except SystemExit:
        if partial is not None:
            partial.unlink(missing_ok=True)  # a failed export leaves the old file as it was
        raise
    if output is not None and partial is not None:
        partial.replace(output)
    if output is not None:
        click.echo(f"wrote {count} audit events to {output}", err=True)


async def _write_audit(services: Services, handle: IO[str]) -> int:
    writer = csv.writer(handle)
    writer.writerow(
        [
            "registration",
            "at",
            "actor_team",
            "actor_user",
            "actor_enterprise",
            "action",
            "from_status",
            "to_status",
            "reason",
        ]
    )
    count = 0
    async for record in services.registrations.audit_trail():
        event = record.event
        writer.writerow(
            [
                record.reference,
                event.at.isoformat(),
                event.actor.team_id,
                event.actor.user_id,
                event.actor.enterprise_id or "",
                event.action,
                event.from_status or "",
                event.to_status,
                event.reason or "",
            ]
        )
        count += 1
    return count


@main.command()
@click.argument("name")
@click.option("--domain", default=None, help="The company's website, e.g. globex.com.")
@click.option("--email", default=None, help="A contact's e-mail address at the company.")
@click.option("--country", default=None, help="ISO country code, e.g. DE.")
def check(name: str, domain: str | None, email: str | None, country: str | None) -> None:
    """Who already has a claim on a company (registrations, accounts, opportunities), and why."""
    ref = CompanyRef(name, domain=domain, email=email, country=country)

    async def run() -> Any:
        engine = make_engine(_settings().database_url)
        try:
            context = _context(engine, None)
            rules = (await Services.bind(context).aliases.current_rules()).rules
            checks = Services.bind(replace(context, rules=lambda: rules)).checks
            return await checks.company(ref)
        finally:
            await engine.dispose()

    for line in check_lines(_run(run)):
        click.echo(line)


@main.command()
@click.argument("reference")
def show(reference: str) -> None:
    """One registration by its reference (NW-0007, or an older DR-0012): company, partner,
    status, amount and where it stands."""

    async def run() -> RegistrationWithPartner:
        async with _services() as services:
            return await services.registrations.find(reference)

    for line in show_lines(_run(run), now=utc_now()):
        click.echo(line)


@main.group()
def aliases() -> None:
    """Other names of a company (renames, short forms) that conflict checks treat as one."""


@aliases.command("add")
@click.argument("name")
@click.argument("alias")
def aliases_add(name: str, alias: str) -> None:
    """Treat ALIAS as another name of NAME, e.g. "Meta Platforms" "Facebook".

    Takes effect at once: the records it concerns are re-keyed now, and the running bot
    uses it from its next check.
    """

    async def run() -> AliasOutcome:
        async with _services() as services:
            return await services.aliases.add(name, alias, added_by=_cli_user())

    outcome = _run(run)
    if outcome.already or outcome.alias is None:
        click.echo(f"{name!r} and {alias!r} already name one company; nothing to add")
        return
    click.echo(
        f"added alias {outcome.alias.name!r} = {outcome.alias.alias!r}; "
        f"{_records(outcome.rekeyed)} re-keyed"
    )


@aliases.command("list")
def aliases_list() -> None:
    """The aliases admins added (the shipped list is domain/data/aliases.csv)."""

    async def run() -> list[CompanyAlias]:
        async with _services() as services:
            return await services.aliases.all()

    rows = _run(run)
    if not rows:
        click.echo('no aliases added yet: dibs aliases add "Meta Platforms" "Facebook"')
        return
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    writer.writerow(["name", "alias", "added_by", "added_at"])
    for row in rows:
        writer.writerow([row.name, row.alias, row.added_by, row.added_at.isoformat()])


@aliases.command("remove")
@click.argument("name")
@click.argument("alias")
def aliases_remove(name: str, alias: str) -> None:
    """Stop treating ALIAS as another name of NAME (an alias added with `aliases add`)."""

    async def run() -> AliasOutcome:
        async with _services() as services:
            return await services.aliases.remove(name, alias)

    outcome = _run(run)
    assert outcome.alias is not None
    click.echo(
        f"removed alias {outcome.alias.name!r} = {outcome.alias.alias!r}; "
        f"{_records(outcome.rekeyed)} re-keyed"
    )


def _records(count: int) -> str:
    return f"{count:,} record" + ("" if count == 1 else "s")


def _cli_user() -> str:
    """Who ran the command, for the alias's record: the login name, else `cli`."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        return "cli"


Id = TypeVar("Id", bound=str)


def _slack_id(value: str, option: str, is_id: Callable[[str], TypeGuard[Id]]) -> Id:
    if not is_id(value):
        raise click.BadParameter(f"{value!r} does not look like a Slack id", param_hint=option)
    return value


def _optional_id(
    value: str | None, option: str, is_id: Callable[[str], TypeGuard[Id]]
) -> Id | None:
    return _slack_id(value, option, is_id) if value else None


@contextlib.asynccontextmanager
async def _services(config: DibsConfig | None = None) -> AsyncIterator[Services]:
    """The use cases for a CLI command, on the configured database; `config`, the policy
    file, for the commands that need one (the others need no desk)."""
    engine = make_engine(_settings().database_url)
    try:
        yield Services.bind(_context(engine, config))
    finally:
        await engine.dispose()


def _context(engine: AsyncEngine, config: DibsConfig | None) -> ServiceContext:
    return ServiceContext(
        uow=make_uow_factory(engine),
        clock=utc_now,
        desk=config.desk if config else NO_DESK,
        program=config.program if config else ProgramPolicy(),
    )


main.add_command(import_group)

if __name__ == "__main__":  # pragma: no cover
    main()
