"""Anyone in a shared channel can click any button: every click is authorised on the server."""

from __future__ import annotations

import json

import pytest

from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef
from bot.views.resolution_modals import ResolutionContext
from domain.ownership import Resolution
from domain.registration import RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, GLOBEX_CHANNEL, World
from tests.slack.moves import evidence

APPROVERS_ONLY = "Only the deal desk's approvers can decide registrations."


async def registered(world: World) -> RegistrationRef:
    await world.register()
    await world.delivered()
    registration = await world.registration()
    return RegistrationRef(id=1, version=registration.version)


async def unchanged(world: World, *, actions: int = 2) -> None:
    """Still under review, nothing recorded beyond submit and review, nothing more delivered."""
    await world.delivered()
    registration = await world.registration()
    assert registration.status is RegistrationStatus.under_review
    assert registration.decided_by is None
    assert len(await world.audit_actions()) == actions
    assert world.fake.calls_to("chat.update") == []


async def test_partner_forging_an_approve_click_is_refused_privately(world: World) -> None:
    await registered(world)

    reply = await world.decide(p.PARTNER_REP, Action.review_approve, await world.registration())

    assert reply.status == 200
    [told] = await world.fake.wait_for_hook_posts()
    assert told.body["text"] == APPROVERS_ONLY
    assert told.body["response_type"] == "ephemeral"
    assert told.body.get("replace_original") is False
    await unchanged(world)


async def test_internal_rep_who_is_not_an_approver_cannot_approve(world: World) -> None:
    await registered(world)

    reply = await world.decide(p.INTERNAL_REP, Action.review_approve, await world.registration())

    assert reply.status == 200
    [told] = await world.fake.wait_for_hook_posts()
    assert told.body["text"] == APPROVERS_ONLY
    await unchanged(world)


async def test_partner_clicking_reject_gets_no_modal(world: World) -> None:
    await registered(world)

    reply = await world.decide(p.PARTNER_REP, Action.review_reject, await world.registration())

    assert reply.status == 200
    [told] = await world.fake.wait_for_hook_posts()
    assert told.body["text"] == APPROVERS_ONLY
    assert world.fake.calls_to("views.open") == []
    await unchanged(world)


async def test_partner_submitting_a_forged_reject_modal_is_refused(world: World) -> None:
    ref = await registered(world)

    reply = await world.submit(
        p.PARTNER_REP,
        Callback.reject_submit,
        p.values(
            {
                Block.reject_reason: p.select_value("duplicate"),
                Block.reject_note: p.text_value(None),
            }
        ),
        metadata=ref.model_dump_json(),
    )

    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "errors"
    assert APPROVERS_ONLY in json.dumps(body["errors"])
    await unchanged(world)


async def test_other_partner_cannot_withdraw_acmes_registration(world: World) -> None:
    await world.link_globex()
    ref = await registered(world)

    reply = await world.click(
        p.OTHER_PARTNER_REP, Action.card_withdraw, ref.model_dump_json(), channel_id=ACME_CHANNEL
    )

    assert reply.status == 200
    [told] = await world.fake.wait_for_hook_posts()
    assert "Only the partner that registered this deal" in told.body["text"]
    assert told.body["response_type"] == "ephemeral"
    await unchanged(world)


async def test_unlinked_other_partner_cannot_withdraw_acmes_registration(world: World) -> None:
    ref = await registered(world)

    await world.click(
        p.OTHER_PARTNER_REP, Action.card_withdraw, ref.model_dump_json(), channel_id=ACME_CHANNEL
    )

    [told] = await world.fake.wait_for_hook_posts()
    assert "Only the partner that registered this deal" in told.body["text"]
    await unchanged(world)


async def test_internal_rep_who_is_not_on_the_desk_cannot_withdraw(world: World) -> None:
    ref = await registered(world)

    await world.click(
        p.INTERNAL_REP, Action.card_withdraw, ref.model_dump_json(), channel_id=ACME_CHANNEL
    )

    [told] = await world.fake.wait_for_hook_posts()
    assert "Only the partner or the deal desk" in told.body["text"]
    await unchanged(world)


async def test_other_partner_cannot_open_acmes_info_request(world: World) -> None:
    await world.link_globex()
    await registered(world)
    await world.decide(p.APPROVER, Action.review_request_info, await world.registration())
    [opened] = await world.fake.wait_for("views.open")
    await world.submit(
        p.APPROVER,
        Callback.request_info_submit,
        p.values({Block.info_question: p.text_value("Budget?")}),
        metadata=opened.params["view"]["private_metadata"],
    )
    registration = await world.status_becomes(RegistrationStatus.info_requested)
    ref = RegistrationRef(id=1, version=registration.version).model_dump_json()

    await world.click(p.OTHER_PARTNER_REP, Action.card_provide_info, ref, channel_id=ACME_CHANNEL)

    [told] = await world.fake.wait_for_hook_posts()
    assert "Only the partner that registered this deal" in told.body["text"]
    assert len(world.fake.calls_to("views.open")) == 1  # only the approver's question modal


async def test_stranger_clicking_register_sees_a_not_linked_message(world: World) -> None:
    reply = await world.click(p.STRANGER, Action.launcher_register, "1", channel_id=ACME_CHANNEL)

    assert reply.status == 200
    [opened] = await world.fake.wait_for("views.open")
    [updated] = await world.fake.wait_for("views.update")
    assert updated.params["view_id"] == opened.response["view"]["id"]
    view = updated.params["view"]
    assert view["callback_id"] == Callback.notice
    assert "not linked" in json.dumps(view)
    assert "submit" not in view


async def test_stranger_submitting_the_form_stores_nothing(world: World) -> None:
    reply = await world.register(p.STRANGER)

    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "update"
    assert body["view"]["callback_id"] == Callback.notice
    assert "not linked" in json.dumps(body["view"])
    assert await world.registration_count() == 0
    await world.delivered()
    assert world.fake.messages_in(DESK) == []


async def test_partner_cannot_register_for_another_partner_with_a_forged_picker(
    world: World,
) -> None:
    globex = await world.link_globex()

    reply = await world.register(partner=globex.id)

    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "update"
    assert "Only the vendor's team" in json.dumps(body["view"])
    assert await world.registration_count() == 0


async def test_external_user_running_dibs_is_refused(world: World) -> None:
    command = p.slash_command(
        p.PARTNER_REP,
        text="",
        channel_id=ACME_CHANNEL,
        response_url=world.fake.hook_url(channel=ACME_CHANNEL),
    )
    command["team_id"] = p.PARTNER_REP.team_id  # the partner's own workspace ran it

    reply = await world.slack.send_command(command)

    assert reply.status == 200
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert "for the vendor's team" in body["text"]
    assert "Register a deal" in body["text"]
    assert world.fake.calls_to("views.open") == []


async def test_external_user_using_the_global_shortcut_is_refused(world: World) -> None:
    payload = p.shortcut(p.PARTNER_REP, callback_id=Callback.register_shortcut)

    reply = await world.slack.send_interaction(payload)

    assert reply.status == 200
    [told] = await world.fake.wait_for("chat.postMessage", where=lambda c: "/dibs" in str(c.params))
    assert told.params["channel"] == p.PARTNER_REP.user_id
    assert world.fake.calls_to("views.open") == []


# --- the conflict desk: a resolution forged by the vendor's own people -----------------------

SETTLE_APPROVERS_ONLY = "Only the deal desk's approvers can settle conflicts."


@pytest.mark.parametrize("resolution", list(Resolution), ids=[r.value for r in Resolution])
@pytest.mark.parametrize("person", [p.INTERNAL_REP, p.ADMIN], ids=["rep", "admin"])
async def test_internal_non_approver_forging_a_resolution_changes_nothing(
    world: World, person: p.Person, resolution: Resolution
) -> None:
    """Acme (AR-0001) and Globex (GC-0001) claim Initech. A colleague on the vendor's team who
    is not an approver (a rep, or even an admin) never gets the resolution modal, so they
    forge its submission with GC-0001's current version and a reason: it is refused next to
    the field, and no registration, audit row, outbox message or Slack message moves."""
    await world.link_globex()
    await world.register()
    await world.register(p.OTHER_PARTNER_REP, channel_id=GLOBEX_CHANNEL)
    await world.delivered()
    await evidence(world, "GC-0001")  # a real conflict case, with the desk's buttons
    before = {rid: await world.registration(rid) for rid in (1, 2)}
    trails = {rid: await world.audit_actions(rid) for rid in (1, 2)}
    outbox, calls = len(await world.outbox_rows()), len(world.fake.calls)
    meta = ResolutionContext(id=2, version=before[2].version, resolution=resolution)

    reply = await world.submit(
        person,
        Callback.resolve_submit,
        p.values({Block.resolve_reason: p.text_value("Initech is ours, settle it now.")}),
        metadata=meta.model_dump_json(),
    )

    assert reply.json() == {
        "response_action": "errors",
        "errors": {Block.resolve_reason: SETTLE_APPROVERS_ONLY},
    }
    await world.delivered()
    for rid, was in before.items():
        now = await world.registration(rid)
        assert (now.status, now.version) == (RegistrationStatus.under_review, was.version)
        assert now.decided_by is None
        assert await world.audit_actions(rid) == trails[rid]
    assert len(await world.outbox_rows()) == outbox
    assert [c.method for c in world.fake.calls[calls:]] == []
