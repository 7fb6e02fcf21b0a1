"""One entry of the conflict evidence: a rival claim, who holds it, when it was made, its amount
and what matched (desk only)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from slack_sdk.models.blocks import SectionBlock

from bot.views.blocks import section
from bot.views.common import escape_fit, format_age, mention, slack_date, slack_user_or_none
from domain.amounts import format_amount
from domain.cases import Case
from domain.conflicts import Claim, ClaimKind
from domain.matching import Signal, Strength
from domain.ownership import StoredFinding
from domain.policy import ProgramPolicy
from domain.registration import Registration

SIGNAL_NAMES = {
    Signal.same_domain: "same website domain",
    Signal.same_email_domain: "same e-mail domain",
    Signal.name_equal: "same name",
    Signal.alias: "known alias",
    Signal.regional_arm: "regional arm",
    Signal.initialism: "initialism",
    Signal.fuzzy_name: "fuzzy name",
    Signal.sibling_domain: "sibling domain",
    Signal.country_agrees: "same country",
    Signal.country_differs: "different country",
    Signal.domain_differs: "different website",
    Signal.product_overlap: "same products",
}
"""What a manager reads for each signal."""


def ordered(case: Case, now: datetime) -> list[StoredFinding]:
    """Claims that still hold first, conflicts before possible conflicts, else as stored."""
    return sorted(
        case.findings,
        key=lambda f: (not holds(f, case.registration, now), f.strength is not Strength.conflict),
    )


def holds(finding: StoredFinding, subject: Registration, now: datetime) -> bool:
    """Whether the claim still holds (the rules ignore the others, and so does the summary)."""
    claim = finding.claim
    if claim.kind is ClaimKind.registration and claim.id == subject.id:
        return False
    return claim.is_active(now)


def signal_line(finding: StoredFinding) -> str:
    """`same website domain 1.00, fuzzy name 0.91`, then qualifiers without scores."""
    signals = [f for f in finding.evidence if f.strength is not Strength.support]
    qualifiers = [f for f in finding.evidence if f.strength is Strength.support]
    line = ", ".join(f"{SIGNAL_NAMES[f.signal]} {f.score:.2f}" for f in signals)
    if qualifiers:
        also = ", ".join(SIGNAL_NAMES[f.signal] for f in qualifiers)
        line = f"{line}; also {also}" if line else also
    return line


def owner_user(claim: Claim, owners: Mapping[str, str]) -> str | None:
    """The Slack user who owns a direct claim: its own Slack id, else the user its owner's
    e-mail resolved to (`owners`), when either is a Slack user id."""
    user = slack_user_or_none(claim.owner_slack_id)
    if user is None and claim.owner_email:
        email = claim.owner_email
        user = slack_user_or_none(owners.get(email) or owners.get(email.lower()))
    return user


def entry_block(
    finding: StoredFinding,
    case: Case,
    program: ProgramPolicy,
    now: datetime,
    owners: Mapping[str, str],
) -> SectionBlock:
    """One claim: who holds it, the customer, when (who was first), the amount and the match."""
    details, claim = finding.details, finding.claim
    still = holds(finding, case.registration, now)
    conflict = finding.strength is Strength.conflict
    icon = (":warning:" if conflict else ":grey_question:") if still else ":white_circle:"
    strength = "Conflict" if conflict else "Possible conflict"
    label = escape_fit(claim.label, 120)
    if claim.kind is ClaimKind.registration:
        partner = escape_fit(details.partner_name or "a partner", 150)
        tier = f" ({escape_fit(details.partner_tier, 40)})" if details.partner_tier else ""
        status = claim.status.label if claim.status else "status unknown"
        title = f"registration *{label}* by *{partner}*{tier} · {status}"
        manager = slack_user_or_none(details.partner_manager)
        if manager is not None:
            title += f" · channel manager {mention(manager)}"
    else:
        flags = (("named account", claim.is_named), ("customer", claim.is_customer))
        facts = [name for name, on in flags if on]
        if claim.stage:
            facts.append(f"stage {escape_fit(claim.stage, 60)}")
        facts.append(f"owner {_owner(claim, owners)}")
        title = f"direct {claim.kind.value} *{escape_fit(claim.external_id or str(claim.id), 120)}*"
        title += " · " + " · ".join(facts)
    lines = [f"{icon} *{strength}*: {title}" + ("" if still else " · _no longer a claim_")]
    company = escape_fit(details.company_name or claim.company.name, 150)
    where = [escape_fit(x, 100) for x in (claim.company.domain, claim.company.country) if x]
    lines.append(f"Customer: {company}" + (f" ({', '.join(where)})" if where else ""))
    timing = _timing(claim, case.registration, now)
    if timing:
        lines.append(timing)
    if details.amount is not None:
        currency = details.currency or program.currency
        lines.append(f"Amount: {format_amount(details.amount, currency)}")
    lines.append(f"Matched on: {signal_line(finding) or 'nothing on record'}")
    matched = [escape_fit(f.detail, 80) for f in finding.evidence if f.detail][:4]
    if matched:
        lines.append("What matched: " + " · ".join(matched))
    return section("\n".join(lines))


def _owner(claim: Claim, owners: Mapping[str, str]) -> str:
    user = owner_user(claim, owners)
    if user is not None:
        return mention(user)
    if claim.owner_email:
        return escape_fit(claim.owner_email, 320)
    return "no owner on record"


def _timing(claim: Claim, subject: Registration, now: datetime) -> str:
    """When the claim was made, and in plain words who was first and by how much."""
    parts = []
    if claim.created_at is not None and claim.kind is not ClaimKind.account:
        verb = "Registered" if claim.kind is ClaimKind.registration else "Opened"
        ours = subject.reference
        delta = claim.created_at - subject.created_at
        when = f"{verb} {slack_date(claim.created_at)}"
        gap = format_age(abs(delta))
        gap = "less than a minute" if gap == "just now" else gap
        if not delta:
            parts.append(f"{when}, at the same moment as {ours}")
        elif delta < timedelta(0):
            parts.append(f"{when}, {gap} before {ours}: *it was first*")
        else:
            parts.append(f"{when}, {gap} after {ours}: *{ours} was first*")
    if claim.protected_until is not None:
        parts.append(f"protected until {slack_date(claim.protected_until)}")
    if claim.last_activity_at is not None:
        age = format_age(now - claim.last_activity_at)
        parts.append("last activity " + (age if age == "just now" else f"{age} ago"))
    return ("When: " + "; ".join(parts)) if parts else ""
