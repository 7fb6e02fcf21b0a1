"""The registration modal's pre-check: the customer as typed so far, and the neutral line under
the website saying whether a claim may already exist (it never names anyone)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, PlainTextObject

from bot.ids import Block
from bot.views.common import countries, escape_fit, slack_date, truncate
from bot.views.forms import selected, text_of
from bot.views.registration_form import MAX_COMPANY, MAX_EMAIL, MAX_WEBSITE
from bot.views.render import render
from domain.checks import PrecheckResult
from domain.email_addresses import is_email_address
from domain.matching import CompanyRef
from domain.websites import is_website

PRECHECK_CLEAR = "No existing claim found."
PRECHECK_OVERLAP = "This may overlap an existing claim; the desk will review it."
PRECHECK_NONE_OWN = "You have no registration of this customer yet."
"""What a partner hears when it holds no registration of the customer, whoever else may."""
PRECHECK_OWN_LISTED = 3
"""At most this many of the partner's own registrations are listed, newest first."""
PRECHECKED_INPUTS = (Block.company, Block.website)
"""The inputs that dispatch a pre-check when the user presses Enter in them."""
_VIEW_FIELDS = (
    "type",
    "callback_id",
    "private_metadata",
    "title",
    "submit",
    "close",
    "blocks",
    "clear_on_close",
    "notify_on_close",
    "external_id",
)
"""What a view definition may carry; the rest of a view Slack sends back is its own state."""


def precheck_ref(values: Mapping[str, Any]) -> CompanyRef | None:
    """The customer as typed so far, once the company and a plausible website are filled
    (a name alone says too little); the country and contact e-mail join in when given,
    as they would on submission. None: nothing to check yet."""
    company, website = text_of(values, Block.company), text_of(values, Block.website)
    if not company or len(company) > MAX_COMPANY:
        return None
    if len(website) > MAX_WEBSITE or not is_website(website):
        return None
    email = text_of(values, Block.contact_email)
    country = selected(values, Block.country)
    return CompanyRef(
        name=company,
        domain=website,
        email=email if len(email) <= MAX_EMAIL and is_email_address(email) else None,
        country=country if country in dict(countries()) else None,
    )


def build_precheck_block(result: PrecheckResult) -> ContextBlock:
    """The line under the website: the partner's own registrations of the customer, and,
    for those allowed to know, whether another claim may overlap, in the same words whoever
    holds it (another partner or the direct team); what was checked, as plain text."""
    checked = " · ".join(x for x in (result.checked.name, result.checked.domain) if x)
    return ContextBlock(
        block_id=Block.precheck,
        elements=[
            MarkdownTextObject(text=_precheck_verdict(result)),
            PlainTextObject(text=truncate(f"Checked: {checked}", 500), emoji=False),
        ],
    )


def _precheck_verdict(result: PrecheckResult) -> str:
    lines = []
    if result.own:
        lines.append(f":information_source: {_own_registrations(result)}")
    elif result.others_may_overlap is None:
        lines.append(f":information_source: {PRECHECK_NONE_OWN}")
    if result.others_may_overlap:
        lines.append(f":warning: {PRECHECK_OVERLAP}")
    elif result.others_may_overlap is False and not result.own:
        lines.append(f":white_check_mark: {PRECHECK_CLEAR}")
    return "\n".join(lines)


def _own_registrations(result: PrecheckResult) -> str:
    """`You registered this customer on <date>: NW-0004, in review.` (staff read the
    partner's name instead of "You"); several are listed newest first."""
    partner = result.partner
    who = escape_fit(partner.name, 200) if result.staff and partner is not None else "You"
    own = result.own
    if len(own) == 1:
        [only] = own
        return (
            f"{who} registered this customer on {slack_date(only.created_at)}: "
            f"{only.reference}, {only.status.label.lower()}."
        )
    listed = "; ".join(
        f"{r.reference} on {slack_date(r.created_at)}, {r.status.label.lower()}"
        for r in own[:PRECHECK_OWN_LISTED]
    )
    more = len(own) - PRECHECK_OWN_LISTED
    and_more = f"; and {more} more" if more > 0 else ""
    return f"{who} registered this customer {len(own)} times: {listed}{and_more}."


def has_precheck(view: Mapping[str, Any]) -> bool:
    """Whether a view (as Slack sends it back) shows a pre-check line."""
    return any(b.get("block_id") == Block.precheck for b in view.get("blocks") or [])


def with_precheck(view: Mapping[str, Any], result: PrecheckResult | None) -> dict[str, Any]:
    """The form as Slack sent it back, for `views.update`: every block as it was (same
    block_id and action_id, so Slack keeps what the user typed), the old pre-check line
    dropped and the new one, if any, placed right after the website input."""
    definition = {k: view[k] for k in _VIEW_FIELDS if view.get(k) not in (None, "")}
    blocks: list[dict[str, Any]] = []
    for block in view.get("blocks") or []:
        if block.get("block_id") == Block.precheck:
            continue
        blocks.append(dict(block))
        if result is not None and block.get("block_id") == Block.website:
            blocks.append(render(build_precheck_block(result)))
    definition["blocks"] = blocks
    return definition
