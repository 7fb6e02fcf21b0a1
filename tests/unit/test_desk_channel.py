"""Whether a `conversations.info` channel object is shared with another organisation."""

from __future__ import annotations

from typing import Any

import pytest

from bot.desk_channel import shared_with_another_org
from domain.slack_ids import SlackEnterpriseId, SlackTeamId

HOST = SlackTeamId("T0HOST")
GRID = SlackEnterpriseId("E0VENDOR")


def a_channel(**fields: Any) -> dict[str, Any]:
    """An internal channel as Slack describes it to the host; override any field."""
    channel: dict[str, Any] = {
        "id": "C0DESK",
        "is_shared": False,
        "is_ext_shared": False,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "context_team_id": HOST,
        "shared_team_ids": [HOST],
        "connected_team_ids": [HOST],
        "pending_connected_team_ids": [],
        "pending_shared": [],
    }
    channel.update(fields)
    return channel


def shared(channel: dict[str, Any], *, enterprise: str | None = None) -> bool:
    return shared_with_another_org(channel, host_team_id=HOST, host_enterprise_id=enterprise)


def test_a_channel_of_our_workspace_alone_is_internal() -> None:
    assert not shared(a_channel())


def test_a_bare_channel_object_is_internal() -> None:
    assert not shared({"id": "C0DESK"})


@pytest.mark.parametrize("flag", ["is_ext_shared", "is_pending_ext_shared"])
def test_slack_connect_or_a_pending_invitation_is_shared(flag: str) -> None:
    assert shared(a_channel(**{flag: True}))


@pytest.mark.parametrize(
    "field",
    ["connected_team_ids", "shared_team_ids", "pending_connected_team_ids", "pending_shared"],
)
def test_another_team_in_any_team_list_is_shared_even_without_the_ext_flag(field: str) -> None:
    channel = a_channel(is_shared=True, **{field: [HOST, "T0PARTNER"]})

    assert shared(channel)


def test_another_organisation_by_its_grid_id_is_shared() -> None:
    assert shared(a_channel(is_shared=True, connected_team_ids=[HOST, "E0PARTNER"]))


def test_our_own_grid_org_in_the_lists_is_internal() -> None:
    channel = a_channel(is_shared=True, connected_team_ids=[HOST, GRID])

    assert not shared(channel, enterprise=GRID)
    assert shared(channel)  # without knowing our org, E0VENDOR is someone else


def test_org_wide_sharing_across_our_grid_workspaces_is_internal() -> None:
    channel = a_channel(is_shared=True, is_org_shared=True, shared_team_ids=[HOST, "T0OURS2"])

    assert not shared(channel, enterprise=GRID)


def test_teams_slack_lists_as_internal_are_ours() -> None:
    channel = a_channel(
        is_shared=True,
        is_org_shared=True,
        shared_team_ids=[HOST, "T0OURS2"],
        internal_team_ids=[HOST, "T0OURS2"],
    )

    assert not shared(channel)


def test_a_team_outside_the_internal_ones_of_an_org_shared_channel_is_shared() -> None:
    channel = a_channel(
        is_shared=True,
        is_org_shared=True,
        connected_team_ids=[HOST, "T0OURS2", "T0PARTNER"],
        internal_team_ids=[HOST, "T0OURS2"],
    )

    assert shared(channel)


def test_org_wide_sharing_that_is_also_slack_connect_is_shared() -> None:
    channel = a_channel(is_shared=True, is_org_shared=True, is_ext_shared=True)

    assert shared(channel)


def test_fields_that_are_not_lists_are_ignored() -> None:
    assert not shared(a_channel(connected_team_ids="T0PARTNER", shared_team_ids=None))
