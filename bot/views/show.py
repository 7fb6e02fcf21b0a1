"""`/dibs show REF` and `dibs show REF`: one registration, found by its reference.

Internal only (partners cannot run slash commands): the reply names the partner.
"""

from __future__ import annotations

from datetime import datetime

from bot.views.blocks import fields, registration_header, section
from bot.views.common import (
    DUE_FORMAT,
    Message,
    escape_fit,
    on_date,
    plain_date,
    protected_until,
    quote_fit,
    slack_date,
    who,
)
from domain.amounts import format_amount
from domain.cases import RegistrationWithPartner
from domain.registration import Registration, RegistrationStatus

USAGE = "Usage: `/dibs show REFERENCE`, e.g. `/dibs show NW-0007` (or an older `DR-0012`)"


def build_show(found: RegistrationWithPartner, *, now: datetime) -> Message:
    """The private reply to `/dibs show`: reference, company, partner, status, amount, and
    where the registration stands."""
    registration, partner = found.registration, found.partner
    d = registration.details
    facts = [
        ("Partner", f"{escape_fit(partner.name, 900)} ({escape_fit(partner.tier, 500)})"),
        ("Status", registration.status.label),
        ("Amount", format_amount(d.amount, d.currency)),
        ("Expected close", plain_date(d.close_date)),
    ]
    where = standing(registration, now=now)
    return Message(
        text=f"{registration.reference} · {escape_fit(d.company, 200)} · {where}",
        blocks=[registration_header(registration), fields(facts), section(where)],
    )


def show_lines(found: RegistrationWithPartner, *, now: datetime | None = None) -> list[str]:
    """The same, as plain lines for the command line."""
    registration, partner = found.registration, found.partner
    d = registration.details
    return [
        f"{registration.reference} · {d.company}",
        f"partner: {partner.name} ({partner.tier}), code {partner.code}",
        f"status: {registration.status.label}",
        f"amount: {format_amount(d.amount, d.currency)}",
        f"expected close: {d.close_date.isoformat()}",
        standing(registration, now=now, slack=False),
    ]


def standing(registration: Registration, *, now: datetime | None, slack: bool = True) -> str:
    """Where it stands: who decided what and when, what it waits for, until when it holds."""

    def when(moment: datetime, fmt: str = "{date_short}") -> str:
        return slack_date(moment, fmt) if slack else f"{moment:%Y-%m-%d %H:%M} UTC"

    status = registration.status
    decider = who(registration.decided_by, slack=slack)
    on = on_date(registration.decided_at, when)
    if status.awaits_desk:
        overdue = " (overdue)" if now is not None and now > registration.decision_due_at else ""
        due = when(registration.decision_due_at, DUE_FORMAT)
        return f"Waiting for the desk, due {due}{overdue}."
    if status is RegistrationStatus.info_requested:
        question = registration.info_request or ""
        asked = quote_fit(question, 2000) if slack else question
        return f"Waiting for the partner's answer to the desk's question:\n{asked}"
    if status is RegistrationStatus.approved:
        protected = protected_until(registration.protected_until, when)
        return f"Approved by {decider}{on}{protected}."
    if status is RegistrationStatus.rejected:
        reason = registration.rejection_reason
        text = f"Rejected by {decider}{on}: "
        text += f"{reason.label if reason else 'no reason given'}."
        if registration.decision_note:
            note = registration.decision_note
            text += "\n" + (quote_fit(note, 2000) if slack else note)
        return text
    if status is RegistrationStatus.withdrawn:
        return f"Withdrawn by the partner on {when(registration.updated_at)}."
    if status is RegistrationStatus.cancelled:
        return f"Cancelled by {decider}{on}: its protection ended."
    return f"{status.label} on {when(registration.updated_at)}."
