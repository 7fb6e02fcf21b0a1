"""A partner rep (external, Slack Connect) registers a deal from the shared channel."""

from __future__ import annotations

import json

from bot.ids import Action, Block, Callback
from domain.registration import RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, World, text_of


async def test_launcher_opens_the_form_with_the_clicks_trigger(world: World) -> None:
    reply = await world.click(p.PARTNER_REP, Action.launcher_register, "1", channel_id=ACME_CHANNEL)

    assert reply.status == 200
    [opened] = await world.fake.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == Callback.registration_submit


async def test_valid_submission_stores_the_registration_and_posts_both_cards(
    world: World,
) -> None:
    reply = await world.register()

    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "update"
    assert "DR-0001" in json_text(body)
    registration = await world.registration(1)
    assert registration.status is RegistrationStatus.under_review
    assert registration.submitted_by.team_id == p.PARTNER_REP.team_id
    partner_card = await world.card(ACME_CHANNEL)
    review_card = await world.card(DESK)
    assert "DR-0001" in text_of(partner_card)
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
