"""The registration form: opening it from the launcher and handling its submission."""

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
from bot.errors import correlation_id, reporting
from bot.handlers.context import Caller, caller, channel_of, reply_for
from bot.ids import Action, Callback
from bot.views.common import FormContext
from bot.views.registration_modal import (
    PRECHECKED_INPUTS,
    build_message_modal,
    build_registration_modal,
    build_submitted_view,
    has_precheck,
    parse_registration_submission,
    picked_partner,
    precheck_ref,
    with_precheck,
)
from bot.views.render import render
from domain.checks import PrecheckResult, precheck
from domain.errors import DomainError
from domain.matching import CompanyRef
from domain.services import (
    Resubmit,
    SubmitRegistration,
    acting_partner,
    resubmit_registration,
    submit_registration,
)

logger = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.action(Action.launcher_register)(open_form_from_launcher)
    app.view(Callback.registration_submit)(submit_form)
    for block in PRECHECKED_INPUTS:
        app.action(block)(precheck_form)


async def open_form_from_launcher(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    deps: Deps,
) -> None:
    """Open the form at once (the trigger expires in 3 s), then check who is asking."""
    await ack()
    who = caller(body, context)
    channel_id = channel_of(body)
    form = build_registration_modal(
        program=deps.config.program,
        context=FormContext(channel_id=channel_id),
    )
    async with reporting(reply_for(client, body, respond), "open registration form"):
        opened = await client.views_open(trigger_id=body["trigger_id"], view=form)
        try:
            await acting_partner(
                who.actor, channel_id=channel_id, host_team_id=who.host_team_id, uow=deps.uow()
            )
        except DomainError as error:
            await client.views_update(
                view_id=opened["view"]["id"],
                view=build_message_modal("Not linked yet", error.message),
            )


async def submit_form(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    context: AsyncBoltContext,
    deps: Deps,
) -> None:
    """Validate, store in one transaction with the messages it owes, then ack."""
    program, now = deps.config.program, deps.clock()
    parsed = parse_registration_submission(view["state"]["values"], program=program, now=now)
    if isinstance(parsed, dict):
        await ack(response_action="errors", errors=parsed)
        return
    form_context = FormContext.model_validate_json(view.get("private_metadata") or "{}")
    who = caller(body, context)
    try:
        if form_context.registration_id is not None:
            resubmitted = await resubmit_registration(
                Resubmit(
                    registration_id=form_context.registration_id,
                    version=form_context.version or 0,
                    details=parsed.details,
                    by=who.actor,
                ),
                uow=deps.uow(),
                now=now,
                host_team_id=who.host_team_id,
                desk=deps.config.desk,
                rules=deps.conflict_rules,
            )
            registration, partner = resubmitted.registration, resubmitted.partner
        else:
            outcome = await submit_registration(
                SubmitRegistration(
                    details=parsed.details,
                    by=who.actor,
                    channel_id=form_context.channel_id,
                    partner_id=parsed.partner_id,
                    submission_key=view.get("id"),
                ),
                uow=deps.uow(),
                now=now,
                program=program,
                host_team_id=who.host_team_id,
                rules=deps.conflict_rules,
            )
            registration, partner = outcome.registration, outcome.partner
    except DomainError as error:
        logger.info("registration refused (%s): %s", error.code, error.message)
        await ack(
            response_action="update", view=build_message_modal("Not registered", error.message)
        )
        return
    # rendered here, not by Bolt's `to_dict`, which re-validates every object (see render.py)
    await ack(response_action="update", view=render(build_submitted_view(registration, partner)))
    deps.kick_outbox()


async def precheck_form(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    deps: Deps,
) -> None:
    """Enter in the company or website field: ack at once, then show the neutral pre-check
    under the website. Advisory only: submission runs the real check, so a failure here is
    logged and the form is left alone (the user is never interrupted)."""
    await ack()
    view: dict[str, Any] = body.get("view") or {}
    if view.get("callback_id") != Callback.registration_submit or not view.get("id"):
        return
    ref = precheck_ref((view.get("state") or {}).get("values") or {})
    try:
        result = await _precheck(ref, view, caller(body, context), deps) if ref else None
        if result is None and not has_precheck(view):
            return
        await client.views_update(
            view_id=view["id"], hash=view.get("hash"), view=with_precheck(view, result)
        )
    except SlackApiError as error:
        # hash_conflict: the form changed after this Enter (a later pre-check, a new view);
        # the newer state wins and this line is dropped. not_found: the form is gone.
        logger.info("pre-check not shown for view %s: %s", view["id"], error.response.get("error"))
    except Exception:
        logger.exception("pre-check failed for view %s (ref %s)", view["id"], correlation_id())


async def _precheck(
    ref: CompanyRef, view: dict[str, Any], who: Caller, deps: Deps
) -> PrecheckResult | None:
    """The pre-check, for whoever may fill the form: internal staff (for the partner they
    picked, or whose channel they are in), or someone whose organisation is linked (anyone
    else learns nothing). An info-request answer is not checked against its own
    registration, so it is never listed as the partner's earlier one."""
    form = FormContext.model_validate_json(view.get("private_metadata") or "{}")
    if who.internal:
        partner_id = picked_partner((view.get("state") or {}).get("values") or {})
        if partner_id is None and form.channel_id is not None:
            partner_id = await _channel_partner(who, form.channel_id, deps)
    else:  # never a pick: a partner's form has no picker, a forged one would be someone else's
        try:
            partner = await acting_partner(
                who.actor, channel_id=form.channel_id, host_team_id=who.host_team_id, uow=deps.uow()
            )
        except DomainError:
            return None
        partner_id = partner.id
    return await precheck(
        ref,
        uow=deps.uow(),
        rules=deps.conflict_rules,
        now=deps.clock(),
        partner_id=partner_id,
        staff=who.internal,
        privacy=deps.config.privacy,
        exclude_registration_id=form.registration_id,
    )


async def _channel_partner(who: Caller, channel_id: str, deps: Deps) -> int | None:
    """The partner whose channel staff opened the form in (None: the channel is not linked)."""
    try:
        partner = await acting_partner(
            who.actor, channel_id=channel_id, host_team_id=who.host_team_id, uow=deps.uow()
        )
    except DomainError:
        return None
    return partner.id
