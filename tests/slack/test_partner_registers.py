"""A partner rep (external, Slack Connect) registers a deal from the shared channel."""

from __future__ import annotations

import json
from typing import Any

from bot.ids import Action, Block, Callback
from domain.registration import RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, World, text_of

MAX_FIELDS = 12  # the issue: "a modal opens at once with at most 12 fields"


async def test_launcher_opens_the_form_with_the_clicks_trigger(world: World) -> None:
    reply = await world.click(p.PARTNER_REP, Action.launcher_register, "1", channel_id=ACME_CHANNEL)

    assert reply.status == 200
    [opened] = await world.fake.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == Callback.registration_submit


def inputs(view: dict[str, Any]) -> list[str]:
    return [block["block_id"] for block in view["blocks"] if block["type"] == "input"]


async def test_the_forms_slack_opens_have_at_most_twelve_fields(world: World) -> None:
    await world.click(p.PARTNER_REP, Action.launcher_register, "1", channel_id=ACME_CHANNEL)
    await world.slack.send_command(
        p.slash_command(
            p.INTERNAL_REP, text="", channel_id=DESK, response_url=world.fake.hook_url()
        )
    )

    opened = await world.fake.wait_for("views.open", count=2)
    forms = {call.params["trigger_id"]: call.params["view"] for call in opened}
    assert len(forms) == 2
    for view in forms.values():
        assert view["callback_id"] == Callback.registration_submit
        assert 0 < len(inputs(view)) <= MAX_FIELDS
    pickers = sorted(Block.partner in inputs(view) for view in forms.values())
    assert pickers == [False, True]  # the partner's form, and staff's with the partner picker


async def test_valid_submission_stores_the_registration_and_posts_both_cards(
    world: World,
) -> None:
    reply = await world.register()

    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "update"
    assert "AR-0001" in json_text(body)
    registration = await world.registration(1)
    assert registration.status is RegistrationStatus.under_review
    assert registration.submitted_by.team_id == p.PARTNER_REP.team_id
    partner_card = await world.card(ACME_CHANNEL)
    review_card = await world.card(DESK)
    assert "AR-0001" in text_of(partner_card)
    assert "Acme Resellers" in text_of(review_card)


async def test_bad_fields_come_back_next_to_the_field_and_nothing_is_stored(
    world: World,
) -> None:
    reply = await world.register(amount="lots", close_date="2001-01-01")

    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {Block.amount, Block.close_date}
    assert await world.registration_count() == 0


def json_text(body: object) -> str:
    return json.dumps(body)
