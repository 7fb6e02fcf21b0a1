"""The conflict evidence in the review card's thread: each rival claim and why it matched, the
rule-based recommendation, the people who hold those claims, and the resolution buttons.

Desk channel only (internal). Pure: everything it shows is passed in.

One message, the head, carries the summary, the people to loop in, the first entries, the
recommendation and the buttons; it is the one edited in place when the case changes or is
settled. Longer lists continue in follow-up replies (`build_evidence_page`) laid out by
`evidence_thread`: at most `PAGE` entries and `TEXT_BUDGET` characters per message, at most
`MAX_MESSAGES` messages; the rest are counted, with the `dibs check` command that runs the
check again from the command line.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
    escape,
    escape_fit,
    format_age,
    mention,
    slack_date,
    truncate,
)
from bot.views.render import render
from domain.actor import Actor
from domain.amounts import format_amount
from domain.cases import Case
from domain.conflicts import Claim, ClaimKind
from domain.matching import Signal, Strength
from domain.ownership import Recommendation, Resolution, StoredFinding, resolutions_offered
from domain.policy import ProgramPolicy
from domain.registration import Registration, RegistrationStatus

PAGE = 20
"""Evidence entries per message at most (one section each, well under Slack's 50 blocks)."""

TEXT_BUDGET = 10_000
"""Characters of block text per message. Slack refuses a message whose blocks carry more than
about 12,000 in all (`msg_blocks_too_long`, an undocumented cumulative limit), so entries move
to the next reply before a message gets there."""

MAX_MESSAGES = 5
"""Messages the evidence takes at most (the head and four replies); later entries are counted,
with a pointer to `dibs check`, which runs the check again and lists every claim it finds."""

MAX_MENTIONS = 10
MAX_WORKING_NOTES = 3
COMMAND_BUDGET = 900
"""Characters of the `dibs check` command at most, as shown (quoted for a shell, escaped for
mrkdwn); a longer one is described instead, never cut (a cut command would run another check)."""

RESOLUTION_ACTIONS = {
    Resolution.award_partner: Action.resolve_award_partner,
    Resolution.award_existing: Action.resolve_award_existing,
    Resolution.co_sell: Action.resolve_co_sell,
    Resolution.duplicate: Action.resolve_duplicate,
    Resolution.reject_both: Action.resolve_reject_both,
    Resolution.request_info: Action.resolve_request_info,
}

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

_AWAITING_DESK = frozenset({RegistrationStatus.submitted, RegistrationStatus.under_review})
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_RESERVE = 1_200  # the "more below" line with its `dibs check` pointer, or a page's heading


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
    recommendation and the buttons, or the outcome once settled) and the follow-up pages.

    `owners` maps a direct owner's e-mail to the Slack user it resolved to.
    """
    owners = owners or {}
    registration = case.registration
    findings = ordered(case, now)
    entries = [_entry_block(f, case, program, now, owners) for f in findings]
    people = _people(findings, owners, now)
    top: list[SlackBlock] = [_section(_summary(case, partner_name, now))]
    if people:
        top.append(_context(":bell: Looping in " + _join(people) + "."))
    bottom: list[SlackBlock] = [DividerBlock(), *_decision(case, now)]
    reserve = _size(top) + _size(bottom) + _RESERVE
    pages = _paginate([_size([e]) for e in entries], first_budget=TEXT_BUDGET - reserve)
    shown = pages[-1][1] if pages else 0
    blocks = top + entries[: pages[0][1] if pages else 0]
    if shown < len(entries) or len(pages) > 1:
        blocks.append(_context(_more(case, pages, len(entries))))
    text = f"{registration.reference} ({escape_fit(registration.details.company, 200)}) "
    text += f"may overlap {_claims(len(findings))}." if findings else "no longer overlaps a claim."
    if case.recommendation is not None and registration.status in _AWAITING_DESK:
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
    blocks: list[SlackBlock] = [_context(f"*{heading}* (continued)")]
    blocks += [_entry_block(f, case, program, now, owners or {}) for f in findings[first:last]]
    return Message(text=heading, blocks=blocks)


def build_evidence_page_gone(case: Case) -> Message:
    """What a follow-up reply says once the evidence no longer needs it (after the partner
    resubmitted, the claims fit in fewer messages)."""
    text = f"{case.registration.reference}: the claims changed; the current list is above."
    return Message(text=text, blocks=[_context(f"~Earlier claims.~ {text}")])


def ordered(case: Case, now: datetime) -> list[StoredFinding]:
    """Claims that still hold first, conflicts before possible conflicts, else as stored."""
    return sorted(
        case.findings,
        key=lambda f: (not _holds(f, case.registration, now), f.strength is not Strength.conflict),
    )


def signal_line(finding: StoredFinding) -> str:
    """`same website domain 1.00, fuzzy name 0.91`, then qualifiers without scores."""
    signals = [f for f in finding.evidence if f.strength is not Strength.support]
    qualifiers = [f for f in finding.evidence if f.strength is Strength.support]
    line = ", ".join(f"{SIGNAL_NAMES[f.signal]} {f.score:.2f}" for f in signals)
    if qualifiers:
        also = ", ".join(SIGNAL_NAMES[f.signal] for f in qualifiers)
        line = f"{line}; also {also}" if line else also
    return line


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
    parts = [_plural(conflicts, "conflict"), _plural(possible, "possible conflict")]
    ended = sum(not _holds(f, registration, now) for f in case.findings)
    if ended:
        parts.append(f"{ended} no longer a claim")
    return (
        f":mag: *{registration.reference}* ({escape_fit(registration.details.company, 200)}, "
        f"{escape_fit(partner_name, 200)}) may overlap *{_claims(len(case.findings))}*: "
        + ", ".join(p for p in parts if p)
        + "."
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
            user = _slack_user(details.partner_manager)
            partner = escape_fit(details.partner_name or "a partner", 100)
            role = f"channel manager of {partner}"
        else:
            user = _owner_user(claim, owners)
            role = f"owner of {escape_fit(claim.label, 100)}"
        if user is not None and user not in people:
            people[user] = role
    return list(people.items())[:MAX_MENTIONS]


def _join(people: Sequence[tuple[str, str]]) -> str:
    named = [f"{mention(user)} ({role})" for user, role in people]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def _holds(finding: StoredFinding, subject: Registration, now: datetime) -> bool:
    """Whether the claim still holds (the rules ignore the others, and so does the summary)."""
    claim = finding.claim
    if claim.kind is ClaimKind.registration and claim.id == subject.id:
        return False
    return claim.is_active(now)


def _slack_user(user_id: str | None) -> str | None:
    """A Slack user id fit to mention (CRM data is checked again: no `<!channel>` tricks)."""
    return user_id if user_id and _SLACK_USER.match(user_id) else None


def _owner_user(claim: Claim, owners: Mapping[str, str]) -> str | None:
    user = _slack_user(claim.owner_slack_id)
    if user is None and claim.owner_email:
        user = _slack_user(owners.get(claim.owner_email) or owners.get(claim.owner_email.lower()))
    return user


def _owner(claim: Claim, owners: Mapping[str, str]) -> str:
    user = _owner_user(claim, owners)
    if user is not None:
        return mention(user)
    if claim.owner_email:
        return escape_fit(claim.owner_email, 320)
    return "no owner on record"


def _entry_block(
    finding: StoredFinding,
    case: Case,
    program: ProgramPolicy,
    now: datetime,
    owners: Mapping[str, str],
) -> SectionBlock:
    return _section(_entry(finding, case, program=program, now=now, owners=owners))


def _entry(
    finding: StoredFinding,
    case: Case,
    *,
    program: ProgramPolicy,
    now: datetime,
    owners: Mapping[str, str],
) -> str:
    """One claim: who holds it, the customer, when (who was first), the amount and the match."""
    details, claim = finding.details, finding.claim
    holds = _holds(finding, case.registration, now)
    conflict = finding.strength is Strength.conflict
    icon = (":warning:" if conflict else ":grey_question:") if holds else ":white_circle:"
    strength = "Conflict" if conflict else "Possible conflict"
    label = escape_fit(claim.label, 120)
    if claim.kind is ClaimKind.registration:
        partner = escape_fit(details.partner_name or "a partner", 150)
        tier = f" ({escape_fit(details.partner_tier, 40)})" if details.partner_tier else ""
        status = claim.status.label if claim.status else "status unknown"
        title = f"registration *{label}* by *{partner}*{tier} · {status}"
        manager = _slack_user(details.partner_manager)
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
    lines = [f"{icon} *{strength}*: {title}" + ("" if holds else " · _no longer a claim_")]
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
    return "\n".join(lines)


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


def _decision(case: Case, now: datetime) -> list[SlackBlock]:
    """The recommendation and buttons while the desk decides; the outcome once settled."""
    registration = case.registration
    if registration.status in _AWAITING_DESK and not case.findings:
        # The partner's update cleared every overlap: the review card's buttons decide it.
        return [
            _section(
                ":white_check_mark: Nothing to settle here any more: "
                "decide on the review card above."
            ),
            *_working_notes(case),
        ]
    blocks: list[SlackBlock] = []
    if registration.status in _AWAITING_DESK:
        blocks.append(_section(_recommendation(case)))
    blocks += _working_notes(case)
    if registration.status in _AWAITING_DESK:
        blocks.append(
            _context(
                "The rules recommend; the desk decides. Each resolution asks for a reason, "
                "kept as a precedent."
            )
        )
        blocks.append(_buttons(case, now))
    elif registration.status is RegistrationStatus.info_requested:
        blocks.append(
            _section(
                f":question: {registration.reference} waits for the partner's answer to an "
                "info request; the resolutions come back when it answers."
            )
        )
    else:
        blocks.append(_section(_outcome(registration)))
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
        link = note.link or ""
        evidence = f" (<{link}|evidence>)" if link.startswith(("https://", "http://")) else ""
        user = _slack_user(note.by_user_id)
        who = mention(user) if user else "Someone on the direct team"
        blocks.append(
            _context(
                f":raising_hand: {who} is working this customer "
                f"({slack_date(note.at)}): {escape_fit(note.note, 500)}{evidence}"
            )
        )
    hidden = len(case.working) - MAX_WORKING_NOTES
    if hidden > 0:
        blocks.append(_context(f"…and {_plural(hidden, 'more dispute')} in the audit log."))
    return blocks


def _outcome(registration: Registration) -> str:
    status, reference = registration.status, registration.reference
    by = _who(registration.decided_by)
    on = f" on {slack_date(registration.decided_at)}" if registration.decided_at else ""
    if status is RegistrationStatus.approved:
        until = registration.protected_until
        protected = f", protected until {slack_date(until)}" if until else ""
        return f":white_check_mark: *Settled:* {reference} approved by {by}{on}{protected}."
    if status is RegistrationStatus.rejected:
        reason = registration.rejection_reason
        why = f": {reason.label}" if reason else ""
        return f":x: *Settled:* {reference} rejected by {by}{on}{why}."
    if status is RegistrationStatus.cancelled:
        return f":x: *Settled:* {reference} cancelled by {by}{on}; its protection ended."
    return f"*Closed:* {reference} is {status.label.lower()}."


def _who(actor: Actor | None) -> str:
    if actor is None:
        return "the desk"
    if actor.is_system:
        return "Dibs (automatic)"
    user = _slack_user(actor.user_id)
    return mention(user) if user else "the desk"


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


def _paginate(sizes: Sequence[int], *, first_budget: int) -> list[tuple[int, int]]:
    """Entry ranges per message: at most `PAGE` entries and the text budget each (the head has
    less room), at most `MAX_MESSAGES` messages; every message gets at least one entry."""
    pages: list[tuple[int, int]] = []
    start, budget = 0, first_budget
    while start < len(sizes) and len(pages) < MAX_MESSAGES:
        end, used = start, 0
        while end < len(sizes) and end - start < PAGE:
            if end > start and used + sizes[end] > budget:
                break
            used += sizes[end]
            end += 1
        pages.append((start, end))
        start, budget = end, TEXT_BUDGET - _RESERVE
    return pages


def _size(blocks: Sequence[SlackBlock]) -> int:
    """Characters of text the blocks carry, as Slack counts against its cumulative limit."""
    return sum(_text_length(render(block)) for block in blocks)


def _text_length(node: Any) -> int:
    if isinstance(node, dict):
        return sum(
            len(value) if key == "text" and isinstance(value, str) else _text_length(value)
            for key, value in node.items()
        )
    if isinstance(node, list):
        return sum(_text_length(item) for item in node)
    return 0


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


def _buttons(case: Case, now: datetime) -> ActionsBlock:
    registration = case.registration
    assert registration.id is not None
    value = RegistrationRef(
        id=registration.id, version=registration.version, reference=registration.reference
    ).model_dump_json()
    advised = case.recommendation.resolution if case.recommendation else None
    elements = [
        ButtonElement(
            text=resolution.label,
            action_id=RESOLUTION_ACTIONS[resolution].value,
            value=value,
            style="primary" if resolution is advised else None,
        )
        for resolution in resolutions_offered(case.findings, now=now)
    ]
    elements.append(
        ButtonElement(text="I'm working this", action_id=Action.conflict_working.value, value=value)
    )
    return ActionsBlock(block_id="conflict-resolve", elements=elements)


def _claims(count: int) -> str:
    return f"{count} existing claim{'s' if count != 1 else ''}"


def _plural(count: int, noun: str) -> str:
    if count == 0:
        return ""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, 3000))])
