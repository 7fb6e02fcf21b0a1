"""The deal-desk channel stays internal.

The desk channel carries review cards, conflict evidence, other partners' names, amounts and
the direct team's owners: no partner may ever read it. Slack says in `conversations.info`
whether a channel is shared with another organisation. `dibs serve` refuses to start on a
shared desk (`require_internal_desk`), linking refuses the desk channel
(`domain.services.link_partner`), and while the process runs the outbox delivers desk-side
messages only while `DeskWatch` knows the channel is internal; when it becomes shared the
operator is told in the log and the admins by a direct message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import SettingsError
from bot.views.desk_alerts import build_desk_shared_alert
from domain.policy import DeskPolicy

logger = logging.getLogger(__name__)

TEAM_LISTS = (
    "connected_team_ids",
    "shared_team_ids",
    "pending_connected_team_ids",
    "pending_shared",
)
"""The fields of a channel object that name the organisations it is (or will be) shared with."""

SHARED_AT_START = (
    "the desk channel {channel} is shared with another organisation (Slack Connect); review "
    "cards and conflict evidence would reach it. Configure an internal channel in [desk] channel."
)


def shared_with_another_org(
    channel: Mapping[str, Any], *, host_team_id: str, host_enterprise_id: str | None = None
) -> bool:
    """Whether a `conversations.info` channel object is shared with another organisation.

    Slack Connect (`is_ext_shared`) or an invitation pending (`is_pending_ext_shared`) is;
    so is any team in the channel's team lists (`connected_team_ids`, `shared_team_ids`,
    `pending_connected_team_ids`, `pending_shared`) that is not ours: our workspace, our
    Enterprise Grid org, or one of the channel's `internal_team_ids`. A channel Slack marks
    org-shared (`is_org_shared`) without `is_ext_shared` and without `internal_team_ids` is
    shared across our own Grid's workspaces only, which is internal.
    """
    if channel.get("is_ext_shared") or channel.get("is_pending_ext_shared"):
        return True
    ours = {host_team_id, *_ids(channel, "internal_team_ids")}
    if host_enterprise_id:
        ours.add(host_enterprise_id)
    foreign = {team for name in TEAM_LISTS for team in _ids(channel, name)} - ours
    if not foreign:
        return False
    org_wide_only = bool(channel.get("is_org_shared")) and "internal_team_ids" not in channel
    return not org_wide_only


def _ids(channel: Mapping[str, Any], name: str) -> list[str]:
    value = channel.get(name)
    return [str(item) for item in value if item] if isinstance(value, list) else []


class DeskState(StrEnum):
    internal = "internal"
    shared = "shared"
    unknown = "unknown"  # the check could not be made: logged, and asked again next batch


@dataclass(frozen=True, slots=True)
class Host:
    """Our own workspace and Enterprise Grid org, from `auth.test`."""

    team_id: str
    enterprise_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeskCheck:
    """What one look at the desk channel found; `problem` says why the state is unknown."""

    state: DeskState
    problem: str = ""
    member: bool = True
    """False when Slack says the bot is not in the channel (it cannot post there)."""
    host: Host | None = None
    """Our workspace, as `auth.test` gave it for this check."""


async def host_of(client: AsyncWebClient) -> Host:
    """Whose bot token this is (raises what the Web API raises)."""
    auth = await client.auth_test()
    return Host(str(auth["team_id"]), str(auth.get("enterprise_id") or "") or None)


async def check_desk_channel(
    client: AsyncWebClient, channel_id: str, *, host: Host | None = None
) -> DeskCheck:
    """Look at the channel now: internal, shared, or unknown with the reason (never raises
    for Slack or network failures)."""
    try:
        host = host or await host_of(client)
        info = await client.conversations_info(channel=channel_id)
    except SlackApiError as error:
        code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
        return DeskCheck(DeskState.unknown, problem=code, host=host)
    except (ClientError, TimeoutError, OSError) as error:
        return DeskCheck(DeskState.unknown, problem=f"network: {error!r}", host=host)
    channel = info.get("channel") or {}
    shared = shared_with_another_org(
        channel, host_team_id=host.team_id, host_enterprise_id=host.enterprise_id
    )
    return DeskCheck(
        DeskState.shared if shared else DeskState.internal,
        member=channel.get("is_member") is not False,
        host=host,
    )


def what_to_do(problem: str) -> str:
    """The operator's next step when the desk channel cannot be checked."""
    if problem in ("channel_not_found", "not_in_channel"):
        return "invite the bot to the desk channel (/invite @Dibs) and check [desk] channel"
    if problem == "missing_scope":
        return "reinstall the app with the channels:read and groups:read scopes (manifest.yml)"
    if problem in ("invalid_auth", "not_authed", "token_revoked", "account_inactive"):
        return "check SLACK_BOT_TOKEN"
    return "check that Slack is reachable (SLACK_API_URL)"


async def require_internal_desk(client: AsyncWebClient, channel_id: str) -> None:
    """At start: refuse a desk channel shared with another organisation (SettingsError);
    when the check cannot be made, warn and carry on (the outbox asks again before each
    batch of desk-side messages)."""
    check = await check_desk_channel(client, channel_id)
    if check.state is DeskState.shared:
        raise SettingsError(SHARED_AT_START.format(channel=channel_id))
    if check.state is DeskState.unknown:
        logger.warning(
            "could not check whether the desk channel %s is shared with another organisation "
            "(%s): %s. Starting anyway; the check is made again before desk messages go out",
            channel_id,
            check.problem,
            what_to_do(check.problem),
        )
    elif not check.member:
        logger.warning(
            "Dibs is not a member of the desk channel %s: invite it (/invite @Dibs), or review "
            "cards cannot be posted there",
            channel_id,
        )


@dataclass(slots=True)
class DeskWatch:
    """This process's knowledge of the desk channel: the last check and when it was made,
    and which admins were told it is shared. Admins are told once per change to shared, per
    process (with several replicas, each tells them once)."""

    last: DeskCheck | None = None
    checked_at: datetime | None = None
    told: set[str] = field(default_factory=set)
    alerted: bool = False
    """In a shared spell that was reported (log and direct messages); cleared when internal."""
    _host: Host | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def forget(self) -> None:
        """The next question checks the channel again (its sharing just changed)."""
        self.checked_at = None

    async def current(
        self, client: AsyncWebClient, desk: DeskPolicy, *, now: datetime, max_age: timedelta
    ) -> DeskCheck:
        """The desk channel's state: the last check while younger than `max_age` (an unknown
        one is never reused), else a new one, reported when it changed."""
        async with self._lock:
            last, at = self.last, self.checked_at
            if last is not None and at is not None and last.state is not DeskState.unknown:
                if now - at < max_age:
                    return last
            check = await self._check(client, desk.channel_id)
            self.last, self.checked_at = check, now
            await self._report(client, desk, check, previous=last)
            return check

    async def recheck(self, client: AsyncWebClient, desk: DeskPolicy, *, now: datetime) -> None:
        """Check the channel at once and report what changed."""
        self.forget()
        await self.current(client, desk, now=now, max_age=timedelta(0))

    async def _check(self, client: AsyncWebClient, channel_id: str) -> DeskCheck:
        check = await check_desk_channel(client, channel_id, host=self._host)
        self._host = check.host or self._host  # our workspace does not change: ask once
        return check

    async def _report(
        self,
        client: AsyncWebClient,
        desk: DeskPolicy,
        check: DeskCheck,
        *,
        previous: DeskCheck | None,
    ) -> None:
        channel = desk.channel_id
        if check.state is DeskState.internal:
            if self.alerted:
                logger.warning(
                    "the desk channel %s is internal again; held desk messages go out", channel
                )
            self.alerted = False
            self.told.clear()
        elif check.state is DeskState.unknown:
            if previous is None or previous.problem != check.problem:
                logger.warning(
                    "cannot check whether the desk channel %s is shared (%s): %s; desk "
                    "messages keep going out meanwhile",
                    channel,
                    check.problem,
                    what_to_do(check.problem),
                )
        else:
            if not self.alerted:
                self.alerted = True
                logger.error(
                    "the desk channel %s is shared with another organisation (Slack Connect): "
                    "review cards, conflict evidence and desk notices are held until it is "
                    "internal again; telling the admins (%s)",
                    channel,
                    ", ".join(sorted(desk.admins)) or "none in [desk] admins",
                )
            await self._tell_admins(client, desk)

    async def _tell_admins(self, client: AsyncWebClient, desk: DeskPolicy) -> None:
        """A direct message to each admin not told yet in this spell (a failed one is tried
        again at the next check)."""
        alert = build_desk_shared_alert(desk.channel_id)
        for admin in sorted(desk.admins - self.told):
            try:
                await client.chat_postMessage(
                    channel=admin, text=alert.text, blocks=alert.block_dicts()
                )
            except (SlackApiError, ClientError, TimeoutError, OSError):
                logger.warning("could not tell admin %s the desk channel is shared", admin)
                continue
            self.told.add(admin)
