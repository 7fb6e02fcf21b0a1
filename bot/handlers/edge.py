"""The thin Slack edge: every button and every form goes through one of two adapters.

A click (button or shortcut) is acked at once; its work then runs with every domain error
answered privately from one table (`bot.answers`) and anything else logged with a reference
the user is given. A form submission's work runs before its ack, so a refusal lands next to
the field it is about (or replaces the form, where the form says so).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.answers import Audience, answer
from bot.bootstrap import Deps
from bot.errors import Reply, reporting
from bot.identity import actor_from_body, channel_of, host_team_id
from bot.views.common import RegistrationRef
from bot.views.render import render
from domain.actor import Caller
from domain.errors import DomainError, InvalidInput

logger = logging.getLogger(__name__)


def deps_of(args: AsyncArgs) -> Deps:
    """The process's dependencies, which the middleware put in the request's context."""
    deps: Deps = args.context["deps"]
    return deps


def caller_of(body: Mapping[str, Any], context: AsyncBoltContext) -> Caller:
    """Who sent an interaction (their own team, never the host's) and in which channel."""
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    channel_id = channel.get("id") or container.get("channel_id")
    return Caller(actor_from_body(body), host_team_id(context), channel_of(channel_id))


@dataclass(frozen=True, slots=True)
class Interaction:
    """What every piece of work gets: who asked, the payload, and how to talk back."""

    caller: Caller
    body: Mapping[str, Any]
    client: AsyncWebClient
    deps: Deps

    @property
    def carried(self) -> str:
        """What the button or modal carries for the work (its value, its metadata)."""
        raise NotImplementedError

    @property
    def ref(self) -> RegistrationRef:
        """The registration (and the version seen) the button or modal is about."""
        return RegistrationRef.model_validate_json(self.carried)

    async def update_view(self, shown: Mapping[str, Any], view: View | dict[str, Any]) -> None:
        """Replace a modal opened for this work (`shown`, as views.open returned it)."""
        await update_view(self.client, shown, view)


@dataclass(frozen=True, slots=True)
class Click(Interaction):
    """A button click (or shortcut): its action, and how to answer privately."""

    action: Mapping[str, Any]
    reply: Reply

    @property
    def carried(self) -> str:
        """The button's value."""
        return str(self.action.get("value") or "")

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

    async def listener(args: AsyncArgs) -> None:
        await args.ack()
        body, client = args.body, args.client
        reply = Reply(client, body, args.respond)
        action = (body.get("actions") or [{}])[0]
        click = Click(caller_of(body, args.context), body, client, deps_of(args), action, reply)
        async with reporting(reply, _label(work), audience=audience):
            await work(click)

    for listened in ids:
        (app.shortcut if shortcut else app.action)(listened)(listener)


@dataclass(frozen=True, slots=True)
class Form(Interaction):
    """A modal submitted: its view, with the values typed and the metadata it carried."""

    view: Mapping[str, Any]

    @property
    def values(self) -> Mapping[str, Any]:
        return (self.view.get("state") or {}).get("values") or {}

    @property
    def carried(self) -> str:
        """The modal's private metadata."""
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

    async def listener(args: AsyncArgs) -> None:
        ack, body, client = args.ack, args.body, args.client
        form = Form(caller_of(body, args.context), body, client, deps_of(args), args.view or {})
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

    async def listener(args: AsyncArgs) -> None:
        event, context, deps = args.event or {}, args.context, deps_of(args)
        event_id = args.body.get("event_id")
        if event_id and not await deps.services.receipts.first_time(event_id):
            logger.info("event %s already handled (retry %s)", event_id, context.get("retry_num"))
            return
        try:
            await work(Event(event, context, args.client, deps))
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


Work = TypeVar("Work", bound=Callable[..., Awaitable[Any]])
Parsed = TypeVar("Parsed")
After = Callable[[Form], Awaitable[None]] | None


class Listeners:
    """One feature's listeners, each declared on the function that does its work."""

    def __init__(self) -> None:
        self._adds: list[Callable[[AsyncApp], object]] = []

    def click(
        self, *ids: str, audience: Audience, shortcut: bool = False
    ) -> Callable[[Work], Work]:
        """The work of the buttons (or global shortcuts) `ids` (see `on_click`)."""
        return self._declaring(
            lambda app, work: on_click(app, ids, work, audience=audience, shortcut=shortcut)
        )

    def form(
        self, callback_id: str, *, refusals: Refusals, after: After = None
    ) -> Callable[[Work], Work]:
        """The work of the modal `callback_id` when submitted (see `on_form`)."""
        return self._declaring(
            lambda app, work: on_form(app, callback_id, work, refusals=refusals, after=after)
        )

    def parsed_form(
        self,
        callback_id: str,
        parse: Callable[[Mapping[str, Any]], Parsed | dict[str, str]],
        refusals: Refusals,
    ) -> Callable[
        [Callable[[Form, Parsed], Awaitable[FormAnswer]]],
        Callable[[Form, Parsed], Awaitable[FormAnswer]],
    ]:
        """A form whose values are parsed first: errors go back next to their inputs, and
        the work gets what was parsed."""

        def declare(
            work: Callable[[Form, Parsed], Awaitable[FormAnswer]],
        ) -> Callable[[Form, Parsed], Awaitable[FormAnswer]]:
            async def parsed_then(form: Form) -> FormAnswer:
                parsed = parse(form.values)
                if isinstance(parsed, dict):
                    return Errors(parsed)
                return await work(form, parsed)

            parsed_then.__name__ = work.__name__
            self._adds.append(lambda app: on_form(app, callback_id, parsed_then, refusals=refusals))
            return work

        return declare

    def event(self, *names: str) -> Callable[[Work], Work]:
        """The work of the events `names` (see `on_event`)."""
        return self._declaring(lambda app, work: on_event(app, names, work))

    def command(self, name: str) -> Callable[[Work], Work]:
        """A slash command's Bolt listener, as it is (it answers in its own ack)."""
        return self._declaring(lambda app, listener: app.command(name)(listener))

    def register(self, app: AsyncApp) -> None:
        """Attach every declared listener to `app`."""
        for add in self._adds:
            add(app)

    def _declaring(self, attach: Callable[[AsyncApp, Any], object]) -> Callable[[Work], Work]:
        def declare(work: Work) -> Work:
            self._adds.append(lambda app: attach(app, work))
            return work

        return declare
