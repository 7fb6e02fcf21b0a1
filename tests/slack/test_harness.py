"""The Slack harness proves itself against a tiny Bolt app, before Dibs exists."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from domain.slack_ids import SlackChannelId
from tests.slack import payloads as p
from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import FORM, SlackClient, sign

SECRET = "harness-signing-secret"
CHANNEL = SlackChannelId("C0PARTNER")


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """SLACK_CLIENT_ID/SECRET in the environment would silently switch Bolt to OAuth."""
    for name in list(os.environ):
        if name.startswith("SLACK_"):
            monkeypatch.delenv(name)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """The recording fake Web API."""
    async with FakeSlack() as fake_slack:
        yield fake_slack


@pytest.fixture
def seen() -> dict[str, Any]:
    """What the tiny app's listeners observed."""
    return {}


def build_tiny_app(fake: FakeSlack, seen: dict[str, Any]) -> AsyncApp:
    """A minimal Bolt app wired exactly as Dibs will be: token mode, client on the fake."""
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    # Token mode: Bolt takes the token from `client` (passing `token=` too only logs a warning).
    app = AsyncApp(signing_secret=SECRET, client=client)

    @app.action("harness-click")
    async def click(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(channel=body["channel"]["id"], text="clicked")

    @app.view("harness-submit")
    async def submit(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        seen["context_team_id"] = context.team_id
        seen["user_team_id"] = body["user"]["team_id"]
        company = body["view"]["state"]["values"]["harness-company"]["harness-company"]["value"]
        if not company:
            await ack(response_action="errors", errors={"harness-company": "Required"})
            return
        await ack()

    @app.command("/dibs")
    async def command(ack: AsyncAck, command: dict[str, str]) -> None:
        await ack(text=f"you said {command['text']}", response_type="ephemeral")

    @app.shortcut("harness-shortcut")
    async def open_modal(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "harness-submit",
                "title": {"type": "plain_text", "text": "Harness"},
                "blocks": [],
            },
        )

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    return app


@pytest.fixture
async def slack(fake: FakeSlack, seen: dict[str, Any]) -> AsyncIterator[SlackClient]:
    """A signed client for the tiny app served over loopback HTTP."""
    server = TestServer(build_tiny_app(fake, seen).web_app(path="/slack/events"), host="127.0.0.1")
    await server.start_server()
    try:
        async with SlackClient(str(server.make_url("/slack/events")), SECRET) as client:
            yield client
    finally:
        await server.close()


def click_payload() -> dict[str, Any]:
    """A partner's click on a bot button in the shared channel."""
    return p.block_actions(p.PARTNER_REP, action_id="harness-click", value="x", channel_id=CHANNEL)


class TestSignedRequests:
    async def test_signed_click_is_acked_and_the_post_ack_call_is_recorded(
        self, slack: SlackClient, fake: FakeSlack
    ) -> None:
        reply = await slack.send_interaction(click_payload())

        assert reply.status == 200
        assert reply.elapsed < 3
        [call] = await fake.wait_for("chat.postMessage")
        assert (call.params["channel"], call.params["text"]) == (CHANNEL, "clicked")
        assert call.token == "xoxb-test"
        assert fake.calls_to("auth.test")  # token mode authorises through auth.test

    async def test_wrong_secret_is_rejected_with_401(self, slack: SlackClient) -> None:
        forged = SlackClient(slack.url, "not-the-secret", session=slack.session)

        reply = await forged.send_interaction(click_payload())

        assert reply.status == 401

    async def test_stale_timestamp_is_rejected_with_401(self, slack: SlackClient) -> None:
        six_minutes_ago = str(int(time.time()) - 360)

        reply = await slack.send_interaction(click_payload(), timestamp=six_minutes_ago)

        assert reply.status == 401

    async def test_signature_for_another_body_is_rejected_with_401(
        self, slack: SlackClient
    ) -> None:
        ts = slack.now()
        signature = sign(b"payload=%7B%7D", ts, SECRET)

        reply = await slack.send_raw(b"payload=%7B%22x%22%3A1%7D", FORM, signature=signature)

        assert reply.status == 401

    async def test_url_verification_is_answered(self, slack: SlackClient) -> None:
        reply = await slack.send_event(p.url_verification("abc"))

        assert reply.status == 200
        assert reply.json() == {"challenge": "abc"}


class TestPayloadShapes:
    async def test_partner_submission_keeps_host_context_and_partner_actor(
        self, slack: SlackClient, seen: dict[str, Any]
    ) -> None:
        payload = p.view_submission(
            p.PARTNER_REP,
            callback_id="harness-submit",
            values=p.values({"harness-company": p.text_value("Initech")}),
        )

        reply = await slack.send_interaction(payload)

        assert (reply.status, reply.text) == (200, "")
        assert seen == {"context_team_id": p.HOST_TEAM, "user_team_id": "T0ACME"}

    async def test_grid_partner_submission_carries_its_enterprise(self) -> None:
        payload = p.view_submission(p.OTHER_PARTNER_REP, callback_id="x", values={})

        assert payload["enterprise"] == {"id": "E0GLOBEX", "name": "Globex Corporation"}
        assert payload["team"]["enterprise_id"] == "E0GLOBEX"
        assert payload["view"]["app_installed_team_id"] == p.HOST_TEAM
        assert payload["view"]["team_id"] == "T0GLOBEX"

    async def test_errors_come_back_keyed_by_block_id(self, slack: SlackClient) -> None:
        payload = p.view_submission(
            p.PARTNER_REP,
            callback_id="harness-submit",
            values=p.values(**{"harness-company": p.text_value(None)}),
        )

        reply = await slack.send_interaction(payload)

        assert reply.json() == {
            "response_action": "errors",
            "errors": {"harness-company": "Required"},
        }

    async def test_slash_command_is_acked_with_text(self, slack: SlackClient) -> None:
        fields = p.slash_command(p.ADMIN, text="help", channel_id="C0DESK")

        reply = await slack.send_command(fields)

        assert reply.status == 200
        assert reply.json() == {"text": "you said help", "response_type": "ephemeral"}

    async def test_shortcut_opens_a_modal_with_its_trigger(
        self, slack: SlackClient, fake: FakeSlack
    ) -> None:
        payload = p.shortcut(p.INTERNAL_REP, callback_id="harness-shortcut")

        await slack.send_interaction(payload)

        [call] = await fake.wait_for("views.open")
        assert call.params["trigger_id"] == payload["trigger_id"]
        assert call.response["view"]["id"].startswith("V")
        assert call.response["view"]["callback_id"] == "harness-submit"

    async def test_app_home_event_is_acked_and_publishes(
        self, slack: SlackClient, fake: FakeSlack
    ) -> None:
        envelope = p.event_callback(p.app_home_opened(p.APPROVER))

        reply = await slack.send_event(envelope, retry_num=1)

        assert reply.status == 200
        await fake.wait_for("views.publish")
        assert fake.home_views[p.APPROVER.user_id]["type"] == "home"

    def test_click_on_a_message_names_the_host_team_and_the_clickers_team(self) -> None:
        payload = click_payload()

        assert payload["team"]["id"] == p.HOST_TEAM
        assert payload["user"]["team_id"] == "T0ACME"
        assert payload["container"]["channel_id"] == CHANNEL
        assert payload["container"]["message_ts"] == payload["message"]["ts"]
        assert payload["actions"][0]["type"] == "button"

    def test_click_inside_a_view_uses_a_view_container(self) -> None:
        payload = p.block_actions(
            p.PARTNER_REP, action_id="a", value="v", view={"id": "V0MODAL", "callback_id": "c"}
        )

        assert payload["container"] == {"type": "view", "view_id": "V0MODAL"}
        assert "channel" not in payload
        assert payload["view"]["app_installed_team_id"] == p.HOST_TEAM

    def test_state_value_helpers_build_slack_shapes(self) -> None:
        state = p.values(
            {
                "b-date": p.date_value("2027-01-31"),
                "b-stage": p.select_value("qualified", "Qualified"),
                "b-products": p.multi_select_value([("core", "Core")]),
            }
        )

        assert state["b-date"]["b-date"] == {"type": "datepicker", "selected_date": "2027-01-31"}
        assert state["b-stage"]["b-stage"]["selected_option"]["value"] == "qualified"
        assert state["b-products"]["b-products"]["selected_options"][0]["text"]["text"] == "Core"


class TestFakeWebApi:
    @pytest.fixture
    def client(self, fake: FakeSlack) -> AsyncWebClient:
        """A bare Web API client pointed at the fake."""
        return AsyncWebClient(token="xoxb-test", base_url=fake.api_url)

    async def test_queued_429_is_served_then_normal_answers_resume(
        self, fake: FakeSlack, client: AsyncWebClient
    ) -> None:
        fake.fail("chat.postMessage", status=429, retry_after=7)

        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel=CHANNEL, text="one")
        second = await client.chat_postMessage(channel=CHANNEL, text="two")

        assert raised.value.response.status_code == 429
        assert raised.value.response.headers["Retry-After"] == "7"
        assert raised.value.response["error"] == "ratelimited"
        assert second["ok"] is True
        assert [c.ok for c in fake.calls_to("chat.postMessage")] == [False, True]

    async def test_rate_limit_retry_handler_gets_through(
        self, fake: FakeSlack, client: AsyncWebClient
    ) -> None:
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
        fake.fail("chat.postMessage", status=429, retry_after=0)

        response = await client.chat_postMessage(channel=CHANNEL, text="hello")

        assert response["ok"] is True
        assert len(fake.calls_to("chat.postMessage")) == 2
        assert [m["text"] for m in fake.messages_in(CHANNEL)] == ["hello"]

    async def test_error_codes_and_server_errors_are_queued_in_order(
        self, fake: FakeSlack, client: AsyncWebClient
    ) -> None:
        fake.fail("views.open", error="expired_trigger_id")
        fake.fail("views.open", status=503)

        errors = []
        for _ in range(2):
            with pytest.raises(SlackApiError) as raised:
                await client.views_open(trigger_id="t", view={"type": "modal", "blocks": []})
            errors.append((raised.value.response.status_code, raised.value.response["error"]))
        opened = await client.views_open(trigger_id="t", view={"type": "modal", "blocks": []})

        assert errors == [(200, "expired_trigger_id"), (503, "service_unavailable")]
        assert opened["view"]["id"].startswith("V")

    async def test_messages_in_shows_the_latest_content_of_each_message(
        self, fake: FakeSlack, client: AsyncWebClient
    ) -> None:
        card = await client.chat_postMessage(
            channel=CHANNEL, text="Submitted", blocks=[{"type": "divider"}]
        )
        reply = await client.chat_postMessage(channel=CHANNEL, text="note", thread_ts=card["ts"])
        await client.chat_update(channel=CHANNEL, ts=card["ts"], text="Approved")

        messages = fake.messages_in(CHANNEL)

        assert [m["text"] for m in messages] == ["Approved", "note"]
        assert messages[0]["blocks"] == [{"type": "divider"}]  # omitted blocks are kept
        assert fake.thread(CHANNEL, card["ts"])[0]["ts"] == reply["ts"]
        assert float(card["ts"]) < float(reply["ts"])

    async def test_all_text_sent_to_includes_history_ephemerals_and_hooks(
        self, fake: FakeSlack, client: AsyncWebClient
    ) -> None:
        section = {"type": "section", "text": {"type": "mrkdwn", "text": "Initech *secret*"}}
        card = await client.chat_postMessage(channel=CHANNEL, text="first", blocks=[section])
        await client.chat_update(channel=CHANNEL, ts=card["ts"], text="second", blocks=[])
        await client.chat_postEphemeral(channel=CHANNEL, user="U0PARTNER", text="only you")
        await client.chat_postMessage(channel="C0DESK", text="desk only")
        await AsyncWebhookClient(fake.hook_url("r1", channel=CHANNEL)).send(text="via hook")

        sent = fake.all_text_sent_to(CHANNEL)

        for text in ("first", "Initech *secret*", "second", "only you", "via hook"):
            assert text in sent
        assert "desk only" not in sent
        assert fake.hook_posts[0].body == {"text": "via hook"}

    async def test_posts_to_a_user_land_in_the_dm(
        self, fake: FakeSlack, client: AsyncWebClient
    ) -> None:
        response = await client.chat_postMessage(channel="U0APPROVER", text="decide")

        assert response["channel"] == "D0APPROVER"
        assert fake.messages_in("U0APPROVER") == fake.messages_in("D0APPROVER")

    async def test_registries_answer_users_and_channels(
        self, fake: FakeSlack, client: AsyncWebClient
    ) -> None:
        fake.add_channel(CHANNEL, shared_with=["T0ACME"])
        fake.add_channel("C0GLOBEX", connected_team_ids=[p.HOST_TEAM, "T0GLOBEX"])
        fake.add_user("U0MAIL", email="mail@vendor.example")

        partner = await client.users_info(user="U0GLOBEX")
        unknown = await client.users_info(user="U0NEW")
        channel = await client.conversations_info(channel=CHANNEL)
        desk = await client.conversations_info(channel="C0DESK")
        globex = await client.conversations_info(channel="C0GLOBEX")
        found = await client.users_lookupByEmail(email="mail@vendor.example")
        with pytest.raises(SlackApiError) as missing:
            await client.users_lookupByEmail(email="nobody@example.com")
        auth = await client.auth_test()

        assert partner["user"]["team_id"] == "T0GLOBEX"
        assert partner["user"]["enterprise_user"]["enterprise_id"] == "E0GLOBEX"
        assert unknown["user"]["team_id"] == p.HOST_TEAM
        assert channel["channel"]["is_ext_shared"] is True
        assert channel["channel"]["connected_team_ids"] == [p.HOST_TEAM, "T0ACME"]
        assert desk["channel"]["is_ext_shared"] is False
        assert globex["channel"]["connected_team_ids"] == [p.HOST_TEAM, "T0GLOBEX"]
        assert found["user"]["id"] == "U0MAIL"
        assert missing.value.response["error"] == "users_not_found"
        assert auth["user_id"] == "U0BOT"
        assert "chat:write" in auth.headers["x-oauth-scopes"]

    async def test_wait_for_times_out_with_a_clear_message(self, fake: FakeSlack) -> None:
        with pytest.raises(AssertionError, match=r"expected 1 call\(s\) to chat.update"):
            await fake.wait_for("chat.update", timeout=0.05)

    async def test_reset_forgets_calls_and_failures(
        self, fake: FakeSlack, client: AsyncWebClient
    ) -> None:
        await client.chat_postMessage(channel=CHANNEL, text="x")
        fake.fail("chat.postMessage", error="channel_not_found")

        fake.reset()
        await client.chat_postMessage(channel=CHANNEL, text="y")

        assert [c.params["text"] for c in fake.calls] == ["y"]
