"""The desk's decisions: Approve, Reject (with a reason), Request info — from the review card
or App Home. Every click is authorised on the server; partners can click these too."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import Deps
from bot.errors import Reply, reporting
from bot.handlers.conflicts import open_case
from bot.handlers.context import Caller, caller, reply_for
from bot.handlers.home import publish_home
from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef, moved_first_text
from bot.views.review_modals import (
    build_reject_modal,
    build_request_info_modal,
    parse_reject_submission,
    parse_request_info_submission,
)
from domain.errors import DomainError, InvalidInput, NotAllowed
from domain.policy import can_decide
from domain.registration import Registration
from domain.services import (
    AlreadyDecided,
    ConflictToSettle,
    Decide,
    Decision,
    decide_registration,
    registration_to_decide,
)

REFUSAL = "Only the deal desk's approvers can decide registrations."


def register(app: AsyncApp) -> None:
    app.action(Action.review_approve)(approve)
    app.action(Action.review_reject)(open_decision_modal)
    app.action(Action.review_request_info)(open_decision_modal)
    app.view(Callback.reject_submit)(submit_reject)
    app.view(Callback.request_info_submit)(submit_request_info)


def already_decided_text(race: AlreadyDecided) -> str:
    """Tell the loser of a race where the registration stands now, and who moved it there."""
    return moved_first_text(race.registration, race.by) + "."


async def _decide(cmd: Decide, who: Caller, deps: Deps, reply: Reply) -> Registration | None:
    try:
        registration = await decide_registration(
            cmd,
            uow=deps.uow(),
            now=deps.clock(),
            program=deps.config.program,
            desk=deps.config.desk,
            host_team_id=who.host_team_id,
        )
    except AlreadyDecided as race:
        await reply(already_decided_text(race))
        return None
    deps.kick_outbox()
    return registration


async def approve(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    deps: Deps,
) -> None:
    await ack()
    who = caller(body, context)
    reply = reply_for(client, body, respond)
    async with reporting(reply, "approve"):
        ref = RegistrationRef.model_validate_json(action["value"])
        cmd = Decide(ref.id, ref.version, who.actor, Decision.approve)
        try:
            decided = await _decide(cmd, who, deps, reply)
        except ConflictToSettle:
            # Two owners of one customer are never approved unseen: the desk settles it.
            await open_case(client, body["trigger_id"], ref, deps, home=_from_home(body))
            return
        if decided is not None and _from_home(body):
            await publish_home(client, who.actor.user_id, deps)


async def open_decision_modal(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    deps: Deps,
) -> None:
    """Reject or Request info: refuse non-approvers before showing anything; otherwise open
    the modal that asks for the reason or the question."""
    await ack()
    reject = action["action_id"] == Action.review_reject
    who = caller(body, context)
    reply = reply_for(client, body, respond)
    async with reporting(reply, "open decision modal"):
        if not can_decide(who.actor, desk=deps.config.desk, host_team_id=who.host_team_id):
            raise NotAllowed(REFUSAL)
        ref = RegistrationRef.model_validate_json(action["value"])
        try:
            registration = await registration_to_decide(ref.id, ref.version, uow=deps.uow())
        except AlreadyDecided as race:
            await reply(already_decided_text(race))
            return
        build = build_reject_modal if reject else build_request_info_modal
        view = build(ref, reference=registration.reference, company=registration.details.company)
        await client.views_open(trigger_id=body["trigger_id"], view=view)


async def submit_reject(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    context: AsyncBoltContext,
    deps: Deps,
) -> None:
    parsed = parse_reject_submission(view["state"]["values"])
    if isinstance(parsed, dict):
        await ack(response_action="errors", errors=parsed)
        return
    reason, note = parsed
    ref = RegistrationRef.model_validate_json(view["private_metadata"])
    cmd = Decide(ref.id, ref.version, caller(body, context).actor, Decision.reject, reason, note)
    await _submit_decision(ack, body, context, deps, cmd, error_block=Block.reject_reason)


async def submit_request_info(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    context: AsyncBoltContext,
    deps: Deps,
) -> None:
    parsed = parse_request_info_submission(view["state"]["values"])
    if isinstance(parsed, dict):
        await ack(response_action="errors", errors=parsed)
        return
    ref = RegistrationRef.model_validate_json(view["private_metadata"])
    cmd = Decide(
        ref.id, ref.version, caller(body, context).actor, Decision.request_info, None, parsed
    )
    await _submit_decision(ack, body, context, deps, cmd, error_block=Block.info_question)


async def _submit_decision(
    ack: AsyncAck,
    body: dict[str, Any],
    context: AsyncBoltContext,
    deps: Deps,
    cmd: Decide,
    *,
    error_block: Block,
) -> None:
    """Decide before acking so a lost race or a refusal shows next to the field."""
    who = caller(body, context)
    try:
        await decide_registration(
            cmd,
            uow=deps.uow(),
            now=deps.clock(),
            program=deps.config.program,
            desk=deps.config.desk,
            host_team_id=who.host_team_id,
        )
    except AlreadyDecided as race:
        await ack(response_action="errors", errors={error_block: already_decided_text(race)})
        return
    except InvalidInput as error:
        block = Block.reject_note if error.field == "note" else error_block
        await ack(response_action="errors", errors={block: error.message})
        return
    except DomainError as error:
        await ack(response_action="errors", errors={error_block: error.message})
        return
    await ack()
    deps.kick_outbox()


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"
