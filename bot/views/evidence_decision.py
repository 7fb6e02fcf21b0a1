"""The foot of the evidence thread's head: the rules' recommendation, the working notes and the
resolution buttons while the desk decides; the outcome once it has."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock
from slack_sdk.models.blocks import Block as SlackBlock

from bot.ids import Action
from bot.views.blocks import button, context, section
from bot.views.common import (
    RegistrationRef,
    escape_fit,
    evidence_link,
    mention,
    on_date,
    plural,
    protected_until,
    slack_date,
    slack_user_or_none,
    who,
)
from domain.cases import Case
from domain.conflicts import ClaimKind
from domain.ownership import Recommendation, Resolution, resolutions_offered
from domain.registration import Registration, RegistrationStatus

MAX_WORKING_NOTES = 3

RESOLUTION_ACTIONS = {
    Resolution.award_partner: Action.resolve_award_partner,
    Resolution.award_existing: Action.resolve_award_existing,
    Resolution.co_sell: Action.resolve_co_sell,
    Resolution.duplicate: Action.resolve_duplicate,
    Resolution.reject_both: Action.resolve_reject_both,
    Resolution.request_info: Action.resolve_request_info,
}
"""The button of each resolution."""


def decision_blocks(case: Case, now: datetime) -> list[SlackBlock]:
    """The recommendation and buttons while the desk decides; the outcome once resolved."""
    registration = case.registration
    awaits_desk = registration.status.awaits_desk
    if awaits_desk and not case.findings:
        # The partner's update cleared every overlap: the review card's buttons decide it.
        return [
            section(
                ":white_check_mark: Nothing to settle here any more: "
                "decide on the review card above."
            ),
            *_working_notes(case),
        ]
    blocks: list[SlackBlock] = []
    if awaits_desk:
        blocks.append(section(_recommendation(case)))
    blocks += _working_notes(case)
    if awaits_desk:
        blocks.append(
            context(
                "The rules recommend; the desk decides. Each resolution asks for a reason, "
                "kept as a precedent."
            )
        )
        blocks.append(_buttons(case, now))
    elif registration.status is RegistrationStatus.info_requested:
        blocks.append(
            section(
                f":question: {registration.reference} waits for the partner's answer to an "
                "info request; the resolutions come back when it answers."
            )
        )
    else:
        blocks.append(section(_outcome(registration)))
    return blocks


def _recommendation(case: Case) -> str:
    advice = case.recommendation
    if advice is None:
        return ":scales: No claim holds any more: nothing stands in this registration's way."
    text = f":scales: *Recommended: {advice.resolution.label}.* {advice.reason}."
    if advice.claim is not None:
        text += f" Deciding claim: {_claim_name(advice, case)}."
    return text


def _claim_name(advice: Recommendation, case: Case) -> str:
    claim = advice.claim
    assert claim is not None
    details = next((f.details for f in case.findings if f.claim == claim), None)
    if claim.kind is ClaimKind.registration:
        partner = details.partner_name if details and details.partner_name else "a partner"
        status = f", {claim.status.label.lower()}" if claim.status else ""
        return f"{claim.label} by {escape_fit(partner, 200)}{status}"
    flags = (("named account", claim.is_named), ("customer", claim.is_customer))
    facts = [name for name, on in flags if on]
    if claim.stage:
        facts.append(f"stage {escape_fit(claim.stage, 60)}")
    extra = f" ({', '.join(facts)})" if facts else ""
    return f"direct {escape_fit(claim.label, 120)}{extra}"


def _working_notes(case: Case) -> list[SlackBlock]:
    blocks: list[SlackBlock] = []
    for note in case.working[:MAX_WORKING_NOTES]:
        user = slack_user_or_none(note.by_user_id)
        person = mention(user) if user else "Someone on the direct team"
        blocks.append(
            context(
                f":raising_hand: {person} is working this customer "
                f"({slack_date(note.at)}): {escape_fit(note.note, 500)}{evidence_link(note.link)}"
            )
        )
    hidden = len(case.working) - MAX_WORKING_NOTES
    if hidden > 0:
        blocks.append(context(f"…and {plural(hidden, 'more dispute')} in the audit log."))
    return blocks


def _outcome(registration: Registration) -> str:
    status, reference = registration.status, registration.reference
    by = who(registration.decided_by, checked=True)
    on = on_date(registration.decided_at)
    if status is RegistrationStatus.approved:
        protected = protected_until(registration.protected_until)
        return f":white_check_mark: *Settled:* {reference} approved by {by}{on}{protected}."
    if status is RegistrationStatus.rejected:
        reason = registration.rejection_reason
        why = f": {reason.label}" if reason else ""
        return f":x: *Settled:* {reference} rejected by {by}{on}{why}."
    if status is RegistrationStatus.cancelled:
        return f":x: *Settled:* {reference} cancelled by {by}{on}; its protection ended."
    return f"*Closed:* {reference} is {status.label.lower()}."


def _buttons(case: Case, now: datetime) -> ActionsBlock:
    value = RegistrationRef.of(case.registration, with_reference=True).model_dump_json()
    advised = case.recommendation.resolution if case.recommendation else None
    elements = [
        button(
            resolution.label,
            RESOLUTION_ACTIONS[resolution],
            value,
            "primary" if resolution is advised else None,
        )
        for resolution in resolutions_offered(case.findings, now=now)
    ]
    elements.append(button("I'm working this", Action.conflict_working, value))
    return ActionsBlock(block_id="conflict-resolve", elements=elements)
