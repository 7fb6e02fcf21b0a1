"""Thread replies under the cards saying what just happened, worded for each side: partners
never learn who decided, nor anything of another claim."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from bot.views.blocks import section
from bot.views.card_text import info_asker, rejection_text
from bot.views.common import (
    DUE_FORMAT,
    Message,
    escape_fit,
    evidence_link,
    mention,
    quote_fit,
    slack_date,
    truncate,
    who,
)
from domain.messages import Notice
from domain.ownership import OwnershipRule, Resolution
from domain.policy import ProgramPolicy
from domain.references import legacy_reference
from domain.registration import Registration, RegistrationStatus
from domain.resolution import (
    STILL_NOTHING,
    STILL_OWN_EARLIER,
    STILL_OWN_OTHER,
    STILL_PROTECTION_ENDED,
)

_CONFLICT_NOTICES = frozenset(
    {Notice.conflict_won, Notice.conflict_lost, Notice.co_sell, Notice.working}
)
_STILL = {
    STILL_OWN_EARLIER: "Your earlier registration for this customer stays as it is.",
    STILL_OWN_OTHER: "Your other registration for this customer stands.",
    STILL_PROTECTION_ENDED: "Your protection on this customer has ended.",
    STILL_NOTHING: "Nothing is protected for you on this customer; you are welcome to "
    "register other deals.",
}


def build_notice(
    registration: Registration,
    notice: Notice,
    *,
    audience: Literal["partner", "desk"],
    program: ProgramPolicy,
    data: Mapping[str, str] | None = None,
) -> Message:
    """A thread reply under a card saying what just happened; partners never see who decided.

    Conflict resolutions tell the partner neutral facts only (never the other claim, its
    owner, amount or reference); the desk's reason and rule stay in the desk thread."""
    data = data or {}
    ref = f"*{registration.reference}*"
    company = escape_fit(registration.details.company, 400)
    desk = audience == "desk"
    decider = who(registration.decided_by) if desk else "the desk"
    if notice is Notice.received:
        due = slack_date(registration.decision_due_at, DUE_FORMAT)
        text = (
            f"{ref} ({company}) is in; it is waiting for a decision, due {due}."
            if desk
            else f"We received {ref} for {company}. The desk will review it by {due}."
        )
    elif notice is Notice.approved:
        until = registration.protected_until
        when = f" until {slack_date(until)}" if until else ""
        text = (
            f":white_check_mark: {ref} approved by {decider}; protected{when}."
            if desk
            else f":white_check_mark: {ref} is approved. {company} is protected for you{when}."
        )
    elif notice is Notice.rejected:
        reason = rejection_text(registration).removeprefix("Not approved: ")
        text = (
            f":x: {ref} rejected by {decider}: {reason}"
            if desk
            else f":x: {ref} was not approved: {reason}"
        )
    elif notice is Notice.info_requested:
        question = quote_fit(registration.info_request or "", 2500)
        text = (
            f":question: {who(info_asker(registration))} asked the partner about {ref}:\n{question}"
            if desk
            else f":question: The desk has a question about {ref}:\n{question}\n"
            "Use *Provide info* on the card to answer."
        )
    elif notice is Notice.resubmitted:
        text = (
            f"The partner answered the info request; {ref} is back in review."
            if desk
            else f"Thanks. {ref} is updated and back with the desk."
        )
    elif notice in _CONFLICT_NOTICES:
        text = _conflict_notice(registration, notice, desk=desk, data=data)
    else:
        text = f"The partner withdrew {ref}." if desk else f"{ref} is withdrawn."
    text = truncate(text, 3000)
    return Message(text=text, blocks=[section(text)])


def _conflict_notice(
    registration: Registration, notice: Notice, *, desk: bool, data: Mapping[str, str]
) -> str:
    ref = f"*{registration.reference}*"
    company = escape_fit(registration.details.company, 400)
    if notice is Notice.working:
        if not desk:  # never queued for a partner; neutral if it ever were
            return f"{ref} is in review."
        by = data.get("by", "")
        person = mention(by) if by else "Someone on the direct team"
        return (
            f":raising_hand: {person} is working {company} directly and disputes {ref}:\n"
            f"{quote_fit(data.get('note', ''), 2000)}{evidence_link(data.get('link'))}"
        )
    if not desk:
        return _partner_conflict_notice(registration, notice, data)
    label = resolution_label(data.get("resolution", ""))
    subject = data.get("subject", "")
    outcome = _outcome(registration)
    if subject.isdigit() and int(subject) != registration.id:
        # notices queued before references were stored name the subject by id only; it
        # predates partner codes, so its reference is the legacy one
        subject_ref = data.get("subject_reference") or legacy_reference(int(subject))
        text = (
            f":scales: {who(registration.decided_by)} settled the conflict on "
            f"*{subject_ref}* (*{label}*): {ref} is {outcome}."
        )
    else:
        text = (
            f":scales: {who(registration.decided_by)} settled the conflict: *{label}*. "
            f"{ref} is {outcome}."
        )
    text += "\n" + quote_fit(data.get("reason", ""), 2000)
    rule = _rule_label(data.get("rule", ""))
    if rule:
        text += f"\nThe rules pointed to: {rule}."
    return text


def _partner_conflict_notice(
    registration: Registration, notice: Notice, data: Mapping[str, str]
) -> str:
    """What the partner may read: its own registration's fate, in neutral words only."""
    ref = f"*{registration.reference}*"
    company = escape_fit(registration.details.company, 400)
    until = registration.protected_until
    when = f" until {slack_date(until)}" if until else ""
    if notice is Notice.conflict_won:
        return f":white_check_mark: {ref} is approved. {company} is protected for you{when}."
    if notice is Notice.co_sell:
        return (
            f":handshake: {ref} is approved as a co-sell with our direct team. "
            f"{company} is protected for you{when}."
        )
    still = data.get("still", "")
    if still == STILL_PROTECTION_ENDED or registration.status is RegistrationStatus.cancelled:
        return (
            f":information_source: The desk has withdrawn its approval of {ref}. "
            f"{_STILL[STILL_PROTECTION_ENDED]}"
        )
    reason = registration.rejection_reason
    why = f": {reason.label}" if reason else ""
    return f":information_source: {ref} was not approved{why}. {_STILL.get(still, '')}".rstrip()


def _outcome(registration: Registration) -> str:
    """`approved, protected until …` / `rejected (Duplicate registration)` / `cancelled`."""
    status = registration.status
    if status is RegistrationStatus.approved and registration.protected_until:
        return f"approved, protected until {slack_date(registration.protected_until)}"
    if status is RegistrationStatus.rejected and registration.rejection_reason:
        return f"rejected ({registration.rejection_reason.label})"
    return status.label.lower()


def _rule_label(value: str) -> str:
    try:
        return OwnershipRule(value).label
    except ValueError:
        return ""


def resolution_label(value: str) -> str:
    """The label of a stored resolution value (`Resolved` for one this version does not know)."""
    try:
        return Resolution(value).label
    except ValueError:
        return "Resolved"
