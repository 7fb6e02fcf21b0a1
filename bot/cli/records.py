"""`dibs check`, `dibs show` and `dibs export audit`: read what Dibs holds."""

from __future__ import annotations

import csv
import sys
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import click

from bot.bootstrap import utc_now
from bot.cli.running import execute, open_services, read_settings, service_context
from bot.views.checks import check_lines
from bot.views.show import show_lines
from domain.cases import RegistrationWithPartner
from domain.matching import CompanyRef
from domain.services import Services
from storage.db import make_engine


@click.group()
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
        async with open_services() as services:
            if partial is None:
                return await _write_audit(services, sys.stdout)
            with partial.open("w", newline="", encoding="utf-8") as handle:
                return await _write_audit(services, handle)

    try:
        count = execute(run)
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


@click.command()
@click.argument("name")
@click.option("--domain", default=None, help="The company's website, e.g. globex.com.")
@click.option("--email", default=None, help="A contact's e-mail address at the company.")
@click.option("--country", default=None, help="ISO country code, e.g. DE.")
def check(name: str, domain: str | None, email: str | None, country: str | None) -> None:
    """Who already has a claim on a company (registrations, accounts, opportunities), and why."""
    ref = CompanyRef(name, domain=domain, email=email, country=country)

    async def run() -> Any:
        engine = make_engine(read_settings().database_url)
        try:
            context = service_context(engine, None)
            rules = (await Services.bind(context).aliases.current_rules()).rules
            checks = Services.bind(replace(context, rules=lambda: rules)).checks
            return await checks.company(ref)
        finally:
            await engine.dispose()

    for line in check_lines(execute(run)):
        click.echo(line)


@click.command()
@click.argument("reference")
def show(reference: str) -> None:
    """One registration by its reference (NW-0007, or an older DR-0012): company, partner,
    status, amount and where it stands."""

    async def run() -> RegistrationWithPartner:
        async with open_services() as services:
            return await services.registrations.find(reference)

    for line in show_lines(execute(run), now=utc_now()):
        click.echo(line)
