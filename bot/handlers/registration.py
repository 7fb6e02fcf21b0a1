"""The registration form: opening it from the launcher, the pre-check while it is filled
in, and its submission (a new registration, or the answer to an info request)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.answers import Audience
from bot.errors import correlation_id
from bot.handlers.edge import Click, Errors, Form, FormAnswer, Listeners, Refusals, Replace
from bot.ids import Action, Callback
from bot.views.blocks import build_message_modal
from bot.views.common import FormContext
from bot.views.precheck import PRECHECKED_INPUTS, has_precheck, precheck_ref, with_precheck
from bot.views.registration_form import parse_registration_submission, picked_partner
from bot.views.registration_modal import build_registration_modal, build_submitted_view
from domain.actor import Caller
from domain.errors import DomainError
from domain.matching import CompanyRef
from domain.services import PrecheckResult, Resubmit, Services, SubmitRegistration

logger = logging.getLogger(__name__)


listeners = Listeners()


@listeners.click(Action.launcher_register, audience=Audience.partner)
async def open_registration_form(click: Click) -> None:
    """Open the form at once (the trigger expires in 3 s), then check who is asking."""
    deps = click.deps
    form = build_registration_modal(
        program=deps.config.program, context=FormContext(channel_id=click.caller.channel_id)
    )
    opened = await click.client.views_open(trigger_id=click.trigger_id, view=form)
    try:
        await deps.services.partners.acting(click.caller)
    except DomainError as error:
        await click.update_view(
            opened["view"], build_message_modal("Not linked yet", error.message)
        )


@listeners.form(
    Callback.registration_submit,
    refusals=Refusals(Audience.partner, title="Not registered", message_modal=build_message_modal),
)
async def submit_form(form: Form) -> FormAnswer:
    """Validate, then store in one transaction with the messages it owes (a new registration,
    or the partner's answer to an info request); the receipt replaces the form."""
    deps = form.deps
    parsed = parse_registration_submission(
        form.values, program=deps.config.program, now=deps.clock()
    )
    if isinstance(parsed, dict):
        return Errors(parsed)
    context = FormContext.model_validate_json(form.carried or "{}")
    caller = form.caller.at(context.channel_id)
    services = deps.services.registrations
    if context.registration_id is not None:
        answered = await services.resubmit(
            Resubmit(context.registration_id, context.version or 0, parsed.details), caller
        )
        registration, partner = answered.registration, answered.partner
    else:
        outcome = await services.submit(
            SubmitRegistration(
                parsed.details, partner_id=parsed.partner_id, submission_key=form.view.get("id")
            ),
            caller,
        )
        registration, partner = outcome.registration, outcome.partner
    return Replace(build_submitted_view(registration, partner))


@listeners.click(*PRECHECKED_INPUTS, audience=Audience.partner)
async def precheck_form(click: Click) -> None:
    """Enter in the company or website field: show the pre-check under the website.
    Advisory only (submission runs the real check): a failure is logged, never shown."""
    view = click.body.get("view") or {}
    if view.get("callback_id") != Callback.registration_submit or not view.get("id"):
        return
    ref = precheck_ref((view.get("state") or {}).get("values") or {})
    try:
        result = await _precheck(ref, view, click.caller, click.deps.services) if ref else None
        if result is None and not has_precheck(view):
            return
        await click.client.views_update(
            view_id=view["id"], hash=view.get("hash"), view=with_precheck(view, result)
        )
    except SlackApiError as error:
        # hash_conflict: the form changed after this Enter (a later pre-check, a new view);
        # the newer state wins and this line is dropped. not_found: the form is gone.
        logger.info("pre-check not shown for view %s: %s", view["id"], error.response.get("error"))
    except Exception:
        logger.exception("pre-check failed for view %s (ref %s)", view["id"], correlation_id())


async def _precheck(
    ref: CompanyRef, view: Mapping[str, Any], caller: Caller, services: Services
) -> PrecheckResult | None:
    """The pre-check, for whoever may fill the form: staff (for the partner they picked, or
    whose channel they are in), or someone whose organisation is linked (anyone else learns
    nothing). An info-request answer is not checked against its own registration."""
    form = FormContext.model_validate_json(view.get("private_metadata") or "{}")
    caller = caller.at(form.channel_id)
    partner_id: int | None = None
    if caller.internal:
        partner_id = picked_partner((view.get("state") or {}).get("values") or {})
    if partner_id is None and (form.channel_id is not None or not caller.internal):
        # a partner's form has no picker: a forged pick would be someone else's
        try:
            partner_id = (await services.partners.acting(caller)).id
        except DomainError:
            if not caller.internal:
                return None
    return await services.checks.precheck(
        ref, caller, partner_id=partner_id, exclude_registration_id=form.registration_id
    )
