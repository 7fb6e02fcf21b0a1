"""The desk's decisions: Approve, Reject (with a reason), Request info, from the review card
or App Home. Every click is authorised on the server; partners can click these too."""

from __future__ import annotations

from bot.answers import Audience
from bot.handlers.conflicts import open_case
from bot.handlers.edge import Click, Form, FormAnswer, Listeners, Refusals
from bot.handlers.home import publish_home
from bot.ids import Action, Block, Callback
from bot.views.review_modals import (
    build_reject_modal,
    build_request_info_modal,
    parse_reject_submission,
    parse_request_info_submission,
)
from domain.errors import ConflictToResolve, NotAllowed
from domain.policy import can_decide
from domain.registration import RejectionReason
from domain.services import Decide, Decision

listeners = Listeners()


@listeners.click(Action.review_approve, audience=Audience.desk)
async def approve(click: Click) -> None:
    """Approve; a registration in a conflict opens the choice of how to resolve its case."""
    ref, deps = click.ref, click.deps
    try:
        await deps.services.decisions.decide(
            Decide(ref.id, ref.version, Decision.approve), click.caller
        )
    except ConflictToResolve:
        # Two owners of one customer are never approved unseen: the desk resolves the case.
        await open_case(click, home=click.from_home)
        return
    if click.from_home:
        await publish_home(click.client, click.caller.actor.user_id, deps)


@listeners.click(Action.review_reject, Action.review_request_info, audience=Audience.desk)
async def open_decision_modal(click: Click) -> None:
    """Reject or Request info: refuse non-approvers before showing anything; otherwise open
    the modal that asks for the reason or the question."""
    deps, ref = click.deps, click.ref
    if not can_decide(click.caller, deps.config.desk):
        raise NotAllowed(NotAllowed.APPROVERS_DECIDE)
    registration = await deps.services.decisions.to_decide(ref.id, ref.version)
    reject = click.action.get("action_id") == Action.review_reject
    build = build_reject_modal if reject else build_request_info_modal
    view = build(ref, reference=registration.reference, company=registration.details.company)
    await click.client.views_open(trigger_id=click.trigger_id, view=view)


REJECT_REFUSALS = Refusals(Audience.desk, Block.reject_reason, {"note": Block.reject_note})
"""A rejection refused shows next to the reason (or the note, when that is what is wrong)."""


@listeners.parsed_form(Callback.reject_submit, parse_reject_submission, REJECT_REFUSALS)
async def submit_reject(form: Form, parsed: tuple[RejectionReason, str | None]) -> FormAnswer:
    reason, note = parsed
    cmd = Decide(form.ref.id, form.ref.version, Decision.reject, reason, note)
    await form.deps.services.decisions.decide(cmd, form.caller)
    return None


@listeners.parsed_form(
    Callback.request_info_submit,
    parse_request_info_submission,
    Refusals(Audience.desk, Block.info_question),
)
async def submit_request_info(form: Form, question: str) -> FormAnswer:
    cmd = Decide(form.ref.id, form.ref.version, Decision.request_info, None, question)
    await form.deps.services.decisions.decide(cmd, form.caller)
    return None
