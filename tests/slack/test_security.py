"""Requests that are not Slack's are refused; repeated and racing requests apply exactly once."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import pytest

from bot.config import DibsConfig
from bot.ids import Action, Block, Callback
from bot.views.common import FormContext, RegistrationRef
from domain.registration import RegistrationStatus
from domain.slack_ids import SlackUserId
from tests.slack import payloads as p
from tests.slack.conftest import (
    ACME_CHANNEL,
    DESK,
    World,
    dibs_config,
    form_values,
    text_of,
    with_approvers,
)
from tests.slack.signing import FORM, sign

SECOND_APPROVER = p.Person(SlackUserId("U0APPROVER2"), p.HOST_TEAM, name="bea.backup")
DECISIONS = {"approve", "reject", "request_info"}


@pytest.fixture
def desk_config() -> DibsConfig:
    """Two approvers, so two people can decide the same registration at once."""
    return with_approvers(dibs_config(), SECOND_APPROVER.user_id)


def registration_form_body() -> bytes:
    payload = p.view_submission(
        p.PARTNER_REP,
        callback_id=Callback.registration_submit,
        values=form_values(),
        private_metadata=FormContext(channel_id=ACME_CHANNEL).model_dump_json(),
    )
    return urlencode(p.interaction_form(payload)).encode()


# --- signatures ----------------------------------------------------------------------------


async def test_forged_signature_is_refused_and_nothing_is_written(world: World) -> None:
    calls_before = len(world.fake.calls)
    body = registration_form_body()

    reply = await world.slack.send_raw(
        body, FORM, signature=sign(body, world.slack.now(), "not-the-secret")
    )

    assert reply.status == 401
    await world.delivered()
    assert await world.registration_count() == 0
    assert world.fake.calls[calls_before:] == []
    assert world.fake.hook_posts == []


async def test_stale_timestamp_is_refused_and_nothing_is_written(world: World) -> None:
    calls_before = len(world.fake.calls)
    body = registration_form_body()
    six_minutes_ago = str(int(time.time()) - 6 * 60)

    reply = await world.slack.send_raw(
        body, FORM, timestamp=six_minutes_ago, signature=sign(body, six_minutes_ago, "x")
    )
    correctly_signed = await world.slack.send_raw(body, FORM, timestamp=six_minutes_ago)

    assert reply.status == 401
    assert correctly_signed.status == 401  # a replayed, validly signed request too
    await world.delivered()
    assert await world.registration_count() == 0
    assert world.fake.calls[calls_before:] == []


async def test_forged_approve_click_is_refused_and_the_registration_unchanged(
    world: World,
) -> None:
    await world.register()
    await world.delivered()
    registration = await world.registration()
    calls_before = len(world.fake.calls)
    payload = p.block_actions(
        p.APPROVER,
        action_id=Action.review_approve,
        value=RegistrationRef(id=1, version=registration.version).model_dump_json(),
        channel_id=DESK,
        response_url=world.fake.hook_url(channel=DESK),
    )
    body = urlencode(p.interaction_form(payload)).encode()

    reply = await world.slack.send_raw(body, FORM, signature="v0=" + "0" * 64)

    assert reply.status == 401
    await world.delivered()
    assert (await world.registration()).status is RegistrationStatus.under_review
    assert len(await world.audit_actions()) == 2
    assert world.fake.calls[calls_before:] == []


# --- the same form submitted twice ---------------------------------------------------------


async def test_two_different_forms_submitted_at_once_are_two_registrations(world: World) -> None:
    """Deduplication is by view id, not by content: the control for the test below."""
    first, second = await asyncio.gather(world.register(), world.register())

    assert first.status == second.status == 200
    assert await world.registration_count() == 2


async def test_double_submission_of_one_view_stores_one_registration(world: World) -> None:
    metadata = FormContext(channel_id=ACME_CHANNEL).model_dump_json()

    async def submit() -> dict[str, object]:
        reply = await world.submit(
            p.PARTNER_REP,
            Callback.registration_submit,
            form_values(),
            metadata=metadata,
            view_id="V0DOUBLE01",
        )
        assert reply.status == 200
        body: dict[str, object] = reply.json()
        return body

    first, second = await asyncio.gather(submit(), submit())

    assert await world.registration_count() == 1
    for body in (first, second):
        assert body["response_action"] == "update"
        assert "AR-0001" in json.dumps(body)
    await world.delivered()
    cards = [m for m in world.fake.messages_in(ACME_CHANNEL) if "Initech" in text_of(m)]
    assert len(cards) == 1
    assert len(world.fake.messages_in(DESK)) == 1


# --- racing decisions ----------------------------------------------------------------------


async def decisions(world: World, registration_id: int = 1) -> list[tuple[str, str]]:
    return [e for e in await world.audit_actions(registration_id) if e[0] in DECISIONS]


async def test_two_approvers_approving_at_once_decide_exactly_once(world: World) -> None:
    await world.register()
    await world.delivered()
    seen = await world.registration()

    replies = await asyncio.gather(
        world.decide(p.APPROVER, Action.review_approve, seen),
        world.decide(SECOND_APPROVER, Action.review_approve, seen),
    )

    assert [r.status for r in replies] == [200, 200]
    registration = await world.status_becomes(RegistrationStatus.approved)
    [(action, winner)] = await decisions(world)
    assert action == "approve"
    assert registration.decided_by is not None
    assert registration.decided_by.user_id == winner
    [told] = await world.fake.wait_for_hook_posts()
    assert "already approved" in told.body["text"]
    assert f"<@{winner}>" in told.body["text"]
    thread = await world.thread_replies(DESK)
    assert len([m for m in thread if "approved" in m["text"]]) == 1


async def test_approve_racing_a_reject_submission_applies_exactly_one(world: World) -> None:
    await world.register()
    await world.delivered()
    seen = await world.registration()
    metadata = RegistrationRef(id=1, version=seen.version).model_dump_json()
    reject = p.values(
        {
            Block.reject_reason: p.select_value("not_qualified"),
            Block.reject_note: p.text_value(None),
        }
    )

    click, submission = await asyncio.gather(
        world.decide(p.APPROVER, Action.review_approve, seen),
        world.submit(SECOND_APPROVER, Callback.reject_submit, reject, metadata=metadata),
    )

    assert click.status == submission.status == 200

    async def decided() -> bool:
        return (await world.registration()).is_decided

    await world.eventually(decided, "a decision")
    await world.delivered()
    registration = await world.registration()
    [(action, winner)] = await decisions(world)
    if registration.status is RegistrationStatus.approved:
        assert (action, winner) == ("approve", p.APPROVER.user_id)
        errors = submission.json()["errors"]
        assert set(errors) == {Block.reject_reason}
        assert f"already approved by <@{p.APPROVER.user_id}>" in errors[Block.reject_reason]
    else:
        assert registration.status is RegistrationStatus.rejected
        assert (action, winner) == ("reject", SECOND_APPROVER.user_id)
        assert submission.json() is None
        [told] = await world.fake.wait_for_hook_posts()
        assert f"already rejected by <@{SECOND_APPROVER.user_id}>" in told.body["text"]


def question(text: str) -> p.StateValues:
    return p.values({Block.info_question: p.text_value(text)})


async def test_two_approvers_asking_for_info_at_once_ask_once_and_the_other_is_told_who(
    world: World,
) -> None:
    await world.register()
    await world.delivered()
    seen = await world.registration()
    metadata = RegistrationRef(id=1, version=seen.version).model_dump_json()
    people = (p.APPROVER, SECOND_APPROVER)
    asking = zip(people, ("Who is the buyer?", "Is there a budget?"), strict=True)

    replies = await asyncio.gather(
        *(
            world.submit(person, Callback.request_info_submit, question(text), metadata=metadata)
            for person, text in asking
        )
    )

    await world.status_becomes(RegistrationStatus.info_requested)
    [(action, winner)] = await decisions(world)
    assert action == "request_info"
    [lost] = [r for r, person in zip(replies, people, strict=True) if person.user_id != winner]
    errors = lost.json()["errors"]
    assert set(errors) == {Block.info_question}
    assert "already waiting for the partner's answer" in errors[Block.info_question]
    assert f"<@{winner}>" in errors[Block.info_question]


async def test_decision_clicks_after_an_info_request_are_told_who_asked(world: World) -> None:
    await world.register()
    await world.delivered()
    seen = await world.registration()
    metadata = RegistrationRef(id=1, version=seen.version).model_dump_json()
    asked = await world.submit(
        p.APPROVER, Callback.request_info_submit, question("Who is the buyer?"), metadata=metadata
    )
    assert asked.json() is None
    await world.status_becomes(RegistrationStatus.info_requested)

    await world.decide(SECOND_APPROVER, Action.review_approve, seen)
    await world.decide(SECOND_APPROVER, Action.review_reject, seen)

    told = await world.fake.wait_for_hook_posts(count=2)
    for post in told:
        assert post.channel == DESK
        assert post.body["response_type"] == "ephemeral"
        assert "already waiting for the partner's answer" in post.body["text"]
        assert f"<@{p.APPROVER.user_id}>" in post.body["text"]
    assert world.views_opened(Callback.reject_submit) == []
    assert await decisions(world) == [("request_info", p.APPROVER.user_id)]


async def test_double_clicked_approve_is_applied_once(world: World) -> None:
    await world.register()
    await world.delivered()
    seen = await world.registration()

    await asyncio.gather(*(world.decide(p.APPROVER, Action.review_approve, seen) for _ in range(3)))

    await world.status_becomes(RegistrationStatus.approved)
    assert await decisions(world) == [("approve", p.APPROVER.user_id)]
    posts = await world.fake.wait_for_hook_posts(count=2)
    assert all("already approved" in post.body["text"] for post in posts)
    partner_thread = await world.thread_replies(ACME_CHANNEL)
    assert len(partner_thread) == 1


async def test_withdraw_racing_an_approval_applies_exactly_one(world: World) -> None:
    await world.register()
    await world.delivered()
    seen = await world.registration()
    ref = RegistrationRef(id=1, version=seen.version).model_dump_json()

    await asyncio.gather(
        world.decide(p.APPROVER, Action.review_approve, seen),
        world.click(p.PARTNER_REP, Action.card_withdraw, ref, channel_id=ACME_CHANNEL),
    )

    async def decided() -> bool:
        return (await world.registration()).is_decided

    await world.eventually(decided, "a decision or a withdrawal")
    [told] = await world.fake.wait_for_hook_posts()
    await world.delivered()
    registration = await world.registration()
    closing = [a for a, _ in await world.audit_actions() if a in {"approve", "withdraw"}]
    assert len(closing) == 1
    if registration.status is RegistrationStatus.approved:
        assert told.channel == ACME_CHANNEL  # the partner learns it was approved first
        assert "already approved" in told.body["text"]
        assert p.APPROVER.user_id not in told.body["text"]
    else:
        assert registration.status is RegistrationStatus.withdrawn
        assert told.channel == DESK
        assert "already withdrawn" in told.body["text"]
