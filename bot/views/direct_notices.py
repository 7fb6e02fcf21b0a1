"""Direct messages to the direct team: how the desk resolved an overlap on their customer."""

from __future__ import annotations

from collections.abc import Mapping

from bot.views.blocks import section
from bot.views.common import Message, escape_fit, quote_fit, truncate
from bot.views.notices import resolution_label
from domain.messages import ROLE_WORKING
from domain.ownership import Resolution
from domain.partner import Partner
from domain.registration import Registration

_DECISIONS = {
    "approve": ("Approved", "the desk approved the partner's registration on its review card"),
    "reject": ("Rejected", "the desk rejected the partner's registration on its review card"),
}
"""A plain decision's label and outcome in a direct notice, by `Decision` value."""

_OUTCOMES = {
    Resolution.award_partner.value: "the customer goes to the partner",
    Resolution.award_existing.value: "the customer stays with its existing owner",
    Resolution.co_sell.value: "a co-sell: you and the partner work it together",
    Resolution.duplicate.value: "the registration is a duplicate; nothing changes for you",
    Resolution.reject_both.value: "the partner registrations are rejected",
    Resolution.request_info.value: "the desk asked the partner for more information first",
}
"""What a resolution means for the direct owner, by stored `Resolution` value."""


def build_direct_notice(
    registration: Registration, partner: Partner, data: Mapping[str, str]
) -> Message:
    """A direct message to a direct owner, or to a rep who left a working note (`role`): how
    the desk resolved an overlap on their customer (internal: it names the partner). A plain
    decision on the review card (`decision`) reads as such, not as a resolution."""
    resolution = data.get("resolution", "")
    label, outcome = _DECISIONS.get(data.get("decision", ""), ("", ""))
    if not label:
        label = resolution_label(resolution)
        outcome = _OUTCOMES.get(resolution, "settled")
    whose = (
        "a customer you said you are working"
        if data.get("role") == ROLE_WORKING
        else "a customer you own in the CRM"
    )
    text = (
        f":scales: The deal desk settled an overlap with {whose}: "
        f"{registration.reference} ({escape_fit(registration.details.company, 200)}) from "
        f"partner {escape_fit(partner.name, 200)}.\n*{label}*: {outcome}.\n"
        f"{quote_fit(data.get('reason', ''), 2000)}"
    )
    text = truncate(text, 3000)
    return Message(text=text, blocks=[section(text)])
