"""The desk's review card: every field, what the conflict check found, the decision buttons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, ConfirmObject
from slack_sdk.models.blocks import Block as SlackBlock

from bot.ids import Action
from bot.views.blocks import button, context, fields, registration_header, section
from bot.views.card_text import card_fallback, info_asker, rejection_text
from bot.views.common import (
    DUE_FORMAT,
    Message,
    RegistrationRef,
    country_name,
    escape_fit,
    format_age,
    mention,
    on_date,
    plain_date,
    plural,
    protected_until,
    quote_fit,
    slack_date,
    who,
)
from domain.amounts import format_amount
from domain.conflicts import ClaimKind, FindingCounts
from domain.ownership import ClaimDetails, StoredFinding, likenesses, live_counts
from domain.partner import Partner
from domain.policy import ProgramPolicy
from domain.registration import Registration, RegistrationStatus


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
    status = registration.status
    contact = " · ".join(escape_fit(x, 900) for x in (d.contact_name, d.contact_email) if x)
    blocks: list[SlackBlock] = [
        registration_header(registration),
        fields(
            [
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
        ),
    ]
    case = DeskCase.of(registration, findings or (), now=now)
    if findings is not None:
        blocks.append(section(conflict_summary(case.counts, waiting=status.is_open)))
    if working_by:
        people = [mention(user) for user in list(dict.fromkeys(working_by))[:20]]
        blocks.append(section(":raising_hand: Disputed by " + ", ".join(people)))
    if d.notes:
        blocks.append(section("*Notes*\n" + quote_fit(d.notes, 2980)))
    timing = f"Submitted {slack_date(registration.created_at, DUE_FORMAT)}"
    if status.is_open:
        timing += f" · decision due {slack_date(registration.decision_due_at, DUE_FORMAT)}"
    if status.awaits_desk and now > registration.decision_due_at:
        timing += f" (overdue by {format_age(now - registration.decision_due_at)})"
    blocks.append(context(timing))
    line = _desk_line(registration)
    if line is not None:
        blocks.append(section(line))
    if status.awaits_desk:
        blocks.append(decision_buttons(registration, block_id="review-actions", case=case))
    return Message(text=card_fallback(registration, status.label), blocks=blocks)


def _submitter(registration: Registration, host_team_id: str | None) -> str:
    actor = registration.submitted_by
    if host_team_id is not None and actor.team_id == host_team_id:
        return mention(actor.user_id)
    return f"{mention(actor.user_id)} (team {actor.team_id})"


def _desk_line(registration: Registration) -> str | None:
    """Where the registration stands once the desk (or the partner) moved it."""
    status, on = registration.status, on_date(registration.decided_at)
    if status is RegistrationStatus.approved:
        protected = protected_until(registration.protected_until)
        return f":white_check_mark: Approved by {who(registration.decided_by)}{on}{protected}."
    if status is RegistrationStatus.rejected:
        return f":x: Rejected by {who(registration.decided_by)}{on} — " + rejection_text(
            registration
        ).removeprefix("Not approved: ")
    if status is RegistrationStatus.info_requested:
        question = quote_fit(registration.info_request or "", 2800)
        return f":question: Info requested by {who(info_asker(registration))}:\n{question}"
    if status is RegistrationStatus.withdrawn:
        return f"Withdrawn by the partner on {slack_date(registration.updated_at)}."
    if not status.awaits_desk:
        return f"Status: {status.label}."
    return None


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
    found = ", ".join(
        plural(count, noun)
        for count, noun in ((counts.conflicts, "conflict"), (counts.possible, "possible conflict"))
        if count
    )
    ended = f" ({plural(counts.ended, 'claim')} found no longer held)" if counts.ended else ""
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
    value = RegistrationRef.of(registration).model_dump_json()
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
            button(approve, Action.review_approve, value, "primary", confirm=confirm),
            button("Reject", Action.review_reject, value, "danger"),
            button("Request info", Action.review_request_info, value),
        ],
    )


def _likeness_confirmation(registration: Registration, names: Sequence[str]) -> str:
    """The approval confirmation naming the likenesses (Slack allows 300 characters)."""
    head = f"The check found a possible match for {registration.reference}: "
    tail = ". A likeness never blocks: approve if it is another customer."
    more = f" and {len(names) - 2} more" if len(names) > 2 else ""
    room = 300 - len(head) - len(tail) - len(more)
    return head + escape_fit("; ".join(names[:2]), room) + more + tail
