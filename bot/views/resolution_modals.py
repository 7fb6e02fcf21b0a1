"""The conflict desk's modals: resolve a conflict with a reason, or leave a working note.

Pure: the resolution modal opens from the button alone (the trigger id expires in 3 s) and
is filled in with the company and the recommendation once the case is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from slack_sdk.models.blocks import (
    Block as SlackBlock,
)
from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    RadioButtonsElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from bot.ids import Block, Callback
from bot.views.blocks import build_message_modal, context, form_modal, section
from bot.views.common import RegistrationRef, escape_fit
from bot.views.forms import keep_under, selected, text_input, text_of
from bot.views.review_card import claim_title
from domain.cases import Case
from domain.ownership import Recommendation, Resolution, live_conflicts, resolutions_offered
from domain.resolution import REASON_LIMIT

NOTE_LIMIT = 2000
LINK_LIMIT = 1000


class ResolutionContext(BaseModel):
    """The resolution modal's private_metadata: which registration, seen at which version,
    the resolution the desk clicked (None: the modal asks which, as when Approve met a
    conflict), and whether it was opened from App Home (refreshed after resolving)."""

    model_config = ConfigDict(frozen=True)

    id: int
    version: int
    resolution: Resolution | None = None
    home: bool = False
    reference: str | None = None


_PROMPTS = {
    Resolution.award_partner: "This registration wins; every rival registration is rejected "
    "(or loses its protection).",
    Resolution.award_existing: "The existing claim wins (a rival registration still in review "
    "is approved); this registration and any other rival are rejected.",
    Resolution.co_sell: "This registration is approved as a co-sell with the direct team.",
    Resolution.duplicate: "This registration is rejected as a duplicate; the other claims "
    "stay as they are.",
    Resolution.reject_both: "This registration and every rival registration are rejected.",
    Resolution.request_info: "The partner is asked your question; the registration waits "
    "for the answer.",
}


_CHOICES = {
    Resolution.award_partner: "This partner owns the customer; rivals are rejected.",
    Resolution.award_existing: "The existing claim keeps the customer; this one is rejected.",
    Resolution.co_sell: "Approved beside the direct team; rival partners are rejected.",
    Resolution.duplicate: "Rejected as a duplicate; the other claims stay as they are.",
    Resolution.reject_both: "This and every rival registration are rejected.",
    Resolution.request_info: "Ask the partner a question; the case waits for its answer.",
}
"""One line per resolution in the choice (Slack allows 75 characters)."""


def build_resolution_modal(
    meta: ResolutionContext, *, case: Case | None = None, now: datetime | None = None
) -> View:
    """Ask why (or, for Request info, what to ask the partner) before applying `meta.resolution`.

    Without `case` it shows what the button alone says (the reference it carries, else
    "this registration"); with it, the reference, the company and the rules' recommendation.
    Without a resolution (Approve met a conflict) it asks which one, among those the case
    offers, the recommended one first and chosen.
    """
    if meta.resolution is None:
        if case is None or now is None:
            raise ValueError("choosing a resolution needs the case as it is now")
        return _choice_modal(meta, case, now)
    resolution = meta.resolution
    subject = f"*{meta.reference}*" if meta.reference else "this registration"
    company = ""
    if case is not None:
        subject = f"*{case.registration.reference}*"
        company = f" · {escape_fit(case.registration.details.company, 500)}"
    blocks: list[SlackBlock] = [
        section(f"*{resolution.label}* for {subject}{company}\n{_PROMPTS[resolution]}")
    ]
    if case is not None:
        blocks.append(context(_advice(case.recommendation, resolution)))
    asking = resolution is Resolution.request_info
    reason = text_input(Block.resolve_reason, REASON_LIMIT, multiline=True)
    blocks.append(
        InputBlock(
            block_id=Block.resolve_reason,
            label="Question for the partner" if asking else "Reason",
            element=reason,
            hint=(
                "The partner sees this question on its card and answers by updating the form."
                if asking
                else "Kept in the audit log as a precedent. Partners never see it."
            ),
        )
    )
    return form_modal(
        Callback.resolve_submit,
        meta.model_dump_json(),
        title="Request info" if asking else "Settle the conflict",
        submit="Send" if asking else "Settle",
        blocks=blocks,
    )


def _choice_modal(meta: ResolutionContext, case: Case, now: datetime) -> View:
    """Approve met a conflict: who owns the customer is the desk's to resolve first, with the
    same resolutions and reason as the conflict thread."""
    registration = case.registration
    offered = list(resolutions_offered(case.findings, now=now))
    advised = case.recommendation.resolution if case.recommendation else None
    if advised in offered:
        offered.remove(advised)
        offered.insert(0, advised)
    options = [
        Option(
            value=r.value,
            text=f"{r.label} (recommended)" if r is advised else r.label,
            description=_CHOICES[r],
        )
        for r in offered
    ]
    conflicts = live_conflicts(registration.id, case.findings, now=now)
    names = "; ".join(claim_title(f.details) for f in conflicts[:3])
    more = f" and {len(conflicts) - 3} more" if len(conflicts) > 3 else ""
    blocks: list[SlackBlock] = [
        section(
            f"*{escape_fit(registration.reference, 40)}* · "
            f"{escape_fit(registration.details.company, 500)} overlaps a claim that still "
            f"holds: {escape_fit(names, 1500)}{more}.\nApproving it would make two owners of "
            "one customer, so settle who owns it. The evidence is in the thread under its "
            "review card."
        ),
        context(_advice(case.recommendation, None)),
        InputBlock(
            block_id=Block.resolve_choice,
            label="Resolution",
            element=RadioButtonsElement(
                action_id=Block.resolve_choice,
                options=options,
                initial_option=options[0] if advised in offered else None,
            ),
        ),
        InputBlock(
            block_id=Block.resolve_reason,
            label="Reason, or your question to the partner",
            element=text_input(Block.resolve_reason, REASON_LIMIT, multiline=True),
            hint="A reason is kept in the audit log as a precedent; partners never see it. "
            "For Request info, the partner sees your question.",
        ),
    ]
    return form_modal(
        Callback.resolve_submit,
        meta.model_dump_json(),
        title="Settle the conflict",
        submit="Settle",
        blocks=blocks,
    )


def _advice(advice: Recommendation | None, chosen: Resolution | None) -> str:
    if advice is None:
        return "No active claim is left to weigh: the rules recommend nothing."
    text = f":scales: Recommended: *{advice.resolution.label}*. {advice.reason}."
    if chosen is not None and advice.resolution is not chosen:
        text += " You are choosing otherwise: say why."
    return text


def parse_resolution_submission(
    values: Mapping[str, Any], resolution: Resolution | None
) -> tuple[Resolution, str] | dict[str, str]:
    """The resolution (the one clicked, else the one chosen) and the reason (or question),
    or errors keyed by input block id."""
    if resolution is None:
        try:
            resolution = Resolution(selected(values, Block.resolve_choice) or "")
        except ValueError:
            return {Block.resolve_choice: "Choose how to settle the conflict."}
    reason = text_of(values, Block.resolve_reason)
    if not reason:
        if resolution is Resolution.request_info:
            return {Block.resolve_reason: "Ask the partner a question."}
        return {Block.resolve_reason: "Say why: the reason is kept as a precedent."}
    if len(reason) > REASON_LIMIT:
        return {Block.resolve_reason: keep_under("it", REASON_LIMIT)}
    return resolution, reason


def build_working_modal(ref: RegistrationRef) -> View:
    """A direct rep says they are working this customer, with a note and optional evidence."""
    subject = f"*{ref.reference}*" if ref.reference else "this registration"
    return form_modal(
        Callback.working_submit,
        ref.model_dump_json(),
        title="I'm working this",
        submit="Tell the desk",
        blocks=[
            section(
                f"Tell the deal desk you are working the customer of {subject}. "
                "The desk sees this in the review thread; the partner never does."
            ),
            InputBlock(
                block_id=Block.working_note,
                label="What are you working on with this customer?",
                element=text_input(Block.working_note, NOTE_LIMIT, multiline=True),
            ),
            InputBlock(
                block_id=Block.working_link,
                label="Link to the evidence",
                element=UrlInputElement(action_id=Block.working_link),
                optional=True,
                hint="A CRM record or a message link, starting with https://.",
            ),
        ],
    )


def parse_working_submission(
    values: Mapping[str, Any],
) -> tuple[str, str | None] | dict[str, str]:
    """The note and the optional link, or errors keyed by input block id."""
    note = text_of(values, Block.working_note)
    link = text_of(values, Block.working_link) or None
    errors: dict[str, str] = {}
    if not note:
        errors[Block.working_note] = "Say what you are working on with this customer."
    elif len(note) > NOTE_LIMIT:
        errors[Block.working_note] = keep_under("the note", NOTE_LIMIT)
    if link is not None and (
        len(link) > LINK_LIMIT or not link.startswith(("https://", "http://"))
    ):
        errors[Block.working_link] = "Paste a link that starts with https://."
    return errors or (note, link)


def build_closed_modal(title: str, text: str) -> View:
    """A modal with nothing left to do: why the action cannot go ahead."""
    return build_message_modal(title, text, callback_id=None)
