"""App Home for the desk: what is waiting for a decision, oldest first, with the buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    Block as SlackBlock,
)
from slack_sdk.models.blocks import DividerBlock
from slack_sdk.models.views import View

from bot.views.blocks import context, header, section
from bot.views.common import escape_fit, format_age, plural
from bot.views.review_card import DeskCase, decision_buttons
from domain.amounts import format_amount
from domain.cases import RegistrationWithPartner
from domain.policy import ProgramPolicy
from domain.registration import RegistrationStatus

MAX_ROWS = 45


def pending_line(item: RegistrationWithPartner, *, now: datetime) -> str:
    """One waiting registration in mrkdwn: reference, company, partner, amount, age, and
    whether its check found a claim that still holds (a conflict to resolve, a likeness)."""
    registration, d = item.registration, item.registration.details
    overdue = " · *overdue*" if now > registration.decision_due_at else ""
    if registration.status is RegistrationStatus.info_requested:
        overdue = " · waiting for the partner"
    counts = DeskCase.of(registration, item.findings, now=now).counts
    flag = ""
    if counts.conflicts:
        flag = f":warning: *{plural(counts.conflicts, 'conflict')} to settle* · "
    elif counts.possible:
        matches = plural(counts.possible, "possible match", "possible matches")
        flag = f":grey_question: {matches} · "
    return (
        f"{flag}*{registration.reference}* · {escape_fit(d.company, 250)} · "
        f"{escape_fit(item.partner.name, 150)} · {format_amount(d.amount, d.currency)} · "
        f"{format_age(now - registration.created_at)}{overdue}"
    )


def oldest_first(pending: Sequence[RegistrationWithPartner]) -> list[RegistrationWithPartner]:
    """The waiting registrations, the one waiting longest first."""
    return sorted(pending, key=lambda item: item.registration.created_at)


def build_home(
    pending: Sequence[RegistrationWithPartner],
    *,
    program: ProgramPolicy,
    now: datetime,
    can_decide: bool,
) -> View:
    """The Home tab: registrations waiting for the desk, with decision buttons for approvers."""
    blocks: list[SlackBlock] = [header(f"Waiting for a decision ({len(pending)})")]
    if not pending:
        blocks.append(section("Nothing is waiting. Nice and quiet."))
    rows = oldest_first(pending)
    for item in rows[:MAX_ROWS]:
        registration = item.registration
        blocks.append(section(pending_line(item, now=now)))
        if can_decide and registration.status.awaits_desk:
            case = DeskCase.of(registration, item.findings, now=now)
            approve = "Settle conflict…" if case.conflicted else "Approve"
            block_id = f"home-actions-{registration.id}"
            blocks.append(
                decision_buttons(registration, block_id=block_id, case=case, approve=approve)
            )
    if len(rows) > MAX_ROWS:
        more = len(rows) - MAX_ROWS
        blocks.append(context(f"…and {more} more, newer than these."))
    if not can_decide:
        blocks.append(DividerBlock())
        blocks.append(context("Only the desk's approvers can decide."))
    return View(type="home", blocks=blocks)
