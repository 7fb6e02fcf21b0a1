"""The conflict desk: resolve a case from the evidence thread (or from the choice Approve
opens), or say "I'm working this" (a working note).

The buttons live in the internal desk channel, but every click is authorised on the server
all the same: resolutions are for approvers, working notes for the vendor's own team.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.answers import Audience, raced_text
from bot.handlers.edge import (
    Click,
    Errors,
    Form,
    FormAnswer,
    Refusals,
    on_click,
    on_form,
    update_view,
)
from bot.handlers.home import publish_home
from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef
from bot.views.evidence_decision import RESOLUTION_ACTIONS
from bot.views.resolution_modals import (
    ResolutionContext,
    build_closed_modal,
    build_resolution_modal,
    build_working_modal,
    parse_resolution_submission,
    parse_working_submission,
)
from domain.errors import NotAllowed
from domain.policy import can_decide
from domain.services import AddWorkingNote, Resolve
from domain.services.conflicts import APPROVERS_ONLY, STAFF_ONLY

RESOLUTIONS = {action: resolution for resolution, action in RESOLUTION_ACTIONS.items()}
"""The resolution each button of the evidence message stands for."""


def register(app: AsyncApp) -> None:
    on_click(app, RESOLUTIONS, open_resolution_modal, audience=Audience.conflict_desk)
    on_click(app, [Action.conflict_working], open_working_modal, audience=Audience.desk)
    on_form(
        app,
        Callback.resolve_submit,
        submit_resolution,
        refusals=Refusals(Audience.conflict_desk, block=Block.resolve_reason),
        after=refresh_home,
    )
    on_form(
        app,
        Callback.working_submit,
        submit_working,
        refusals=Refusals(
            Audience.desk, block=Block.working_note, fields={"link": Block.working_link}
        ),
    )


async def open_resolution_modal(click: Click) -> None:
    """Refuse non-approvers privately; otherwise open the reason modal at once (the trigger
    id expires in 3 s), then fill in the company and the recommendation."""
    deps, ref = click.deps, click.ref
    if not can_decide(click.caller, deps.config.desk):
        raise NotAllowed(APPROVERS_ONLY)
    meta = ResolutionContext(
        id=ref.id,
        version=ref.version,
        resolution=RESOLUTIONS[Action(str(click.action["action_id"]))],
        reference=ref.reference,
    )
    opened = await click.client.views_open(
        trigger_id=click.trigger_id, view=build_resolution_modal(meta)
    )
    case = await deps.services.conflicts.case(ref.id)
    registration = case.registration
    if registration.version != ref.version or registration.is_decided:
        view = build_closed_modal("Already settled", raced_text(registration, case.moved_by))
    else:
        view = build_resolution_modal(meta, case=case)
    await update_view(click.client, opened["view"], view)


async def open_case(click: Click, *, home: bool) -> None:
    """Approve met a conflict: open the choice of how to resolve the case as it is now (or
    why there is nothing left to choose, when someone decided it meanwhile)."""
    deps, ref = click.deps, click.ref
    case = await deps.services.conflicts.case(ref.id)
    registration = case.registration
    if registration.version != ref.version or registration.is_decided:
        view = build_closed_modal("Already settled", raced_text(registration, case.moved_by))
    else:
        meta = ResolutionContext(id=ref.id, version=ref.version, home=home)
        view = build_resolution_modal(meta, case=case, now=deps.clock())
    await click.client.views_open(trigger_id=click.trigger_id, view=view)


async def submit_resolution(form: Form) -> FormAnswer:
    """Validate the reason, resolve before acking (so a lost race or a refusal shows next to
    the reason), then close the modal; the outbox tells every party."""
    meta = ResolutionContext.model_validate_json(form.metadata)
    parsed = parse_resolution_submission(form.values, meta.resolution)
    if isinstance(parsed, dict):
        return Errors(parsed)
    resolution, reason = parsed
    cmd = Resolve(meta.id, meta.version, resolution, reason)
    await form.deps.services.conflicts.resolve(cmd, form.caller)
    return None


async def refresh_home(form: Form) -> None:
    """A case resolved from App Home: the approver's Home tab shows the queue as it is now."""
    if ResolutionContext.model_validate_json(form.metadata).home:
        await publish_home(form.client, form.caller.actor.user_id, form.deps)


async def open_working_modal(click: Click) -> None:
    """The "I'm working this" button: the vendor's own people only; asks for a note and a
    link."""
    if not click.caller.internal:
        raise NotAllowed(STAFF_ONLY)
    await click.client.views_open(trigger_id=click.trigger_id, view=build_working_modal(click.ref))


async def submit_working(form: Form) -> FormAnswer:
    """Record the working note and tell the desk (never the partner), then close the modal."""
    parsed = parse_working_submission(form.values)
    if isinstance(parsed, dict):
        return Errors(parsed)
    note, link = parsed
    ref = RegistrationRef.model_validate_json(form.metadata)
    await form.deps.services.conflicts.note_working(AddWorkingNote(ref.id, note, link), form.caller)
    return None
