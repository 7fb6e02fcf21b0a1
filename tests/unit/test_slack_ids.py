"""One definition of each Slack id, and of an e-mail address."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.email_addresses import is_email_address
from domain.slack_ids import (
    is_slack_channel_id,
    is_slack_enterprise_id,
    is_slack_team_id,
    is_slack_user_id,
)


@pytest.mark.parametrize("text", ["U012AB3CD", "W0GRIDUSER", "U0A1", "U0123456789AB"])
def test_user_ids(text: str) -> None:
    assert is_slack_user_id(text)


@pytest.mark.parametrize(
    "text", ["", "U", "U1", "u012ab3cd", "C0ACME", "U0 A1", "<@U012AB3CD>", "jane", "@ana"]
)
def test_not_user_ids(text: str) -> None:
    assert not is_slack_user_id(text)


def test_each_kind_has_its_own_letter() -> None:
    ids: dict[str, Callable[[str], bool]] = {
        "U0AAA": is_slack_user_id,
        "W0AAA": is_slack_user_id,
        "C0AAA": is_slack_channel_id,
        "G0AAA": is_slack_channel_id,
        "T0AAA": is_slack_team_id,
        "E0AAA": is_slack_enterprise_id,
    }
    checks = (is_slack_user_id, is_slack_channel_id, is_slack_team_id, is_slack_enterprise_id)
    for text, kind in ids.items():
        assert [check(text) for check in checks] == [check is kind for check in checks], text


@pytest.mark.parametrize("text", ["jane@acme.com", "Jane.Doe@Vendor.example", "a+b@x.co.uk"])
def test_email_addresses(text: str) -> None:
    assert is_email_address(text)


@pytest.mark.parametrize("text", ["", "jane", "jane at vendor", "jane@vendor", "a@b@c.d", "@x.io"])
def test_not_email_addresses(text: str) -> None:
    assert not is_email_address(text)
