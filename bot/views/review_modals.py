"""The desk's decision modals: reject with a reason, or ask the partner a question."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import InputBlock, SectionBlock, StaticSelectElement
from slack_sdk.models.views import View

from bot.ids import Block, Callback
from bot.views.blocks import form_modal, section
from bot.views.common import RegistrationRef, escape_fit
from bot.views.forms import keep_under, option, selected, text_input, text_of
from domain.registration import RejectionReason

MAX_NOTE = 3000


def _intro(action: str, reference: str, company: str) -> SectionBlock:
    return section(f"{action} *{reference}* · {escape_fit(company, 2800)}")


def _note_input(block: Block, label: str, *, optional: bool, hint: str | None) -> InputBlock:
    element = text_input(block, MAX_NOTE, multiline=True)
    return InputBlock(block_id=block, label=label, element=element, optional=optional, hint=hint)


def build_reject_modal(ref: RegistrationRef, *, reference: str, company: str) -> View:
    """Reject with a reason from the closed list, and a note the partner will read."""
    options = [option(reason.label, reason.value) for reason in RejectionReason]
    reason = StaticSelectElement(
        action_id=Block.reject_reason, placeholder="Choose a reason", options=options
    )
    return form_modal(
        Callback.reject_submit,
        ref.model_dump_json(),
        title=f"Reject {reference}"[:24],
        submit="Reject",
        blocks=[
            _intro("Rejecting", reference, company),
            InputBlock(block_id=Block.reject_reason, label="Reason", element=reason),
            _note_input(
                Block.reject_note,
                "Note to the partner",
                optional=True,
                hint="Required for Other. The partner sees this note.",
            ),
        ],
    )


def parse_reject_submission(
    values: Mapping[str, Any],
) -> tuple[RejectionReason, str | None] | dict[str, str]:
    """The chosen reason and note, or errors keyed by input block id."""
    chosen = selected(values, Block.reject_reason)
    note = text_of(values, Block.reject_note) or None
    valid = {reason.value for reason in RejectionReason}
    if chosen is None or chosen not in valid:
        return {Block.reject_reason: "Choose a reason."}
    reason = RejectionReason(chosen)
    if reason is RejectionReason.other and note is None:
        return {Block.reject_note: "Say why: a note is required when the reason is Other."}
    if note is not None and len(note) > MAX_NOTE:
        return {Block.reject_note: keep_under("the note", MAX_NOTE)}
    return reason, note


def build_request_info_modal(ref: RegistrationRef, *, reference: str, company: str) -> View:
    """Ask the partner a question; the registration waits for the answer."""
    return form_modal(
        Callback.request_info_submit,
        ref.model_dump_json(),
        title="Request info",
        submit="Send",
        blocks=[
            _intro("Asking the partner about", reference, company),
            _note_input(
                Block.info_question,
                "Question for the partner",
                optional=False,
                hint="The partner sees this on the card and answers by updating the form.",
            ),
        ],
    )


def parse_request_info_submission(values: Mapping[str, Any]) -> str | dict[str, str]:
    """The question, or errors keyed by input block id."""
    question = text_of(values, Block.info_question)
    if not question:
        return {Block.info_question: "Ask the partner a question."}
    if len(question) > MAX_NOTE:
        return {Block.info_question: keep_under("the question", MAX_NOTE)}
    return question
