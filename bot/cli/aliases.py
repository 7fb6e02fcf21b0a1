"""`dibs aliases`: other names of a company that conflict checks treat as one."""

from __future__ import annotations

import getpass

import click

from bot.cli.running import execute, open_services, print_table
from domain.company_aliases import AliasOutcome, CompanyAlias


@click.group()
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
        async with open_services() as services:
            return await services.aliases.add(name, alias, added_by=_cli_user())

    outcome = execute(run)
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
        async with open_services() as services:
            return await services.aliases.all()

    print_table(
        ["name", "alias", "added_by", "added_at"],
        [[row.name, row.alias, row.added_by, row.added_at.isoformat()] for row in execute(run)],
        empty='no aliases added yet: dibs aliases add "Meta Platforms" "Facebook"',
    )


@aliases.command("remove")
@click.argument("name")
@click.argument("alias")
def aliases_remove(name: str, alias: str) -> None:
    """Stop treating ALIAS as another name of NAME (an alias added with `aliases add`)."""

    async def run() -> AliasOutcome:
        async with open_services() as services:
            return await services.aliases.remove(name, alias)

    outcome = execute(run)
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
