"""Thread replies under the cards saying what just happened, worded for each side: partners
never learn who decided, nor anything of another claim."""

from __future__ import annotations

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
from domain.messages import Notice, ResolutionDetail, Still, WorkingDetail
from domain.policy import ProgramPolicy
from domain.registration import Registration, RegistrationStatus

_CONFLICT_NOTICES = frozenset(
    {Notice.conflict_won, Notice.conflict_lost, Notice.co_sell, Notice.working}
)
_STILL = {
    Still.own_earlier: "Your earlier registration for this customer stays as it is.",
    Still.own_other: "Your other registration for this customer stands.",
    Still.protection_ended: "Your protection on this customer has ended.",
    Still.nothing: "Nothing is protected for you on this customer; you are welcome to "
    "register other deals.",
}


def build_notice(
    registration: Registration,
    notice: Notice,
    *,
    audience: Literal["partner", "desk"],
    program: ProgramPolicy,
    still: Still | None = None,
    resolution: ResolutionDetail | None = None,
    working: WorkingDetail | None = None,
) -> Message:
    """A thread reply under a card saying what just happened; partners never see who decided.

    Conflict resolutions tell the partner neutral facts only (never the other claim, its
    owner, amount or reference; what it `still` holds); the desk's `resolution` (reason and
    rule) and a direct rep's `working` note stay in the desk thread."""
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
        text = (
            _desk_conflict_notice(registration, notice, resolution, working)
            if desk
            else _partner_conflict_notice(registration, notice, still)
        )
    else:
        text = f"The partner withdrew {ref}." if desk else f"{ref} is withdrawn."
    text = truncate(text, 3000)
    return Message(text=text, blocks=[section(text)])


def _desk_conflict_notice(
    registration: Registration,
    notice: Notice,
    resolution: ResolutionDetail | None,
    working: WorkingDetail | None,
) -> str:
    """Who works the customer and why; or who resolved the conflict, how, why and the rule
    the recommendation pointed to (on the subject's thread or, naming it, a rival's)."""
    ref = f"*{registration.reference}*"
    if notice is Notice.working:
        note = working or WorkingDetail(None, "")
        company = escape_fit(registration.details.company, 400)
        person = mention(note.by_user_id) if note.by_user_id else "Someone on the direct team"
        return (
            f":raising_hand: {person} is working {company} directly and disputes {ref}:\n"
            f"{quote_fit(note.note, 2000)}{evidence_link(note.link)}"
        )
    label = resolution.resolution.label if resolution else "Resolved"
    outcome = _outcome(registration)
    if resolution is not None and resolution.subject_id != registration.id:
        text = (
            f":scales: {who(registration.decided_by)} settled the conflict on "
            f"*{resolution.subject_reference}* (*{label}*): {ref} is {outcome}."
        )
    else:
        text = (
            f":scales: {who(registration.decided_by)} settled the conflict: *{label}*. "
            f"{ref} is {outcome}."
        )
    text += "\n" + quote_fit(resolution.reason if resolution else "", 2000)
    if resolution is not None and resolution.rule is not None:
        text += f"\nThe rules pointed to: {resolution.rule.label}."
    return text


def _partner_conflict_notice(
    registration: Registration, notice: Notice, still: Still | None
) -> str:
    """What the partner may read: its own registration's fate, in neutral words only."""
    ref = f"*{registration.reference}*"
    if notice is Notice.working:  # never queued for a partner; neutral if it ever were
        return f"{ref} is in review."
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
    if still is Still.protection_ended or registration.status is RegistrationStatus.cancelled:
        return (
            f":information_source: The desk has withdrawn its approval of {ref}. "
            f"{_STILL[Still.protection_ended]}"
        )
    reason = registration.rejection_reason
    why = f": {reason.label}" if reason else ""
    said = _STILL[still] if still else ""
    return f":information_source: {ref} was not approved{why}. {said}".rstrip()


def _outcome(registration: Registration) -> str:
    """`approved, protected until …` / `rejected (Duplicate registration)` / `cancelled`."""
    status = registration.status
    if status is RegistrationStatus.approved and registration.protected_until:
        return f"approved, protected until {slack_date(registration.protected_until)}"
    if status is RegistrationStatus.rejected and registration.rejection_reason:
        return f"rejected ({registration.rejection_reason.label})"
    return status.label.lower()
