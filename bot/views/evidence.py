"""The conflict evidence in the review card's thread, as the messages it takes.

Desk channel only (internal). Pure: everything it shows is passed in. The head carries the
summary, the people who hold the claims (mentioned), the first entries, the recommendation and
the buttons, and is edited in place when the case changes or is resolved; longer lists continue
in follow-up replies, laid out by `evidence_layout`, and what does not fit is counted, with the
`dibs check` command that runs the check again.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import Block as SlackBlock
from slack_sdk.models.blocks import DividerBlock

from bot.views.blocks import context, section
from bot.views.common import (
    Message,
    escape,
    escape_fit,
    mention,
    plural,
    slack_user_or_none,
    truncate,
)
from bot.views.evidence_decision import decision_blocks
from bot.views.evidence_entries import entry_block, holds, ordered, owner_user
from bot.views.evidence_layout import PAGE, RESERVE, TEXT_BUDGET, paginate, size
from domain.cases import Case
from domain.conflicts import ClaimKind
from domain.matching import Strength
from domain.ownership import StoredFinding
from domain.policy import ProgramPolicy

MAX_MENTIONS = 10
COMMAND_BUDGET = 900
"""Characters of the `dibs check` command at most, as shown (quoted for a shell, escaped for
mrkdwn); a longer one is described instead, never cut (a cut command would run another check)."""


@dataclass(frozen=True, slots=True)
class EvidenceThread:
    """The evidence as the messages it takes: the head, and the entry ranges [first, last)
    of the follow-up replies (posted once, after the head)."""

    head: Message
    pages: tuple[tuple[int, int], ...] = ()


def evidence_thread(
    case: Case,
    *,
    partner_name: str,
    program: ProgramPolicy,
    now: datetime,
    owners: Mapping[str, str] | None = None,
) -> EvidenceThread:
    """The head (summary, the people who hold the claims, mentioned, the first entries, the
    recommendation and the buttons, or the outcome once resolved) and the follow-up pages.

    `owners` maps a direct owner's e-mail to the Slack user it resolved to.
    """
    owners = owners or {}
    registration = case.registration
    findings = ordered(case, now)
    entries = [entry_block(f, case, program, now, owners) for f in findings]
    people = _people(findings, owners, now)
    top: list[SlackBlock] = [section(_summary(case, partner_name, now))]
    if people:
        top.append(context(":bell: Looping in " + _join(people) + "."))
    bottom: list[SlackBlock] = [DividerBlock(), *decision_blocks(case, now)]
    reserve = size(top) + size(bottom) + RESERVE
    pages = paginate([size([e]) for e in entries], first_budget=TEXT_BUDGET - reserve)
    shown = pages[-1][1] if pages else 0
    blocks = top + entries[: pages[0][1] if pages else 0]
    if shown < len(entries) or len(pages) > 1:
        blocks.append(context(_more(case, pages, len(entries))))
    text = f"{registration.reference} ({escape_fit(registration.details.company, 200)}) "
    text += (
        f"may overlap {plural(len(findings), 'existing claim')}."
        if findings
        else "no longer overlaps a claim."
    )
    if case.recommendation is not None and registration.status.awaits_desk:
        text += f" Recommended: {case.recommendation.resolution.label}."
    text = truncate(" ".join([text, *(mention(user) for user, _ in people)]), 3000)
    return EvidenceThread(Message(text=text, blocks=blocks + bottom), tuple(pages[1:]))


def build_evidence(
    case: Case,
    *,
    partner_name: str,
    program: ProgramPolicy,
    now: datetime,
    owners: Mapping[str, str] | None = None,
) -> Message:
    """The head of the evidence (see `evidence_thread`): the message edited in place."""
    return evidence_thread(
        case, partner_name=partner_name, program=program, now=now, owners=owners
    ).head


def build_evidence_page(
    case: Case,
    first: int,
    last: int,
    *,
    program: ProgramPolicy,
    now: datetime,
    owners: Mapping[str, str] | None = None,
) -> Message | None:
    """A follow-up reply with entries [first, last) as the head laid them out; None when the
    case no longer has them (its findings changed since the head was posted)."""
    findings = ordered(case, now)
    last = min(last, len(findings), first + PAGE)
    if first < 0 or first >= last:
        return None
    heading = f"{case.registration.reference}: existing claims {first + 1}–{last} of "
    heading += str(len(findings))
    blocks: list[SlackBlock] = [context(f"*{heading}* (continued)")]
    blocks += [entry_block(f, case, program, now, owners or {}) for f in findings[first:last]]
    return Message(text=heading, blocks=blocks)


def build_evidence_page_gone(case: Case) -> Message:
    """What a follow-up reply says once the evidence no longer needs it (after the partner
    resubmitted, the claims fit in fewer messages)."""
    text = f"{case.registration.reference}: the claims changed; the current list is above."
    return Message(text=text, blocks=[context(f"~Earlier claims.~ {text}")])


def _summary(case: Case, partner_name: str, now: datetime) -> str:
    registration = case.registration
    if not case.findings:
        return (
            f":mag: *{registration.reference}* "
            f"({escape_fit(registration.details.company, 200)}, {escape_fit(partner_name, 200)}): "
            "the conflict check no longer finds an existing claim."
        )
    conflicts = sum(f.strength is Strength.conflict for f in case.findings)
    possible = len(case.findings) - conflicts
    parts = [
        plural(count, noun)
        for count, noun in ((conflicts, "conflict"), (possible, "possible conflict"))
        if count
    ]
    ended = sum(not holds(f, registration, now) for f in case.findings)
    if ended:
        parts.append(f"{ended} no longer a claim")
    return (
        f":mag: *{registration.reference}* ({escape_fit(registration.details.company, 200)}, "
        f"{escape_fit(partner_name, 200)}) may overlap "
        f"*{plural(len(case.findings), 'existing claim')}*: " + ", ".join(parts) + "."
    )


def _people(
    findings: Sequence[StoredFinding], owners: Mapping[str, str], now: datetime
) -> list[tuple[str, str]]:
    """Who holds the claims that still hold: (Slack user, their role), once each."""
    people: dict[str, str] = {}
    for finding in findings:
        claim, details = finding.claim, finding.details
        if not claim.is_active(now):
            continue
        if claim.kind is ClaimKind.registration:
            user = slack_user_or_none(details.partner_manager)
            partner = escape_fit(details.partner_name or "a partner", 100)
            role = f"channel manager of {partner}"
        else:
            user = owner_user(claim, owners)
            role = f"owner of {escape_fit(claim.label, 100)}"
        if user is not None and user not in people:
            people[user] = role
    return list(people.items())[:MAX_MENTIONS]


def _join(people: Sequence[tuple[str, str]]) -> str:
    named = [f"{mention(user)} ({role})" for user, role in people]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def _more(case: Case, pages: Sequence[tuple[int, int]], count: int) -> str:
    """Where the entries the head leaves out are: replies below, then `dibs check`."""
    head_last = pages[0][1] if pages else 0
    shown = pages[-1][1] if pages else 0
    text = f"Claims 1–{head_last} of {count} above"
    if shown > head_last:
        text += f"; {head_last + 1}–{shown} follow in this thread"
    text += "."
    if shown < count:
        text += " " + _pointer(case, count - shown)
    return text


def _pointer(case: Case, hidden: int) -> str:
    """Where the claims the thread leaves out are listed: the `dibs check` command with what
    the registration's check used (name, website, contact e-mail, country), quoted for a
    shell. It checks the customer again as things are now, so it says so."""
    details = case.registration.details
    options = (
        ("--domain", details.website),
        ("--email", details.contact_email),
        ("--country", details.country),
    )
    args = ["dibs", "check", details.company]
    args += [part for flag, value in options if value for part in (flag, value)]
    # A backtick would end mrkdwn's code span: an apostrophe stands in (punctuation either way).
    command = escape(shlex.join(arg.replace("`", "'") for arg in args))
    if len(command) > COMMAND_BUDGET:
        return (
            f"{hidden} more not shown here: `dibs check` with this registration's company, "
            "--domain, --email and --country runs the check again and lists every claim it "
            "finds now."
        )
    return (
        f"{hidden} more not shown here: `{command}` runs the check again and lists every "
        "claim it finds now."
    )
