"""The conflict evidence under a review card: the rival claims, the recommendation, buttons.

Desk channel only (internal). Pure: everything it shows is passed in.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.blocks import (
    Block as SlackBlock,
)

from bot.ids import Action
from bot.views.common import (
    Message,
    RegistrationRef,
    escape_fit,
    format_age,
    mention,
    slack_date,
    truncate,
)
from domain.adjudication import ConflictCase
from domain.amounts import format_amount
from domain.conflicts import ClaimKind
from domain.ownership import Resolution, StoredFinding
from domain.policy import ProgramPolicy

MAX_ENTRIES = 20
"""Findings shown in the thread; the rest are counted with a pointer to the full list."""

RESOLUTION_ACTIONS = {
    Resolution.award_partner: Action.resolve_award_partner,
    Resolution.award_existing: Action.resolve_award_existing,
    Resolution.co_sell: Action.resolve_co_sell,
    Resolution.duplicate: Action.resolve_duplicate,
    Resolution.reject_both: Action.resolve_reject_both,
    Resolution.request_info: Action.resolve_request_info,
}


def build_evidence(
    case: ConflictCase,
    *,
    partner_name: str,
    program: ProgramPolicy,
    now: datetime,
    owners: dict[str, str] | None = None,
) -> Message:
    """One evidence entry per finding, the recommendation and the resolution buttons.

    `owners` maps a direct owner's e-mail to the Slack user it resolved to.
    """
    registration = case.registration
    owners = owners or {}
    reference = registration.reference
    count = len(case.findings)
    blocks: list[SlackBlock] = [
        _section(
            f":mag: *{count} existing claim{'s' if count != 1 else ''}* may overlap "
            f"{reference} ({escape_fit(registration.details.company, 200)}, "
            f"{escape_fit(partner_name, 200)}):"
        )
    ]
    for finding in case.findings[:MAX_ENTRIES]:
        blocks.append(_section(_entry(finding, case, program=program, now=now, owners=owners)))
    if count > MAX_ENTRIES:
        blocks.append(
            _context(
                f"…and {count - MAX_ENTRIES} more: run `dibs check` with this company "
                "for the full list."
            )
        )
    blocks.append(DividerBlock())
    advice = case.recommendation
    if advice is not None:
        blocks.append(
            _section(f":scales: *Recommended: {advice.resolution.label}.* {advice.reason}.")
        )
    for dispute in case.disputes:
        link = f" <{dispute.link}|evidence>" if dispute.link else ""
        blocks.append(
            _context(
                f":raising_hand: {mention(dispute.by_user_id)} is working this: "
                f"{escape_fit(dispute.note, 500)}{link}"
            )
        )
    if registration.is_decided:
        blocks.append(_context(f"Settled: {reference} is {registration.status.label.lower()}."))
    else:
        blocks.append(_buttons(case))
    text = truncate(f"{count} existing claims may overlap {reference}", 3000)
    return Message(text=text, blocks=blocks)


def _entry(
    finding: StoredFinding,
    case: ConflictCase,
    *,
    program: ProgramPolicy,
    now: datetime,
    owners: dict[str, str],
) -> str:
    details = finding.details
    claim = finding.claim
    strength = "Conflict" if finding.strength.value == "conflict" else "Possible conflict"
    lines = []
    if claim.kind is ClaimKind.registration:
        manager = f", manager {mention(details.partner_manager)}" if details.partner_manager else ""
        who = (
            f"*{claim.label}* by {escape_fit(details.partner_name or 'a partner', 200)} "
            f"({escape_fit(details.partner_tier or '?', 60)}{manager})"
        )
        status = claim.status.label if claim.status else "?"
        lines.append(f"{strength}: {who}, {status.lower()}")
    else:
        owner = _owner(claim.owner_slack_id, claim.owner_email, owners)
        flags = [f for f, on in (("named", claim.is_named), ("customer", claim.is_customer)) if on]
        extra = f" ({', '.join(flags)})" if flags else ""
        stage = f", stage {escape_fit(claim.stage, 60)}" if claim.stage else ""
        lines.append(f"{strength}: direct {claim.label}{extra}, owner {owner}{stage}")
    lines.append(f"Company: {escape_fit(details.company_name or claim.company.name, 200)}")
    if details.amount is not None:
        lines.append(
            f"Amount: {format_amount(details.amount, details.currency or program.currency)}"
        )
    lines.append(_timing(finding, case, now))
    signals = ", ".join(
        f"{f.signal.value.replace('_', ' ')} {f.score:.2f}" for f in finding.evidence
    )
    lines.append(f"Matched on: {escape_fit(signals, 600)}")
    return "\n".join(lines)


def _timing(finding: StoredFinding, case: ConflictCase, now: datetime) -> str:
    claim = finding.claim
    ours = case.registration.created_at
    parts = []
    if claim.created_at is not None:
        delta = ours - claim.created_at
        first = "first" if delta.total_seconds() > 0 else "later"
        parts.append(
            f"created {slack_date(claim.created_at)} ({first}, by {format_age(abs(delta))})"
        )
    if claim.protected_until is not None:
        parts.append(f"protected until {slack_date(claim.protected_until)}")
    if claim.last_activity_at is not None:
        parts.append(f"last activity {format_age(now - claim.last_activity_at)} ago")
    return "When: " + ("; ".join(parts) if parts else "no dates on record")


def _owner(slack_id: str | None, email: str | None, owners: dict[str, str]) -> str:
    if slack_id:
        return mention(slack_id)
    if email and email in owners:
        return mention(owners[email])
    return escape_fit(email, 320) if email else "nobody on record"


def _buttons(case: ConflictCase) -> ActionsBlock:
    registration = case.registration
    assert registration.id is not None
    value = RegistrationRef(id=registration.id, version=registration.version).model_dump_json()
    elements = [
        ButtonElement(text=resolution.label, action_id=action.value, value=value)
        for resolution, action in RESOLUTION_ACTIONS.items()
    ]
    elements.append(
        ButtonElement(text="I'm working this", action_id=Action.conflict_working.value, value=value)
    )
    return ActionsBlock(block_id="conflict-resolve", elements=elements)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, 3000))])
