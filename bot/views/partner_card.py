"""The partner's status card in the shared channel: this registration only, the desk anonymous."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ConfirmObject, SectionBlock
from slack_sdk.models.blocks import Block as SlackBlock

from bot.ids import Action
from bot.views.blocks import button, context, fields, registration_header, section
from bot.views.card_text import card_fallback, rejection_text
from bot.views.common import (
    DUE_FORMAT,
    Message,
    RegistrationRef,
    escape_fit,
    plain_date,
    quote_fit,
    slack_date,
)
from domain.amounts import format_amount
from domain.partner import Partner
from domain.policy import PARTNERS_SEE_OWN_ONLY, PrivacyPolicy, ProgramPolicy
from domain.registration import Registration, RegistrationStatus

OVERLAP_LINE = "In review: this may overlap an existing claim."
"""All a partner may learn about a conflict check that found something, and only when the
policy lets partners see overlaps (never whose claim)."""


def build_partner_card(
    registration: Registration,
    partner: Partner,
    *,
    program: ProgramPolicy,
    overlap: bool = False,
    privacy: PrivacyPolicy = PARTNERS_SEE_OWN_ONLY,
) -> Message:
    """The status card in the shared channel: this registration only, the desk stays anonymous.

    `overlap`: the conflict check found another claim. By default the card reads the same
    either way; when `privacy` lets partners see overlaps, it says so in one neutral line while
    the desk reviews, and never names the other claim, its owner, amount or dates."""
    status = registration.status
    blocks: list[SlackBlock] = [registration_header(registration), _facts(registration)]
    if status.awaits_desk:
        due = slack_date(registration.decision_due_at, DUE_FORMAT)
        if overlap and privacy.partners_see_overlaps:
            blocks.append(section(f":mag: {OVERLAP_LINE}"))
        blocks.append(section(f"The desk will decide by {due}."))
    elif status is RegistrationStatus.info_requested:
        question = quote_fit(registration.info_request or "", 2800)
        blocks.append(section(f"*The desk asks:*\n{question}\nAnswer with *Provide info*."))
    elif status is RegistrationStatus.approved and registration.protected_until:
        until = slack_date(registration.protected_until)
        blocks.append(section(f":white_check_mark: Approved, protected until {until}."))
    elif status is RegistrationStatus.rejected:
        blocks.append(section(rejection_text(registration)))
    value = RegistrationRef.of(registration).model_dump_json()
    buttons: list[ButtonElement] = []
    if status is RegistrationStatus.info_requested:
        buttons.append(button("Provide info", Action.card_provide_info, value, "primary"))
    if status.is_open:
        confirm = ConfirmObject(
            title="Withdraw this registration?",
            text=f"{registration.reference} will be closed and the desk will not review it.",
            confirm="Withdraw",
            deny="Keep it",
            style="danger",
        )
        buttons.append(button("Withdraw", Action.card_withdraw, value, confirm=confirm))
    if buttons:
        blocks.append(ActionsBlock(block_id="card-actions", elements=buttons))
    blocks.append(context(f"Deal registration for {escape_fit(partner.name, 200)} · Dibs"))
    return Message(text=card_fallback(registration, status.label), blocks=blocks)


def _facts(registration: Registration) -> SectionBlock:
    d = registration.details
    return fields(
        [
            ("Amount", format_amount(d.amount, d.currency)),
            ("Expected close", plain_date(d.close_date)),
            ("Status", registration.status.label),
        ]
    )
