"""The conflict desk: settle a conflict from the evidence thread, or say "I'm working this".

The buttons live in the internal desk channel, but every click is authorised on the server
all the same: resolutions are for approvers, "I'm working this" for the vendor's own team.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import Deps
from bot.errors import reporting
from bot.handlers.context import caller, reply_for
from bot.handlers.home import publish_home
from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef, moved_first_text
from bot.views.evidence import RESOLUTION_ACTIONS
from bot.views.resolution_modals import (
    ResolutionContext,
    build_closed_modal,
    build_resolution_modal,
    build_working_modal,
    parse_resolution_submission,
    parse_working_submission,
)
from domain.actor import Actor
from domain.adjudication import (
    Adjudicate,
    AdjudicationRaced,
    ClaimWork,
    adjudicate,
    conflict_case,
    dispute,
)
from domain.errors import DomainError, InvalidInput, NotAllowed
from domain.policy import can_decide
from domain.registration import Registration

logger = logging.getLogger(__name__)

APPROVERS_ONLY = "Only the deal desk's approvers can settle conflicts."
INTERNAL_ONLY = "Only the vendor's own team can claim a customer."
RESOLUTIONS = {action: resolution for resolution, action in RESOLUTION_ACTIONS.items()}
"""The resolution each button of the evidence message stands for."""
# views.update errors that only mean the modal moved on (closed, submitted, replaced).
_GONE = frozenset({"not_found", "hash_conflict", "view_not_found"})


def register(app: AsyncApp) -> None:
    for action in RESOLUTIONS:
        app.action(action)(open_resolution_modal)
    app.action(Action.conflict_working)(open_working_modal)
    app.view(Callback.resolve_submit)(submit_resolution)
    app.view(Callback.working_submit)(submit_working)


def raced_text(registration: Registration, by: Actor | None) -> str:
    """Tell the loser of a race which registration moved first, where it stands, and who
    moved it there (`by`, from the audit trail); nothing of theirs was applied."""
    return moved_first_text(registration, by) + ". Nothing was changed."


async def open_resolution_modal(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    deps: Deps,
) -> None:
    """Refuse non-approvers privately; otherwise open the reason modal at once (the trigger
    id expires in 3 s), then fill in the company and the recommendation."""
    await ack()
    who = caller(body, context)
    async with reporting(reply_for(client, body, respond), "open resolution modal"):
        if not can_decide(who.actor, desk=deps.config.desk, host_team_id=who.host_team_id):
            raise NotAllowed(APPROVERS_ONLY)
        ref = RegistrationRef.model_validate_json(action["value"])
        meta = ResolutionContext(
            id=ref.id,
            version=ref.version,
            resolution=RESOLUTIONS[Action(action["action_id"])],
            reference=ref.reference,
        )
        opened = await client.views_open(
            trigger_id=body["trigger_id"], view=build_resolution_modal(meta)
        )
        case = await conflict_case(ref.id, uow=deps.uow(), now=deps.clock())
        registration = case.registration
        if registration.version != ref.version or registration.is_decided:
            view = build_closed_modal("Already settled", raced_text(registration, case.moved_by))
        else:
            view = build_resolution_modal(meta, case=case)
        await _update(client, opened["view"], view)


async def _update(client: AsyncWebClient, shown: dict[str, Any], view: Any) -> None:
    """Replace an open modal, unless the user already closed or submitted it."""
    try:
        await client.views_update(view_id=shown["id"], hash=shown.get("hash"), view=view)
    except SlackApiError as error:
        if error.response.get("error") not in _GONE:
            raise
        logger.info("modal %s moved on before its update", shown["id"])


async def submit_resolution(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    deps: Deps,
) -> None:
    """Validate the reason, settle before acking (so a lost race or a refusal shows next to
    the field), then close the modal; the outbox tells every party."""
    meta = ResolutionContext.model_validate_json(view["private_metadata"])
    parsed = parse_resolution_submission(view["state"]["values"], meta.resolution)
    if isinstance(parsed, dict):
        await ack(response_action="errors", errors=parsed)
        return
    who = caller(body, context)
    resolution, reason = parsed
    cmd = Adjudicate(meta.id, meta.version, who.actor, resolution, reason)
    try:
        await adjudicate(
            cmd,
            uow=deps.uow(),
            now=deps.clock(),
            program=deps.config.program,
            desk=deps.config.desk,
            host_team_id=who.host_team_id,
        )
    except AdjudicationRaced as race:
        await ack(
            response_action="errors",
            errors={Block.resolve_reason: raced_text(race.registration, race.by)},
        )
        return
    except DomainError as error:
        await ack(response_action="errors", errors={Block.resolve_reason: error.message})
        return
    await ack()
    deps.kick_outbox()
    if meta.home:
        try:
            await publish_home(client, who.actor.user_id, deps)
        except Exception:
            logger.exception("App Home of %s not refreshed after settling", who.actor.user_id)


async def open_case(
    client: AsyncWebClient, trigger_id: str, ref: RegistrationRef, deps: Deps, *, home: bool
) -> None:
    """Approve met a conflict: open the choice of how to settle it, as the case is now (or
    why there is nothing left to choose, when someone decided it meanwhile)."""
    case = await conflict_case(ref.id, uow=deps.uow(), now=deps.clock())
    registration = case.registration
    if registration.version != ref.version or registration.is_decided:
        view = build_closed_modal("Already settled", raced_text(registration, case.moved_by))
    else:
        meta = ResolutionContext(id=ref.id, version=ref.version, home=home)
        view = build_resolution_modal(meta, case=case, now=deps.clock())
    await client.views_open(trigger_id=trigger_id, view=view)


async def open_working_modal(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    deps: Deps,
) -> None:
    """The "I'm working this" button: the vendor's own people only; asks for a note and a
    link."""
    await ack()
    who = caller(body, context)
    async with reporting(reply_for(client, body, respond), "open working modal"):
        if not who.internal:
            raise NotAllowed(INTERNAL_ONLY)
        ref = RegistrationRef.model_validate_json(action["value"])
        await client.views_open(trigger_id=body["trigger_id"], view=build_working_modal(ref))


async def submit_working(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    context: AsyncBoltContext,
    deps: Deps,
) -> None:
    """Record the dispute and tell the desk (never the partner), then close the modal."""
    parsed = parse_working_submission(view["state"]["values"])
    if isinstance(parsed, dict):
        await ack(response_action="errors", errors=parsed)
        return
    note, link = parsed
    ref = RegistrationRef.model_validate_json(view["private_metadata"])
    who = caller(body, context)
    try:
        await dispute(
            ClaimWork(ref.id, who.actor, note, link),
            uow=deps.uow(),
            now=deps.clock(),
            host_team_id=who.host_team_id,
        )
    except DomainError as error:
        field = error.field if isinstance(error, InvalidInput) else None
        block = Block.working_link if field == "link" else Block.working_note
        await ack(response_action="errors", errors={block: error.message})
        return
    await ack()
    deps.kick_outbox()
