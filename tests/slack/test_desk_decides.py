"""The deal desk decides from the review card: approve, reject with a reason, ask for info."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.ids import Action, Block, Callback
from bot.views.common import FormContext, RegistrationRef
from domain.registration import RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, World, form_values, text_of
from tests.slack.moves import answer, provide_info


def slack_date_of(moment: Any) -> str:
    """How a card writes a moment: `<!date^UNIX^...>`."""
    return f"<!date^{int(moment.timestamp())}^"


async def registered(world: World) -> None:
    """Acme registers AR-0001 and both cards are out."""
    reply = await world.register()
    assert reply.status == 200
    await world.delivered()


def top_level_posts(world: World, channel: str) -> list[dict[str, Any]]:
    return [
        call.params
        for call in world.fake.calls_to("chat.postMessage")
        if call.ok and call.params.get("channel") == channel and not call.params.get("thread_ts")
    ]


# --- approve -------------------------------------------------------------------------------


async def test_approve_edits_both_cards_in_place_without_posting_new_ones(world: World) -> None:
    await registered(world)
    partner_card = await world.card(ACME_CHANNEL)
    review_card = await world.card(DESK)

    reply = await world.decide(p.APPROVER, Action.review_approve, await world.registration())
    await world.status_becomes(RegistrationStatus.approved)

    assert reply.status == 200
    updated = {(c.params["channel"], c.params["ts"]) for c in world.fake.calls_to("chat.update")}
    assert (ACME_CHANNEL, partner_card["ts"]) in updated
    assert (DESK, review_card["ts"]) in updated
    assert len([m for m in top_level_posts(world, ACME_CHANNEL) if "AR-0001" in text_of(m)]) == 1
    assert len(top_level_posts(world, DESK)) == 1


async def test_approved_partner_card_says_protected_for_ninety_days(world: World) -> None:
    await registered(world)

    await world.decide(p.APPROVER, Action.review_approve, await world.registration())
    registration = await world.status_becomes(RegistrationStatus.approved)

    assert registration.decided_by is not None
    assert registration.decided_by.user_id == p.APPROVER.user_id
    assert registration.decided_at is not None
    assert registration.protected_until == registration.decided_at + timedelta(days=90)
    card = text_of(await world.card(ACME_CHANNEL))
    assert "Approved" in card
    assert "protected until" in card
    assert slack_date_of(registration.protected_until) in card
    assert Action.card_withdraw not in card  # nothing left to withdraw


async def test_approval_is_announced_in_both_card_threads(world: World) -> None:
    await registered(world)
    partner_card = await world.card(ACME_CHANNEL)
    review_card = await world.card(DESK)

    await world.decide(p.APPROVER, Action.review_approve, await world.registration())
    await world.status_becomes(RegistrationStatus.approved)

    [partner_reply] = world.fake.thread(ACME_CHANNEL, partner_card["ts"])
    [desk_reply] = world.fake.thread(DESK, review_card["ts"])
    assert partner_reply["thread_ts"] == partner_card["ts"]
    assert "approved" in partner_reply["text"]
    assert "AR-0001" in partner_reply["text"]
    assert p.APPROVER.user_id not in text_of(partner_reply)
    assert f"<@{p.APPROVER.user_id}>" in desk_reply["text"]


async def test_approval_is_recorded_in_the_audit_trail(world: World) -> None:
    await registered(world)

    await world.decide(p.APPROVER, Action.review_approve, await world.registration())
    await world.status_becomes(RegistrationStatus.approved)

    trail = await world.audit_actions()
    assert trail[-1] == ("approve", p.APPROVER.user_id)
    assert [action for action, _ in trail] == ["submit", "review", "approve"]


async def test_review_card_loses_its_decision_buttons_once_approved(world: World) -> None:
    await registered(world)
    assert Action.review_approve in text_of(await world.card(DESK))

    await world.decide(p.APPROVER, Action.review_approve, await world.registration())
    await world.status_becomes(RegistrationStatus.approved)

    review = text_of(await world.card(DESK))
    assert f"Approved by <@{p.APPROVER.user_id}>" in review
    assert Action.review_approve not in review
    assert Action.review_reject not in review


async def test_a_stale_approve_click_after_approval_is_told_who_decided(world: World) -> None:
    await registered(world)
    seen = await world.registration()
    await world.decide(p.APPROVER, Action.review_approve, seen)
    await world.status_becomes(RegistrationStatus.approved)

    reply = await world.decide(p.APPROVER, Action.review_approve, seen)

    assert reply.status == 200
    [told] = await world.fake.wait_for_hook_posts()
    assert "already approved" in told.body["text"]
    assert f"<@{p.APPROVER.user_id}>" in told.body["text"]
    assert told.body["response_type"] == "ephemeral"
    assert [a for a, _ in await world.audit_actions()].count("approve") == 1


# --- reject --------------------------------------------------------------------------------


async def open_reject_modal(world: World) -> dict[str, Any]:
    reply = await world.decide(p.APPROVER, Action.review_reject, await world.registration())
    assert reply.status == 200
    [opened] = await world.fake.wait_for("views.open")
    view: dict[str, Any] = opened.params["view"]
    return view


def reject_values(reason: str, note: str | None = None) -> p.StateValues:
    return p.values(
        {
            Block.reject_reason: p.select_value(reason),
            Block.reject_note: p.text_value(note),
        }
    )


async def test_reject_button_opens_the_reject_modal_for_this_registration(world: World) -> None:
    await registered(world)

    view = await open_reject_modal(world)

    assert view["callback_id"] == Callback.reject_submit
    ref = RegistrationRef.model_validate_json(view["private_metadata"])
    assert ref.id == 1
    assert ref.version == (await world.registration()).version
    assert "AR-0001" in json.dumps(view)
    assert (await world.registration()).status is RegistrationStatus.under_review


async def test_reject_for_other_without_a_note_is_sent_back_next_to_the_note(
    world: World,
) -> None:
    await registered(world)
    view = await open_reject_modal(world)

    reply = await world.submit(
        p.APPROVER,
        Callback.reject_submit,
        reject_values("other"),
        metadata=view["private_metadata"],
    )

    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {Block.reject_note}
    assert (await world.registration()).status is RegistrationStatus.under_review


async def test_reject_with_a_reason_closes_the_registration(world: World) -> None:
    await registered(world)
    view = await open_reject_modal(world)

    reply = await world.submit(
        p.APPROVER,
        Callback.reject_submit,
        reject_values("existing_customer"),
        metadata=view["private_metadata"],
    )

    assert reply.status == 200
    assert reply.json() is None  # the modal closes
    registration = await world.status_becomes(RegistrationStatus.rejected)
    assert registration.rejection_reason == "existing_customer"
    assert registration.decided_by is not None
    assert registration.decided_by.user_id == p.APPROVER.user_id
    assert (await world.audit_actions())[-1] == ("reject", p.APPROVER.user_id)


async def test_rejection_tells_the_partner_the_reason_but_not_who(world: World) -> None:
    await registered(world)
    view = await open_reject_modal(world)

    await world.submit(
        p.APPROVER,
        Callback.reject_submit,
        reject_values("existing_customer", "They already buy from us <directly>."),
        metadata=view["private_metadata"],
    )
    await world.status_becomes(RegistrationStatus.rejected)

    [notice] = await world.thread_replies(ACME_CHANNEL)
    assert "Existing customer" in notice["text"]
    assert "&lt;directly&gt;" in text_of(notice)
    card = text_of(await world.card(ACME_CHANNEL))
    assert "Existing customer" in card
    assert p.APPROVER.user_id not in world.fake.all_text_sent_to(ACME_CHANNEL)


# --- request info --------------------------------------------------------------------------


QUESTION = "Who is the economic buyer, and is there a budget?"


async def ask_for_info(world: World) -> None:
    await world.decide(p.APPROVER, Action.review_request_info, await world.registration())
    [opened] = await world.fake.wait_for(
        "views.open",
        where=lambda c: c.params["view"].get("callback_id") == Callback.request_info_submit,
    )
    reply = await world.submit(
        p.APPROVER,
        Callback.request_info_submit,
        p.values({Block.info_question: p.text_value(QUESTION)}),
        metadata=opened.params["view"]["private_metadata"],
    )
    assert reply.status == 200
    assert reply.json() is None
    await world.status_becomes(RegistrationStatus.info_requested)


async def test_request_info_puts_the_question_and_a_provide_info_button_on_the_card(
    world: World,
) -> None:
    await registered(world)

    await ask_for_info(world)

    registration = await world.registration()
    assert registration.info_request == QUESTION
    card = await world.card(ACME_CHANNEL)
    assert QUESTION in text_of(card)
    buttons = [
        element["action_id"]
        for block in card["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert Action.card_provide_info in buttons
    [notice] = await world.thread_replies(ACME_CHANNEL)
    assert QUESTION in notice["text"]


async def test_provide_info_opens_the_form_prefilled_for_this_registration(
    world: World,
) -> None:
    await registered(world)
    await ask_for_info(world)
    registration = await world.registration()
    ref = RegistrationRef(id=1, version=registration.version).model_dump_json()

    reply = await world.click(p.PARTNER_REP, Action.card_provide_info, ref, channel_id=ACME_CHANNEL)

    assert reply.status == 200
    [opened] = await world.fake.wait_for(
        "views.open",
        where=lambda c: c.params["view"].get("callback_id") == Callback.registration_submit,
    )
    view = opened.params["view"]
    context = FormContext.model_validate_json(view["private_metadata"])
    assert context.registration_id == 1
    assert context.version == registration.version
    inputs = {block["block_id"]: block["element"] for block in view["blocks"] if "element" in block}
    assert inputs[Block.company]["initial_value"] == "Initech"
    assert inputs[Block.contact_email]["initial_value"] == "bill@initech.com"
    assert inputs[Block.country]["initial_option"]["value"] == "US"
    assert inputs[Block.amount]["initial_value"] == "84500"
    assert QUESTION in json.dumps(view)


async def test_partner_answer_sends_the_registration_back_to_review(world: World) -> None:
    await registered(world)
    await ask_for_info(world)
    registration = await world.registration()
    ref = RegistrationRef(id=1, version=registration.version).model_dump_json()
    await world.click(p.PARTNER_REP, Action.card_provide_info, ref, channel_id=ACME_CHANNEL)
    [opened] = await world.fake.wait_for(
        "views.open",
        where=lambda c: c.params["view"].get("callback_id") == Callback.registration_submit,
    )
    updates_before = len(world.fake.calls_to("chat.update"))

    reply = await world.submit(
        p.PARTNER_REP,
        Callback.registration_submit,
        form_values(notes="Economic buyer is Bill; budget approved for Q3."),
        metadata=opened.params["view"]["private_metadata"],
    )

    assert reply.status == 200
    assert reply.json()["response_action"] == "update"
    answered = await world.status_becomes(RegistrationStatus.under_review)
    assert answered.details.notes == "Economic buyer is Bill; budget approved for Q3."
    assert await world.registration_count() == 1
    review_card = await world.card(DESK)
    assert "budget approved for Q3" in text_of(review_card)
    assert Action.review_approve in text_of(review_card)
    assert any(
        c.params["ts"] == review_card["ts"]
        for c in world.fake.calls_to("chat.update")[updates_before:]
    )
    assert (await world.audit_actions())[-1] == ("resubmit", p.PARTNER_REP.user_id)


async def test_a_stale_approve_click_after_an_info_request_says_it_waits_for_the_partner(
    world: World,
) -> None:
    await registered(world)
    seen = await world.registration()
    await ask_for_info(world)

    await world.decide(p.APPROVER, Action.review_approve, seen)

    [told] = await world.fake.wait_for_hook_posts()
    assert "waiting for the partner's answer" in told.body["text"]
    assert f"info request from <@{p.APPROVER.user_id}>" in told.body["text"]
    assert (await world.registration()).status is RegistrationStatus.info_requested


async def test_a_stale_approve_click_after_the_partner_answered_says_look_again(
    world: World,
) -> None:
    await registered(world)
    seen = await world.registration()
    await ask_for_info(world)
    form = await provide_info(world, p.PARTNER_REP, ACME_CHANNEL, 1)
    await answer(world, p.PARTNER_REP, form, notes="The CFO signs.")
    await world.status_becomes(RegistrationStatus.under_review)

    await world.decide(p.APPROVER, Action.review_approve, seen)

    [told] = await world.fake.wait_for_hook_posts()
    assert told.body["text"] == "AR-0001 changed since you opened it; look at it again."
    assert (await world.registration()).status is RegistrationStatus.under_review
