"""Slack ids, defined once: what a user, channel, team or enterprise id looks like.

A Slack id is a letter naming its kind followed by upper-case letters and digits (`U012AB3CD`;
`W…` for an Enterprise Grid user, `C…` a channel, `G…` a private channel made before 2021,
`T…` a workspace, `E…` an enterprise). Slack does not promise a length, so none is required
beyond two characters after the letter. The NewTypes mark a string that passed the check.
"""

from __future__ import annotations

import re
from typing import NewType, TypeGuard

SlackUserId = NewType("SlackUserId", str)
SlackChannelId = NewType("SlackChannelId", str)
SlackTeamId = NewType("SlackTeamId", str)
SlackEnterpriseId = NewType("SlackEnterpriseId", str)

SLACK_USER_ID = r"^[UW][A-Z0-9]{2,}$"
SLACK_CHANNEL_ID = r"^[CG][A-Z0-9]{2,}$"
SLACK_TEAM_ID = r"^T[A-Z0-9]{2,}$"
SLACK_ENTERPRISE_ID = r"^E[A-Z0-9]{2,}$"
"""The patterns as text, for validators that take one (pydantic's `Field(pattern=…)`)."""

_USER = re.compile(SLACK_USER_ID)
_CHANNEL = re.compile(SLACK_CHANNEL_ID)
_TEAM = re.compile(SLACK_TEAM_ID)
_ENTERPRISE = re.compile(SLACK_ENTERPRISE_ID)


def is_slack_user_id(text: str) -> TypeGuard[SlackUserId]:
    """`U…` or `W…`: a user, fit to mention as `<@…>`."""
    return _USER.match(text) is not None


def is_slack_channel_id(text: str) -> TypeGuard[SlackChannelId]:
    """`C…` or `G…`: a public or private channel."""
    return _CHANNEL.match(text) is not None


def is_slack_team_id(text: str) -> TypeGuard[SlackTeamId]:
    """`T…`: a workspace."""
    return _TEAM.match(text) is not None


def is_slack_enterprise_id(text: str) -> TypeGuard[SlackEnterpriseId]:
    """`E…`: an Enterprise Grid organisation."""
    return _ENTERPRISE.match(text) is not None
