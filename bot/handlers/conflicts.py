"""The conflict desk: resolve a case from the evidence thread (or from the choice Approve
opens), or say "I'm working this" (a working note).

The buttons live in the internal desk channel, but every click is authorised on the server
all the same: resolutions are for approvers, working notes for the vendor's own team.
"""

from __future__ import annotations

from bot.answers import Audience, raced_text
from bot.handlers.edge import Click, Errors, Form, FormAnswer, Listeners, Refusals
from bot.handlers.home import publish_home
from bot.ids import Action, Block, Callback
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

RESOLUTIONS = {action: resolution for resolution, action in RESOLUTION_ACTIONS.items()}
"""The resolution each button of the evidence message stands for."""


listeners = Listeners()


@listeners.click(*RESOLUTIONS, audience=Audience.conflict_desk)
async def open_resolution_modal(click: Click) -> None:
    """Refuse non-approvers privately; otherwise open the reason modal at once (the trigger
    id expires in 3 s), then fill in the company and the recommendation."""
    deps, ref = click.deps, click.ref
    if not can_decide(click.caller, deps.config.desk):
        raise NotAllowed(NotAllowed.APPROVERS_SETTLE)
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
    await click.update_view(opened["view"], view)


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


async def refresh_home(form: Form) -> None:
    """A case resolved from App Home: the approver's Home tab shows the queue as it is now."""
    if ResolutionContext.model_validate_json(form.carried).home:
        await publish_home(form.client, form.caller.actor.user_id, form.deps)


@listeners.form(
    Callback.resolve_submit,
    refusals=Refusals(Audience.conflict_desk, block=Block.resolve_reason),
    after=refresh_home,
)
async def submit_resolution(form: Form) -> FormAnswer:
    """Validate the reason, resolve before acking (so a lost race or a refusal shows next to
    the reason), then close the modal; the outbox tells every party."""
    meta = ResolutionContext.model_validate_json(form.carried)
    parsed = parse_resolution_submission(form.values, meta.resolution)
    if isinstance(parsed, dict):
        return Errors(parsed)
    resolution, reason = parsed
    cmd = Resolve(meta.id, meta.version, resolution, reason)
    await form.deps.services.conflicts.resolve(cmd, form.caller)
    return None


@listeners.click(Action.conflict_working, audience=Audience.desk)
async def open_working_modal(click: Click) -> None:
    """The "I'm working this" button: the vendor's own people only; asks for a note and a
    link."""
    if not click.caller.internal:
        raise NotAllowed(NotAllowed.STAFF_CLAIM)
    await click.client.views_open(trigger_id=click.trigger_id, view=build_working_modal(click.ref))


WORKING_REFUSALS = Refusals(Audience.desk, Block.working_note, {"link": Block.working_link})
"""A working note refused shows next to the note (or the link, when that is what is wrong)."""


@listeners.parsed_form(Callback.working_submit, parse_working_submission, WORKING_REFUSALS)
async def submit_working(form: Form, parsed: tuple[str, str | None]) -> FormAnswer:
    """Record the working note and tell the desk (never the partner), then close the modal."""
    note, link = parsed
    working = AddWorkingNote(form.ref.id, note, link)
    await form.deps.services.conflicts.note_working(working, form.caller)
    return None
