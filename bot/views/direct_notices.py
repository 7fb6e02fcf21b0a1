"""Direct messages to the direct team: how the desk resolved an overlap on their customer."""

from __future__ import annotations

from bot.views.blocks import section
from bot.views.common import Message, escape_fit, quote_fit, truncate
from domain.messages import DirectNotice
from domain.ownership import Decision, Resolution
from domain.partner import Partner
from domain.registration import Registration

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
"""What a resolution means for the direct owner."""


def build_direct_notice(
    registration: Registration, partner: Partner, notice: DirectNotice
) -> Message:
    """A direct message to a direct owner, or to a rep who left a working note (`working`):
    how the desk resolved an overlap on their customer (internal: it names the partner). A
    plain decision on the review card (`decision`) reads as such, not as a resolution."""
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
    return Message(text=text, blocks=[section(text)])
