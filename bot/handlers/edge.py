"""The thin Slack edge: every button and every form goes through one of two adapters.

A click (button or shortcut) is acked at once; its work then runs with every domain error
answered privately from one table (`bot.answers`) and anything else logged with a reference
the user is given. A form submission's work runs before its ack, so a refusal lands next to
the field it is about (or replaces the form, where the form says so).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.answers import Audience, answer
from bot.bootstrap import Deps
from bot.errors import Reply, reporting
from bot.identity import actor_from_body, host_team_id
from bot.views.common import RegistrationRef
from bot.views.render import render
from domain.actor import Caller
from domain.errors import DomainError, InvalidInput

logger = logging.getLogger(__name__)


def caller_of(body: Mapping[str, Any], context: AsyncBoltContext) -> Caller:
    """Who sent an interaction (their own team, never the host's) and in which channel."""
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    channel_id = channel.get("id") or container.get("channel_id")
    return Caller(actor_from_body(body), host_team_id(context), channel_id)


@dataclass(frozen=True, slots=True)
class Click:
    """A button click (or shortcut), with what its work needs."""

    caller: Caller
    body: Mapping[str, Any]
    action: Mapping[str, Any]
    client: AsyncWebClient
    deps: Deps
    reply: Reply

    @property
    def value(self) -> str:
        return str(self.action.get("value") or "")

    @property
    def ref(self) -> RegistrationRef:
        """The registration (and version seen) the button carries."""
        return RegistrationRef.model_validate_json(self.value)

    @property
    def trigger_id(self) -> str:
        return str(self.body["trigger_id"])

    @property
    def from_home(self) -> bool:
        return (self.body.get("view") or {}).get("type") == "home"


def on_click(
    app: AsyncApp,
    ids: Iterable[str],
    work: Callable[[Click], Awaitable[None]],
    *,
    audience: Audience,
    shortcut: bool = False,
) -> None:
    """Listen to the buttons `ids` (or global shortcuts): ack, then `work`, answering a
    refusal privately as `audience` reads it."""

    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
        respond: AsyncRespond,
        deps: Deps,
    ) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        reply = Reply(client, body, respond)
        click = Click(caller_of(body, context), body, action, client, deps, reply)
        async with reporting(reply, _label(work), audience=audience):
            await work(click)

    for listened in ids:
        (app.shortcut if shortcut else app.action)(listened)(listener)


@dataclass(frozen=True, slots=True)
class Form:
    """A modal submitted, with what its work needs."""

    caller: Caller
    body: Mapping[str, Any]
    view: Mapping[str, Any]
    client: AsyncWebClient
    deps: Deps

    @property
    def values(self) -> Mapping[str, Any]:
        return (self.view.get("state") or {}).get("values") or {}

    @property
    def metadata(self) -> str:
        return str(self.view.get("private_metadata") or "")


@dataclass(frozen=True, slots=True)
class Errors:
    """Send the form back with these messages next to its inputs (block id → text)."""

    by_block: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Replace:
    """Replace the form with another view (a receipt, or why nothing was done)."""

    view: View | dict[str, Any]


@dataclass(frozen=True, slots=True)
class Refusals:
    """Where a form shows a use case's refusal: next to the input a field error names
    (`fields`: the error's field → block id), else next to `block`; or, with no block, in a
    modal titled `title` that replaces the form."""

    audience: Audience
    block: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    title: str = "Dibs"
    message_modal: Callable[[str, str], View] | None = None


FormAnswer = Errors | Replace | None
"""What a form's work decides: errors next to inputs, another view, or (None) close it."""


def on_form(
    app: AsyncApp,
    callback_id: str,
    work: Callable[[Form], Awaitable[FormAnswer]],
    *,
    refusals: Refusals,
    after: Callable[[Form], Awaitable[None]] | None = None,
) -> None:
    """Listen to submissions of the modal `callback_id`: run `work` before the ack (so its
    answer, or a refusal placed as `refusals` says, is the ack), then `after` if it closed
    or replaced the form (work for after the ack, reported like a click's)."""

    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
        deps: Deps,
    ) -> None:
        form = Form(caller_of(body, context), body, view, client, deps)
        try:
            result = await work(form)
        except DomainError as error:
            logger.info("%s refused (%s): %s", callback_id, error.code, error.message)
            await ack(**_refused(error, refusals))
            return
        if isinstance(result, Errors):
            await ack(response_action="errors", errors=dict(result.by_block))
            return
        if isinstance(result, Replace):
            # rendered here, not by Bolt's `to_dict`, which re-validates every object
            shown = result.view if isinstance(result.view, dict) else render(result.view)
            await ack(response_action="update", view=shown)
        else:
            await ack()
        if after is not None:
            reply = Reply(client, body, None)
            async with reporting(reply, _label(after), audience=refusals.audience):
                await after(form)

    app.view(callback_id)(listener)


def _refused(error: DomainError, refusals: Refusals) -> dict[str, Any]:
    """The ack that shows a refusal where the form wants it."""
    text = answer(error, refusals.audience)
    if refusals.block is None:
        make = refusals.message_modal
        assert make is not None, "a form without an error block needs a message modal"
        return {"response_action": "update", "view": make(refusals.title, text)}
    field_name = error.field if isinstance(error, InvalidInput) else None
    block = refusals.fields.get(field_name or "", refusals.block)
    return {"response_action": "errors", "errors": {block: text}}


@dataclass(frozen=True, slots=True)
class Event:
    """An Events API event, delivered for the first time."""

    event: Mapping[str, Any]
    context: AsyncBoltContext
    client: AsyncWebClient
    deps: Deps


def on_event(app: AsyncApp, names: Iterable[str], work: Callable[[Event], Awaitable[None]]) -> None:
    """Listen to the events `names`, each delivery once (Slack retries carry the same event
    id); a failure is logged, since nobody waits for an event's answer."""

    async def listener(
        event: dict[str, Any],
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
        deps: Deps,
    ) -> None:
        event_id = body.get("event_id")
        if event_id and not await deps.services.receipts.first_time(event_id):
            logger.info("event %s already handled (retry %s)", event_id, context.get("retry_num"))
            return
        try:
            await work(Event(event, context, client, deps))
        except Exception:
            logger.exception("%s failed for event %s", work.__name__, event_id)

    for name in names:
        app.event(name)(listener)


_GONE = frozenset({"not_found", "hash_conflict", "view_not_found"})
"""views.update errors that only mean the modal moved on (closed, submitted, replaced)."""


async def update_view(
    client: AsyncWebClient, shown: Mapping[str, Any], view: View | dict[str, Any]
) -> None:
    """Replace a modal Dibs opened (`shown`, as views.open returned it), unless the user has
    already closed, submitted or replaced it (then there is nothing to update)."""
    try:
        await client.views_update(view_id=shown["id"], hash=shown.get("hash"), view=view)
    except SlackApiError as error:
        if error.response.get("error") not in _GONE:
            raise
        logger.info("modal %s moved on before its update", shown["id"])


def _label(work: Callable[..., object]) -> str:
    """How the logs name a piece of work: its function's name in words."""
    return work.__name__.replace("_", " ")


def at_channel(caller: Caller, channel_id: str | None) -> Caller:
    """The caller, acting in `channel_id` (a form remembers where it was opened)."""
    return replace(caller, channel_id=channel_id)
