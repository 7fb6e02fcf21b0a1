"""One place that turns failures into something the user can read and the on-call can find.

`register_error_handler` covers errors raised before a listener acked. Work after the ack
runs inside `reporting(...)`, which never lets an exception reach Bolt (an exception after
`ack()` can make Bolt answer Slack with a 404 three seconds later).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.answers import Audience, answer
from domain.errors import DomainError

logger = logging.getLogger(__name__)

GENERIC = "Something went wrong on our side. Please try again; if it keeps happening, quote {ref}."


def correlation_id() -> str:
    return uuid.uuid4().hex[:8]


class Reply:
    """Tells the person behind a request something privately, wherever they clicked."""

    def __init__(
        self, client: AsyncWebClient, body: Mapping[str, Any], respond: AsyncRespond | None
    ) -> None:
        self._client = client
        self._body = body
        self._respond = respond

    async def __call__(self, text: str) -> None:
        user_id = (self._body.get("user") or {}).get("id") or self._body.get("user_id")
        channel_id = (self._body.get("channel") or {}).get("id") or self._body.get("channel_id")
        try:
            if self._respond is not None and self._body.get("response_url"):
                await self._respond(text=text, response_type="ephemeral", replace_original=False)
            elif channel_id and user_id:
                await self._client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
            elif user_id:
                await self._client.chat_postMessage(channel=user_id, text=text)
        except Exception:
            logger.exception("could not tell user %s: %s", user_id, text)


@asynccontextmanager
async def reporting(
    reply: Reply, what: str, *, audience: Audience = Audience.partner
) -> AsyncIterator[None]:
    """Run post-ack work: domain errors are told to the user as `audience` may read them
    (`bot.answers`), anything else is logged with a reference the user is given. Nothing
    escapes to Bolt."""
    try:
        yield
    except DomainError as error:
        logger.info("%s refused (%s): %s", what, error.code, error.message)
        await reply(answer(error, audience))
    except Exception as error:
        ref = correlation_id()
        if isinstance(error, SlackApiError):
            logger.exception(
                "%s failed on Slack (ref %s): %s", what, ref, error.response.get("error")
            )
        else:
            logger.exception("%s failed (ref %s)", what, ref)
        await reply(GENERIC.format(ref=ref))


def register_error_handler(app: AsyncApp) -> None:
    """The app-wide handler for errors raised before a listener acked."""

    @app.error
    async def handle_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        ref = correlation_id()
        if isinstance(error, DomainError):
            logger.info("refused (%s): %s", error.code, error.message)
            text = error.message
        else:
            logger.exception("unhandled error (ref %s) for %s", ref, body.get("type"))
            text = GENERIC.format(ref=ref)
        if body.get("type") == "view_submission":
            return BoltResponse(
                status=200,
                body={"response_action": "update", "view": _error_modal(text)},
            )
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})


def _error_modal(text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Dibs"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }
