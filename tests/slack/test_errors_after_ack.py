"""Failures after the ack never reach Bolt: Slack still gets its prompt 200, the on-call gets
the error in the log with a reference, and the person who clicked is told, quoting it.

In Bolt for Python the listener runs in a task of its own after `ack()`, and an exception it
raises there can make Bolt answer Slack with a 404 three seconds later. With our app-wide error
handler (which answers with a response) Bolt instead fails an assertion in that task: the
error handler logs "unhandled error", and nobody tells the user. So work after the ack runs
inside `bot.errors.reporting`, and these tests check that the app-wide handler never sees it.
Work before the ack that fails is the app-wide handler's: a view submission gets an error
modal. Every failure is provoked for real: the fake Slack Web API answers with an error, or
the database refuses every transaction.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import event

from bot.ids import Action, Callback
from domain.registration import RegistrationStatus
from storage.db import execute_on_connect
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, World, text_of
from tests.slack.fake_slack import HookPost
from tests.slack.signing import Reply

PROMPT = 3.0
"""Slack's limit for an answer: later is a failure to Slack, whatever the status (Bolt's 404
comes at 3). A contract, not a speed measure: speed is the benches' business."""
QUOTED_REF = re.compile(r"quote ([0-9a-f]{8})")
ESCAPED_TO_BOLT = "unhandled error"
"""What the app-wide error handler logs: it must not see errors raised after an ack."""


@pytest.fixture(autouse=True)
def _capture_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.errors")


def assert_prompt_bare_ack(reply: Reply) -> None:
    """A 200 with the empty body of a plain `ack()`, inside Slack's 3 seconds."""
    assert reply.status == 200, f"HTTP {reply.status}: {reply.text[:200]}"
    assert reply.text == ""
    assert reply.elapsed < PROMPT, f"acked after {reply.elapsed:.2f}s"


def logged_error(caplog: pytest.LogCaptureFixture, what: str) -> logging.LogRecord:
    """The one ERROR `reporting` logged for `what`, with its traceback."""
    found = [
        r
        for r in caplog.records
        if r.name == "bot.errors" and r.levelno == logging.ERROR and r.getMessage().startswith(what)
    ]
    assert len(found) == 1, [r.getMessage() for r in caplog.records if r.name == "bot.errors"]
    assert found[0].exc_info is not None
    return found[0]


def assert_nothing_escaped_to_bolt(caplog: pytest.LogCaptureFixture) -> None:
    escaped = [r.getMessage() for r in caplog.records if ESCAPED_TO_BOLT in r.getMessage()]
    assert escaped == []


def quoted_ref(text: str) -> str:
    match = QUOTED_REF.search(text)
    assert match is not None, f"no reference quoted in {text!r}"
    return match.group(1)


async def told_privately(world: World, channel: str) -> HookPost:
    """The one ephemeral reply posted to the response_url of a click or command in `channel`."""
    [post] = await world.fake.wait_for_hook_posts()
    assert post.channel == channel
    assert post.body["response_type"] == "ephemeral"
    assert post.body.get("replace_original") is False
    return post


@contextlib.asynccontextmanager
async def database_refusing_transactions(world: World) -> AsyncIterator[None]:
    """Every transaction fails, as when the database turns read-only under us, until the
    block ends. Dibs begins every transaction with BEGIN IMMEDIATE, which a read-only SQLite
    database refuses ("attempt to write a readonly database"), reads included."""
    world.deps.rules_max_age = float("inf")
    await world.deps.refresh_rules()  # the middleware's once-in-a-while read stays served
    engine = world.deps.engine
    await engine.dispose()
    listener = execute_on_connect(engine, "PRAGMA query_only = ON")
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "connect", listener)
        await engine.dispose()


async def click_register(world: World) -> Reply:
    """A partner clicks Register a deal on the launcher in its channel."""
    payload = p.block_actions(
        p.PARTNER_REP,
        action_id=Action.launcher_register,
        value="1",
        channel_id=ACME_CHANNEL,
        response_url=world.fake.hook_url(channel=ACME_CHANNEL),
    )
    return await world.slack.send_interaction(payload)


# --- the Slack Web API fails after the ack ----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [(200, "expired_trigger_id"), (500, "internal_error")],
    ids=["expired-trigger", "http-500"],
)
async def test_register_a_deal_whose_modal_slack_refuses_is_acked_logged_and_told(
    world: World, caplog: pytest.LogCaptureFixture, status: int, error: str
) -> None:
    world.fake.fail("views.open", status=status, error=error)

    reply = await click_register(world)

    assert_prompt_bare_ack(reply)
    post = await told_privately(world, ACME_CHANNEL)
    record = logged_error(caplog, "open registration form failed on Slack")
    assert error in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], SlackApiError)
    assert quoted_ref(post.body["text"]) in record.getMessage()
    assert_nothing_escaped_to_bolt(caplog)
    [refused] = world.fake.calls_to("views.open")
    assert not refused.ok


async def test_dibs_whose_form_slack_refuses_is_acked_logged_and_told(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.fake.fail("views.open", status=503)
    command = p.slash_command(
        p.INTERNAL_REP, text="", channel_id=DESK, response_url=world.fake.hook_url(channel=DESK)
    )

    reply = await world.slack.send_command(command)

    assert_prompt_bare_ack(reply)
    post = await told_privately(world, DESK)
    record = logged_error(caplog, "/dibs failed on Slack")
    assert "service_unavailable" in record.getMessage()
    assert quoted_ref(post.body["text"]) in record.getMessage()
    assert_nothing_escaped_to_bolt(caplog)


async def test_my_registrations_that_cannot_be_filled_in_is_logged_and_told(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The second Web API call of the flow fails: the modal opened, its update did not."""
    world.fake.fail("views.update", status=500)

    reply = await world.click(p.PARTNER_REP, Action.launcher_mine, "x", channel_id=ACME_CHANNEL)

    assert_prompt_bare_ack(reply)
    post = await told_privately(world, ACME_CHANNEL)
    record = logged_error(caplog, "my registrations failed on Slack")
    assert quoted_ref(post.body["text"]) in record.getMessage()
    assert [call.ok for call in world.fake.calls_to("views.open")] == [True]
    assert_nothing_escaped_to_bolt(caplog)


# --- the database fails -----------------------------------------------------------------------


async def test_approve_on_an_unavailable_database_is_acked_logged_told_and_not_applied(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.register()
    await world.delivered()
    seen = await world.registration()

    async with database_refusing_transactions(world):
        reply = await world.decide(p.APPROVER, Action.review_approve, seen)
        post = await told_privately(world, DESK)

    assert_prompt_bare_ack(reply)
    record = logged_error(caplog, "approve failed")
    assert record.exc_info is not None
    assert "readonly database" in str(record.exc_info[1])  # the database's own error
    assert "Something went wrong on our side" in post.body["text"]
    assert quoted_ref(post.body["text"]) in record.getMessage()
    assert_nothing_escaped_to_bolt(caplog)
    assert (await world.registration()).status is RegistrationStatus.under_review
    assert [action for action, _ in await world.audit_actions()] == ["submit", "review"]


async def test_register_a_deal_on_an_unavailable_database_still_opens_the_form_first(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    async with database_refusing_transactions(world):
        reply = await click_register(world)
        post = await told_privately(world, ACME_CHANNEL)

    assert_prompt_bare_ack(reply)
    [opened] = world.fake.calls_to("views.open")
    assert opened.ok  # the trigger was used before anything could fail
    assert opened.params["view"]["callback_id"] == Callback.registration_submit
    record = logged_error(caplog, "open registration form failed")
    assert quoted_ref(post.body["text"]) in record.getMessage()
    assert_nothing_escaped_to_bolt(caplog)


async def test_a_submission_on_an_unavailable_database_gets_the_error_modal(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Storing comes before this ack (so a refusal can show next to a field): the app-wide
    error handler answers the submission with an error modal, still a prompt 200."""
    async with database_refusing_transactions(world):
        reply = await world.register()

    assert reply.elapsed < PROMPT
    body = reply.json()
    assert body["response_action"] == "update"
    modal = body["view"]
    assert modal["type"] == "modal"
    assert "submit" not in modal
    shown = text_of(modal)
    assert "Something went wrong on our side" in shown
    [record] = [r for r in caplog.records if r.getMessage().startswith(ESCAPED_TO_BOLT)]
    assert "view_submission" in record.getMessage()
    assert quoted_ref(shown) in record.getMessage()
    assert await world.registration_count() == 0
