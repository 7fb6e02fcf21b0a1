"""Channel messages: the launcher, the partner's status card, the desk's review card, notices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
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
    country_name,
    escape_fit,
    format_age,
    mention,
    plain_date,
    quote_fit,
    slack_date,
    truncate,
)
from domain.actor import Actor
from domain.amounts import format_amount
from domain.conflicts import ClaimKind, FindingCounts
from domain.messages import DirectNotice, Notice, ResolutionDetail, Still, WorkingDetail
from domain.ownership import (
    ClaimDetails,
    Decision,
    Resolution,
    StoredFinding,
    likenesses,
    live_counts,
)
from domain.partner import Partner
from domain.policy import PARTNERS_SEE_OWN_ONLY, PrivacyPolicy, ProgramPolicy
from domain.registration import Registration, RegistrationStatus

_AWAITING_DESK = frozenset({RegistrationStatus.submitted, RegistrationStatus.under_review})
_DUE = "{date_short_pretty} at {time}"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))


def _ref(registration: Registration) -> str:
    assert registration.id is not None
    return RegistrationRef(id=registration.id, version=registration.version).model_dump_json()


def _header(registration: Registration) -> HeaderBlock:
    return HeaderBlock(
        text=truncate(f"{registration.reference} · {registration.details.company}", 150)
    )


def _button(
    text: str,
    action: Action,
    value: str,
    style: str | None = None,
    *,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    return ButtonElement(text=text, action_id=action, value=value, style=style, confirm=confirm)


def _fallback(registration: Registration, extra: str) -> str:
    company = escape_fit(registration.details.company, 200)
    return f"{registration.reference} · {company} · {extra}"


def info_asker(registration: Registration) -> Actor | None:
    """Who sent the latest info request, when the registration still holds its events."""
    for event in reversed(registration.events):
        if event.action == "request_info":
            return event.actor
    return None


def build_launcher(partner: Partner, *, vendor: str | None = None) -> Message:
    """The pinned-style message in a partner channel that opens the registration modal."""
    whom = escape_fit(vendor, 100) if vendor else "us"
    text = (
        f"*Register a deal with {whom}*\n"
        f"Claim a prospect for {escape_fit(partner.name, 200)} before you work it. Dibs checks "
        "at once whether the account is already taken, and this channel shows where each "
        "registration stands."
    )
    buttons = ActionsBlock(
        block_id="launcher-actions",
        elements=[
            _button("Register a deal", Action.launcher_register, str(partner.id), "primary"),
            _button("My registrations", Action.launcher_mine, str(partner.id)),
        ],
    )
    return Message(text="Register a deal with Dibs", blocks=[_section(text), buttons])


def _facts(registration: Registration) -> SectionBlock:
    d = registration.details
    return SectionBlock(
        fields=[
            MarkdownTextObject(text=f"*Amount*\n{format_amount(d.amount, d.currency)}"),
            MarkdownTextObject(text=f"*Expected close*\n{plain_date(d.close_date)}"),
            MarkdownTextObject(text=f"*Status*\n{registration.status.label}"),
        ]
    )


OVERLAP_LINE = "In review: this may overlap an existing claim."
"""All a partner may learn about a conflict check that found something, and only when the
policy lets partners see overlaps (never whose claim)."""


def build_partner_card(
    registration: Registration,
    partner: Partner,
    *,
    program: ProgramPolicy,
    overlap: bool = False,
    privacy: PrivacyPolicy = PARTNERS_SEE_OWN_ONLY,
) -> Message:
    """The status card in the shared channel: this registration only, the desk stays anonymous.

    `overlap`: the conflict check found another claim. By default the card reads the same
    either way; when `privacy` lets partners see overlaps, it says so in one neutral line while
    the desk reviews, and never names the other claim, its owner, amount or dates."""
    status = registration.status
    blocks: list[SlackBlock] = [_header(registration), _facts(registration)]
    if status in _AWAITING_DESK:
        due = slack_date(registration.decision_due_at, _DUE)
        if overlap and privacy.partners_see_overlaps:
            blocks.append(_section(f":mag: {OVERLAP_LINE}"))
        blocks.append(_section(f"The desk will decide by {due}."))
    elif status is RegistrationStatus.info_requested:
        question = quote_fit(registration.info_request or "", 2800)
        blocks.append(_section(f"*The desk asks:*\n{question}\nAnswer with *Provide info*."))
    elif status is RegistrationStatus.approved and registration.protected_until:
        until = slack_date(registration.protected_until)
        blocks.append(_section(f":white_check_mark: Approved, protected until {until}."))
    elif status is RegistrationStatus.rejected:
        blocks.append(_section(_rejection(registration)))
    buttons: list[ButtonElement] = []
    if status is RegistrationStatus.info_requested:
        buttons.append(
            _button("Provide info", Action.card_provide_info, _ref(registration), "primary")
        )
    if status.is_open:
        confirm = ConfirmObject(
            title="Withdraw this registration?",
            text=f"{registration.reference} will be closed and the desk will not review it.",
            confirm="Withdraw",
            deny="Keep it",
            style="danger",
        )
        buttons.append(
            _button("Withdraw", Action.card_withdraw, _ref(registration), confirm=confirm)
        )
    if buttons:
        blocks.append(ActionsBlock(block_id="card-actions", elements=buttons))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Deal registration for {escape_fit(partner.name, 200)} · Dibs"
                )
            ]
        )
    )
    return Message(text=_fallback(registration, status.label), blocks=blocks)


def _rejection(registration: Registration) -> str:
    reason = registration.rejection_reason
    text = f"Not approved: {reason.label if reason else 'no reason given'}."
    if registration.decision_note:
        text += "\n" + quote_fit(registration.decision_note, 2800)
    return text


def _who(actor: Actor | None) -> str:
    if actor is None:
        return "the desk"
    return "Dibs (automatic)" if actor.is_system else mention(actor.user_id)


def _submitter(registration: Registration, host_team_id: str | None) -> str:
    actor = registration.submitted_by
    if host_team_id is not None and actor.team_id == host_team_id:
        return mention(actor.user_id)
    return f"{mention(actor.user_id)} (team {actor.team_id})"


def _desk_line(registration: Registration) -> str | None:
    status, at = registration.status, registration.decided_at
    on = f" on {slack_date(at)}" if at else ""
    if status is RegistrationStatus.approved:
        until = registration.protected_until
        protected = f", protected until {slack_date(until)}" if until else ""
        return f":white_check_mark: Approved by {_who(registration.decided_by)}{on}{protected}."
    if status is RegistrationStatus.rejected:
        return f":x: Rejected by {_who(registration.decided_by)}{on} — " + _rejection(
            registration
        ).removeprefix("Not approved: ")
    if status is RegistrationStatus.info_requested:
        question = quote_fit(registration.info_request or "", 2800)
        return f":question: Info requested by {_who(info_asker(registration))}:\n{question}"
    if status is RegistrationStatus.withdrawn:
        return f"Withdrawn by the partner on {slack_date(registration.updated_at)}."
    if status not in _AWAITING_DESK:
        return f"Status: {status.label}."
    return None


def build_review_card(
    registration: Registration,
    partner: Partner,
    *,
    program: ProgramPolicy,
    now: datetime,
    host_team_id: str | None = None,
    findings: Sequence[StoredFinding] | None = None,
    working_by: Sequence[str] = (),
) -> Message:
    """The desk's review card: every field, who submitted it, what the conflict check found
    (`findings`, the claims as they are now; never on the partner's card), who on the direct
    team left a working note (`working_by`, user ids) and the decision buttons. While a conflict
    holds, Approve opens the choice of who owns the customer (the server decides that); a
    likeness alone is named in the approval's confirmation."""
    d = registration.details
    contact = " · ".join(escape_fit(x, 900) for x in (d.contact_name, d.contact_email) if x)
    fields = [
        ("Company", escape_fit(d.company, 1900)),
        ("Website", escape_fit(d.website, 1900)),
        ("Country", country_name(d.country)),
        ("Amount", format_amount(d.amount, d.currency)),
        ("Expected close", plain_date(d.close_date)),
        ("Products", escape_fit(", ".join(d.products), 1900) or "—"),
        ("Contact", contact or "—"),
        ("Stage", d.stage.label if d.stage else "—"),
        ("Partner", f"{escape_fit(partner.name, 1000)} ({escape_fit(partner.tier, 500)})"),
        ("Submitted by", _submitter(registration, host_team_id)),
    ]
    blocks: list[SlackBlock] = [
        _header(registration),
        SectionBlock(fields=[MarkdownTextObject(text=f"*{k}*\n{v}") for k, v in fields]),
    ]
    case = DeskCase.of(registration, findings or (), now=now)
    if findings is not None:
        blocks.append(_section(conflict_summary(case.counts, waiting=registration.status.is_open)))
    if working_by:
        people = [mention(user) for user in list(dict.fromkeys(working_by))[:20]]
        blocks.append(_section(":raising_hand: Disputed by " + ", ".join(people)))
    if d.notes:
        blocks.append(_section("*Notes*\n" + quote_fit(d.notes, 2980)))
    timing = f"Submitted {slack_date(registration.created_at, _DUE)}"
    if registration.status.is_open:
        timing += f" · decision due {slack_date(registration.decision_due_at, _DUE)}"
    if registration.status in _AWAITING_DESK and now > registration.decision_due_at:
        timing += f" (overdue by {format_age(now - registration.decision_due_at)})"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=timing)]))
    line = _desk_line(registration)
    if line is not None:
        blocks.append(_section(line))
    if registration.status in _AWAITING_DESK:
        blocks.append(decision_buttons(registration, block_id="review-actions", case=case))
    return Message(text=_fallback(registration, registration.status.label), blocks=blocks)


@dataclass(frozen=True, slots=True)
class DeskCase:
    """What the desk's buttons need to know of a registration's findings: the claims that
    still hold, counted, and the likenesses (weak matches) by name."""

    counts: FindingCounts
    likenesses: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, registration: Registration, findings: Sequence[StoredFinding], *, now: datetime
    ) -> DeskCase:
        weak = likenesses(registration.id, findings, now=now)
        return cls(
            live_counts(registration.id, findings, now=now),
            tuple(claim_title(f.details) for f in weak),
        )

    @property
    def conflicted(self) -> bool:
        return self.counts.conflicts > 0


def conflict_summary(counts: FindingCounts, *, waiting: bool = True) -> str:
    """The desk's summary line of the claims that still hold, e.g. *Conflict check:
    2 conflicts, 1 possible conflict*; while a conflict holds and the desk decides, how."""
    parts = [
        _plural(counts.conflicts, "conflict"),
        _plural(counts.possible, "possible conflict"),
    ]
    found = ", ".join(part for part in parts if part)
    ended = f" ({_plural(counts.ended, 'claim')} found no longer held)" if counts.ended else ""
    if not found:
        if counts.ended:
            return f":white_check_mark: *Conflict check:* no claim found holds any more{ended}"
        return ":white_check_mark: *Conflict check:* no existing claim found"
    text = f":warning: *Conflict check:* {found}{ended}"
    if counts.conflicts and waiting:
        text += ". Settle who owns the customer in the thread below: *Approve* asks it too."
    return text


def claim_title(details: ClaimDetails) -> str:
    """A claim as the desk names it in one line, e.g. `DR-0002 by Globex (Initech, in
    review)` or `direct account 0015 (Initech Inc)` (plain text: escape it for mrkdwn)."""
    claim = details.claim
    company = details.company_name or claim.company.name
    if claim.kind is ClaimKind.registration:
        status = f", {claim.status.label.lower()}" if claim.status else ""
        return f"{claim.label} by {details.partner_name or 'a partner'} ({company}{status})"
    return f"direct {claim.label} ({company})"


def _plural(n: int, noun: str) -> str:
    if n == 0:
        return ""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def decision_buttons(
    registration: Registration,
    *,
    block_id: str,
    case: DeskCase | None = None,
    approve: str = "Approve",
) -> ActionsBlock:
    """Approve / Reject / Request info, each carrying the registration id and version seen.

    Approving a registration with a likeness (`case`) asks for confirmation, naming it.
    `approve` labels the first button (App Home offers a conflicted registration's case)."""
    value = _ref(registration)
    confirm = None
    if case is not None and case.likenesses and not case.conflicted:
        confirm = ConfirmObject(
            title="Approve despite a likeness?",
            text=_likeness_confirmation(registration, case.likenesses),
            confirm="Approve",
            deny="Cancel",
        )
    return ActionsBlock(
        block_id=block_id,
        elements=[
            _button(approve, Action.review_approve, value, "primary", confirm=confirm),
            _button("Reject", Action.review_reject, value, "danger"),
            _button("Request info", Action.review_request_info, value),
        ],
    )


def _likeness_confirmation(registration: Registration, names: Sequence[str]) -> str:
    """The approval confirmation naming the likenesses (Slack allows 300 characters)."""
    head = f"The check found a possible match for {registration.reference}: "
    tail = ". A likeness never blocks: approve if it is another customer."
    more = f" and {len(names) - 2} more" if len(names) > 2 else ""
    room = 300 - len(head) - len(tail) - len(more)
    return head + escape_fit("; ".join(names[:2]), room) + more + tail


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
    decider = _who(registration.decided_by) if desk else "the desk"
    if notice is Notice.received:
        due = slack_date(registration.decision_due_at, _DUE)
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
        reason = _rejection(registration).removeprefix("Not approved: ")
        text = (
            f":x: {ref} rejected by {decider}: {reason}"
            if desk
            else f":x: {ref} was not approved: {reason}"
        )
    elif notice is Notice.info_requested:
        question = quote_fit(registration.info_request or "", 2500)
        text = (
            f":question: {_who(info_asker(registration))} asked the partner about {ref}:\n"
            f"{question}"
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
    return Message(text=text, blocks=[_section(text)])


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
        who = mention(note.by_user_id) if note.by_user_id else "Someone on the direct team"
        link = note.link or ""
        evidence = f" (<{link}|evidence>)" if link.startswith(("https://", "http://")) else ""
        return (
            f":raising_hand: {who} is working {company} directly and disputes {ref}:\n"
            f"{quote_fit(note.note, 2000)}{evidence}"
        )
    label = resolution.resolution.label if resolution else "Resolved"
    outcome = _outcome(registration)
    if resolution is not None and resolution.subject_id != registration.id:
        text = (
            f":scales: {_who(registration.decided_by)} settled the conflict on "
            f"*{resolution.subject_reference}* (*{label}*): {ref} is {outcome}."
        )
    else:
        text = (
            f":scales: {_who(registration.decided_by)} settled the conflict: *{label}*. "
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


def build_direct_notice(
    registration: Registration, partner: Partner, notice: DirectNotice
) -> Message:
    """A direct message to a direct owner, or to a rep who said "I'm working this"
    (`working`): how the desk settled an overlap on their customer (internal: it names the
    partner). A plain decision on the review card (`decision`) reads as such, not as a
    resolution."""
    if notice.decision in _DECISIONS:
        label, outcome = _DECISIONS[notice.decision]
    elif notice.resolution is not None:
        label, outcome = notice.resolution.label, _RESOLVED[notice.resolution]
    else:
        label, outcome = "Resolved", "settled"
    whose = (
        "a customer you said you are working" if notice.working else "a customer you own in the CRM"
    )
    text = (
        f":scales: The deal desk settled an overlap with {whose}: "
        f"{registration.reference} ({escape_fit(registration.details.company, 200)}) from "
        f"partner {escape_fit(partner.name, 200)}.\n*{label}*: {outcome}.\n"
        f"{quote_fit(notice.reason, 2000)}"
    )
    text = truncate(text, 3000)
    return Message(text=text, blocks=[_section(text)])


_DECISIONS = {
    Decision.approve: (
        "Approved",
        "the desk approved the partner's registration on its review card",
    ),
    Decision.reject: (
        "Rejected",
        "the desk rejected the partner's registration on its review card",
    ),
}
"""A plain decision's label and outcome in a direct notice."""
_RESOLVED = {
    Resolution.award_partner: "the customer goes to the partner",
    Resolution.award_existing: "the customer stays with its existing owner",
    Resolution.co_sell: "a co-sell: you and the partner work it together",
    Resolution.duplicate: "the registration is a duplicate; nothing changes for you",
    Resolution.reject_both: "the partner registrations are rejected",
    Resolution.request_info: "the desk asked the partner for more information first",
}
"""A resolution's outcome in a direct notice."""
