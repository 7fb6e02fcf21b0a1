"""The vendor's own entry points: `/dibs`, the global shortcut, and App Home."""

from __future__ import annotations

import json
from typing import Any

from bot.ids import Action, Block, Callback
from bot.views.common import FormContext
from domain.registration import RegistrationStatus
from domain.slack_ids import SlackChannelId, SlackTeamId, SlackUserId
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, World, form_values, text_of

NEW_CHANNEL = SlackChannelId("C0NEWCO")
NEWCO_REP = p.Person(SlackUserId("U0NEWREP"), SlackTeamId("T0NEWCO"), name="nora.newco")


async def dibs(world: World, person: p.Person, text: str, channel_id: str = DESK) -> Any:
    """Run `/dibs <text>`; the reply body (None for a bare ack)."""
    command = p.slash_command(
        person,
        text=text,
        channel_id=channel_id,
        response_url=world.fake.hook_url(channel=channel_id),
    )
    reply = await world.slack.send_command(command)
    assert reply.status == 200
    return reply.json()


def input_blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}


def action_ids(view: dict[str, Any]) -> list[str]:
    return [
        element["action_id"]
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


# --- /dibs ---------------------------------------------------------------------------------


async def test_dibs_help_answers_privately_with_every_subcommand(world: World) -> None:
    body = await dibs(world, p.INTERNAL_REP, "help")

    assert body["response_type"] == "ephemeral"
    shown = json.dumps(body)
    for usage in ("/dibs list", "/dibs show", "/dibs setup", "/dibs help", "Register a deal"):
        assert usage in shown


async def test_dibs_with_an_unknown_word_points_to_help(world: World) -> None:
    body = await dibs(world, p.INTERNAL_REP, "frobnicate")

    assert body["response_type"] == "ephemeral"
    assert "/dibs help" in body["text"]


async def test_dibs_list_answers_with_the_pending_registrations(world: World) -> None:
    await world.register()
    await world.register(company="Hooli", website="hooli.example")
    await world.delivered()

    body = await dibs(world, p.INTERNAL_REP, "list")

    assert body is None  # acked at once; the list comes through the response_url
    [listing] = await world.fake.wait_for_hook_posts()
    assert listing.body["response_type"] == "ephemeral"
    shown = json.dumps(listing.body)
    assert "Waiting for a decision (2)" in shown
    assert shown.index("AR-0001") < shown.index("AR-0002")  # oldest first
    assert "Initech" in shown
    assert "Acme Resellers" in shown


async def test_dibs_list_leaves_out_decided_registrations(world: World) -> None:
    await world.register()
    await world.register(company="Hooli", website="hooli.example")
    await world.delivered()
    await world.decide(p.APPROVER, Action.review_approve, await world.registration(1))
    await world.status_becomes(RegistrationStatus.approved, 1)

    await dibs(world, p.INTERNAL_REP, "list")

    [listing] = await world.fake.wait_for_hook_posts()
    shown = json.dumps(listing.body)
    assert "Waiting for a decision (1)" in shown
    assert "AR-0002" in shown
    assert "AR-0001" not in shown


async def test_dibs_setup_by_an_admin_opens_the_setup_modal(world: World) -> None:
    world.fake.add_channel(NEW_CHANNEL, connected_team_ids=[p.HOST_TEAM, NEWCO_REP.team_id])

    body = await dibs(world, p.ADMIN, "setup", channel_id=NEW_CHANNEL)

    assert body is None
    [opened] = await world.fake.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == Callback.setup_submit
    assert json.loads(view["private_metadata"]) == {"channel_id": NEW_CHANNEL}
    assert set(input_blocks(view)) == {Block.setup_name, Block.setup_tier, Block.setup_code}
    assert input_blocks(view)[Block.setup_code]["optional"] is True


async def submit_setup(world: World, code: str | None = None) -> Any:
    """An admin runs `/dibs setup` in Newco's channel and saves Newco Systems (Silver) with
    `code`; the reply body (None when the modal closes)."""
    world.fake.add_channel(NEW_CHANNEL, connected_team_ids=[p.HOST_TEAM, NEWCO_REP.team_id])
    await dibs(world, p.ADMIN, "setup", channel_id=NEW_CHANNEL)
    [opened] = await world.fake.wait_for("views.open")
    reply = await world.submit(
        p.ADMIN,
        Callback.setup_submit,
        p.values(
            {
                Block.setup_name: p.text_value("Newco Systems"),
                Block.setup_tier: p.text_value("Silver"),
                Block.setup_code: p.text_value(code),
            }
        ),
        metadata=opened.params["view"]["private_metadata"],
    )
    assert reply.status == 200
    return reply.json()


async def setup_newco(world: World) -> None:
    assert await submit_setup(world) is None


async def test_setup_without_a_code_derives_one_and_says_how_references_read(
    world: World,
) -> None:
    await setup_newco(world)

    partner = await world.deps.services.partners.for_channel(NEW_CHANNEL)
    assert partner is not None
    assert partner.code == "NS"
    [confirmed] = await world.fake.wait_for("chat.postEphemeral")
    assert "numbered NS-0001, NS-0002" in confirmed.params["text"]


async def test_setup_with_a_code_numbers_the_partners_registrations_with_it(
    world: World,
) -> None:
    assert await submit_setup(world, "nwc") is None
    await world.fake.wait_for("chat.postEphemeral")

    await world.register(NEWCO_REP, channel_id=NEW_CHANNEL)

    assert (await world.registration()).reference == "NWC-0001"
    await world.card(NEW_CHANNEL, "NWC-0001")


async def test_setup_with_a_code_another_partner_holds_says_so_next_to_the_field(
    world: World,
) -> None:
    body = await submit_setup(world, "AR")

    assert body == {
        "response_action": "errors",
        "errors": {Block.setup_code: "The code AR is taken by Acme Resellers; pick another."},
    }
    assert await world.deps.services.partners.for_channel(NEW_CHANNEL) is None


async def test_setup_with_a_malformed_code_says_so_next_to_the_field(world: World) -> None:
    body = await submit_setup(world, "N-1")

    assert body["response_action"] == "errors"
    assert body["errors"] == {
        Block.setup_code: "N-1 is not a partner code: use 2 to 6 letters or digits, starting "
        "with a letter."
    }
    assert await world.deps.services.partners.for_channel(NEW_CHANNEL) is None


async def test_setup_links_the_partner_with_the_team_slack_reports(world: World) -> None:
    await setup_newco(world)

    [launcher] = await world.fake.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == NEW_CHANNEL
    )
    partner = await world.deps.services.partners.for_channel(NEW_CHANNEL)
    assert partner is not None
    assert (partner.name, partner.tier) == ("Newco Systems", "Silver")
    assert partner.slack_team_id == NEWCO_REP.team_id
    assert Action.launcher_register in text_of(launcher.params)
    assert "Newco Systems" in text_of(launcher.params)
    [confirmed] = await world.fake.wait_for("chat.postEphemeral")
    assert confirmed.params["user"] == p.ADMIN.user_id
    assert "Newco Systems" in confirmed.params["text"]


async def test_partner_of_a_newly_set_up_channel_can_register(world: World) -> None:
    await setup_newco(world)
    await world.fake.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == NEW_CHANNEL
    )

    reply = await world.register(NEWCO_REP, channel_id=NEW_CHANNEL)

    assert reply.json()["response_action"] == "update"
    registration = await world.registration()
    partner = await world.deps.services.partners.for_channel(NEW_CHANNEL)
    assert partner is not None
    assert registration.partner_id == partner.id
    await world.card(NEW_CHANNEL, "NS-0001")


async def test_dibs_setup_by_a_non_admin_is_refused(world: World) -> None:
    body = await dibs(world, p.INTERNAL_REP, "setup", channel_id=NEW_CHANNEL)

    assert body["response_type"] == "ephemeral"
    assert "Only Dibs admins" in body["text"]
    assert world.fake.calls_to("views.open") == []
    assert await world.deps.services.partners.for_channel(NEW_CHANNEL) is None


async def test_forged_setup_submission_by_a_non_admin_links_nothing(world: World) -> None:
    reply = await world.submit(
        p.INTERNAL_REP,
        Callback.setup_submit,
        p.values({Block.setup_name: p.text_value("Evil"), Block.setup_tier: p.text_value("Gold")}),
        metadata=json.dumps({"channel_id": NEW_CHANNEL}),
    )

    assert reply.status == 200
    assert "Only Dibs admins" in json.dumps(reply.json()["view"])
    assert await world.deps.services.partners.for_channel(NEW_CHANNEL) is None


async def test_dibs_setup_in_the_desk_channel_is_refused(world: World) -> None:
    body = await dibs(world, p.ADMIN, "setup", channel_id=DESK)

    assert body["response_type"] == "ephemeral"
    assert "deal-desk channel" in body["text"]
    assert world.fake.calls_to("views.open") == []


async def test_dibs_opens_the_form_with_a_partner_picker(world: World) -> None:
    body = await dibs(world, p.INTERNAL_REP, "")

    assert body is None
    [opened] = await world.fake.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == Callback.registration_submit
    picker = input_blocks(view)[Block.partner]["element"]
    assert world.acme is not None
    assert [o["value"] for o in picker["options"]] == [str(world.acme.id)]
    assert picker["options"][0]["text"]["text"] == "Acme Resellers"


async def test_global_shortcut_opens_the_picker_form_for_internal_users(world: World) -> None:
    payload = p.shortcut(p.INTERNAL_REP, callback_id=Callback.register_shortcut)

    reply = await world.slack.send_interaction(payload)

    assert reply.status == 200
    [opened] = await world.fake.wait_for("views.open")
    assert opened.params["trigger_id"] == payload["trigger_id"]
    assert Block.partner in input_blocks(opened.params["view"])


async def test_internal_user_registers_for_the_picked_partner(world: World) -> None:
    await world.link_globex()
    assert world.globex is not None

    reply = await world.submit(
        p.INTERNAL_REP,
        Callback.registration_submit,
        form_values(partner=world.globex.id),
        metadata=FormContext().model_dump_json(),
    )

    assert reply.status == 200
    assert "Globex Corporation" in json.dumps(reply.json()["view"])
    registration = await world.registration()
    assert registration.partner_id == world.globex.id
    assert registration.submitted_by.user_id == p.INTERNAL_REP.user_id
    assert registration.submitted_by.team_id == p.HOST_TEAM
    await world.card("C0GLOBEX", "GC-0001")
    await world.delivered()
    assert cards_showing(world, ACME_CHANNEL, "GC-0001") == []


def cards_showing(world: World, channel: str, reference: str) -> list[dict[str, Any]]:
    return [m for m in world.fake.messages_in(channel) if reference in text_of(m)]


# --- App Home ------------------------------------------------------------------------------


async def open_home(world: World, person: p.Person, *, event_id: str | None = None) -> None:
    envelope = p.event_callback(p.app_home_opened(person), event_id=event_id)
    reply = await world.slack.send_event(envelope)
    assert reply.status == 200


async def test_app_home_event_delivered_twice_is_published_once(world: World) -> None:
    envelope = p.event_callback(p.app_home_opened(p.APPROVER))

    first = await world.slack.send_event(envelope)
    await world.fake.wait_for("views.publish")
    again = await world.slack.send_event(envelope, retry_num=1)
    # a later, different event is published: the retry before it had its chance
    await open_home(world, p.INTERNAL_REP)
    await world.fake.wait_for("views.publish", count=2)

    assert first.status == again.status == 200
    published_for = [c.params["user_id"] for c in world.fake.calls_to("views.publish")]
    assert published_for.count(p.APPROVER.user_id) == 1
    assert published_for.count(p.INTERNAL_REP.user_id) == 1


async def test_app_home_shows_an_approver_the_pending_registration_with_buttons(
    world: World,
) -> None:
    await world.register()

    await open_home(world, p.APPROVER)

    await world.fake.wait_for("views.publish")
    home = world.fake.home_views[p.APPROVER.user_id]
    assert home["type"] == "home"
    shown = json.dumps(home)
    assert "Waiting for a decision (1)" in shown
    assert "AR-0001" in shown
    assert "Initech" in shown
    assert {Action.review_approve, Action.review_reject, Action.review_request_info} <= set(
        action_ids(home)
    )


async def test_app_home_shows_a_non_approver_the_list_without_buttons(world: World) -> None:
    await world.register()

    await open_home(world, p.INTERNAL_REP)

    await world.fake.wait_for("views.publish")
    home = world.fake.home_views[p.INTERNAL_REP.user_id]
    assert "AR-0001" in json.dumps(home)
    assert action_ids(home) == []


async def test_approving_from_app_home_refreshes_the_home_tab(world: World) -> None:
    await world.register()
    await world.delivered()
    await open_home(world, p.APPROVER)
    [published] = await world.fake.wait_for("views.publish")
    registration = await world.registration()
    [approve] = [
        element
        for block in published.params["view"]["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == Action.review_approve
    ]

    payload = p.block_actions(
        p.APPROVER,
        action_id=Action.review_approve,
        value=approve["value"],
        view={"type": "home", "blocks": published.params["view"]["blocks"]},
    )
    reply = await world.slack.send_interaction(payload)

    assert reply.status == 200
    assert registration.status is RegistrationStatus.under_review
    await world.status_becomes(RegistrationStatus.approved)
    await world.fake.wait_for("views.publish", count=2)
    assert "Waiting for a decision (0)" in json.dumps(world.fake.home_views[p.APPROVER.user_id])
