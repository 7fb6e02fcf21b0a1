"""`/dibs check` and `dibs check`: who already has a claim on a company, and the evidence.

Internal only: the reply names partners, direct owners and accounts. Partners never see it.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block as SlackBlock

from bot.views.blocks import context, header, section
from bot.views.common import (
    Message,
    escape_fit,
    mention,
    plural,
    slack_date,
    slack_user_or_none,
    truncate,
)
from domain.checks import CompanyCheck
from domain.conflicts import Claim, ClaimKind, ConflictFinding
from domain.matching import CompanyRef, Finding, Strength
from domain.websites import is_website

MAX_SHOWN = 20
USAGE = "Usage: `/dibs check COMPANY NAME [website]`, e.g. `/dibs check Globex Corp globex.com`"


def parse_check_text(text: str) -> CompanyRef | None:
    """`Globex Corp globex.com` → name and website (a last word with a dot is the website)."""
    words = text.split()
    if not words:
        return None
    if len(words) > 1 and "@" in words[-1]:
        return CompanyRef(" ".join(words[:-1]), email=words[-1])
    if len(words) > 1 and is_website(words[-1]):
        return CompanyRef(" ".join(words[:-1]), domain=words[-1])
    return CompanyRef(" ".join(words))


def summary(check: CompanyCheck) -> str:
    """One line: how many conflicts and possible conflicts, or that nobody has a claim."""
    counts = check.counts
    if counts.total == 0:
        return "No existing claim found."
    parts = [plural(counts.conflicts, "conflict")]
    if counts.possible:
        parts.append(plural(counts.possible, "possible conflict"))
    return ", ".join(parts) + "."


def claim_line(finding: ConflictFinding, check: CompanyCheck, *, slack: bool) -> str:
    """What the claim is and who holds it: `Registration NW-0003 by Northwind (In review)`."""
    claim = finding.claim
    name = _text(claim.company.name, slack)
    where = ", ".join(_text(x, slack) for x in (claim.company.domain, claim.company.country) if x)
    company = f"{name} ({where})" if where else name
    if claim.kind is ClaimKind.registration:
        partner = check.partner_of(finding)
        by = _text(partner.name, slack) if partner else f"partner {claim.partner_id}"
        status = claim.status.label if claim.status else "?"
        facts = [f"by {by}", status]
        if claim.protected_until is not None:
            facts.append(f"protected until {_when(claim, slack)}")
        return f"Registration {claim.label} for {company}: " + ", ".join(facts)
    facts = []
    if claim.kind is ClaimKind.account:
        facts += ["named account"] * claim.is_named + ["customer"] * claim.is_customer
    else:
        facts.append(f"stage {_text(claim.stage or '?', slack)}")
        if claim.last_activity_at is not None:
            day = claim.last_activity_at
            facts.append(f"last activity {slack_date(day) if slack else day.date().isoformat()}")
    facts.append(f"owner {_owner(claim, slack)}")
    label = claim.label[:1].upper() + claim.label[1:]
    return f"{label} {company}: " + ", ".join(facts)


def evidence_line(finding: ConflictFinding, *, slack: bool) -> str:
    """Which signals, with their scores and what matched; qualifiers after a semicolon."""
    signals = [_signal(f, slack) for f in finding.evidence if f.strength is not Strength.support]
    support = [_signal(f, slack) for f in finding.evidence if f.strength is Strength.support]
    line = "; ".join(filter(None, [", ".join(signals), ", ".join(support)]))
    return f"{finding.strength.value} (score {finding.score:.2f}): {line}"


def build_check_result(check: CompanyCheck) -> Message:
    """The ephemeral reply to `/dibs check`: a summary and each finding with its evidence."""
    title = truncate(f"Conflict check: {check.company.name}", 150)
    blocks: list[SlackBlock] = [header(title), section(summary(check))]
    for finding in check.findings[:MAX_SHOWN]:
        icon = ":warning:" if finding.strength is Strength.conflict else ":grey_question:"
        text = (
            f"{icon} {claim_line(finding, check, slack=True)}\n{evidence_line(finding, slack=True)}"
        )
        blocks.append(section(text))
    if len(check.findings) > MAX_SHOWN:
        more = len(check.findings) - MAX_SHOWN
        blocks.append(context(f"…and {more} more: `dibs check`."))
    return Message(text=f"{title}: {summary(check)}", blocks=blocks)


def check_lines(check: CompanyCheck) -> list[str]:
    """The same, as plain lines for the command line."""
    lines = [summary(check)]
    for finding in check.findings:
        lines.append(f"- {claim_line(finding, check, slack=False)}")
        lines.append(f"  {evidence_line(finding, slack=False)}")
    return lines


def _signal(finding: Finding, slack: bool) -> str:
    name = finding.signal.value.replace("_", " ")
    detail = f": {_text(finding.detail, slack)}" if finding.detail else ""
    return f"{name} {finding.score:.2f}{detail}"


def _owner(claim: Claim, slack: bool) -> str:
    user = slack_user_or_none(claim.owner_slack_id)
    if slack and user is not None:
        return mention(user)
    return _text(claim.owner or "unknown", slack)


def _when(claim: Claim, slack: bool) -> str:
    assert claim.protected_until is not None
    return slack_date(claim.protected_until) if slack else claim.protected_until.date().isoformat()


def _text(value: str, slack: bool) -> str:
    return escape_fit(value, 300) if slack else value
