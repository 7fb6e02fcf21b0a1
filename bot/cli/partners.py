"""`dibs partners`: link a partner to its shared channel, list the linked ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard, TypeVar

import click

from bot.bootstrap import require_config
from bot.cli.running import execute, open_services, print_table, read_settings
from domain.partner import Partner
from domain.services import LinkPartner
from domain.slack_ids import (
    is_slack_channel_id,
    is_slack_enterprise_id,
    is_slack_team_id,
    is_slack_user_id,
)


@click.group()
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
        config = require_config(read_settings())  # the desk channel is never a partner's
        async with open_services(config) as services:
            return await services.partners.link(cmd)

    partner = execute(run)
    manager = f", channel manager {partner.manager_user_id}" if partner.manager_user_id else ""
    click.echo(
        f"linked partner {partner.id}: {partner.name} ({partner.tier}) to {partner.channel_id}"
        f"{manager}; its references read {partner.code}-0001, {partner.code}-0002, …; "
        "the launcher is queued for the bot to post"
    )


@partners.command("list")
def partners_list() -> None:
    """Every linked partner, one per line."""

    async def run() -> list[Partner]:
        async with open_services() as services:
            return await services.partners.all()

    print_table(
        ["id", "code", "name", "tier", "channel", "slack_team", "slack_enterprise", "manager"],
        [
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
            for p in execute(run)
        ],
        empty="no partners yet: dibs partners add NAME --tier TIER --channel C…",
    )


Id = TypeVar("Id", bound=str)


def _slack_id(value: str, option: str, is_id: Callable[[str], TypeGuard[Id]]) -> Id:
    if not is_id(value):
        raise click.BadParameter(f"{value!r} does not look like a Slack id", param_hint=option)
    return value


def _optional_id(
    value: str | None, option: str, is_id: Callable[[str], TypeGuard[Id]]
) -> Id | None:
    return _slack_id(value, option, is_id) if value else None
