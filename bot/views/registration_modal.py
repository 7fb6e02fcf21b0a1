"""The deal registration modal: build it (optionally prefilled) and parse what comes back."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import (
    Block as SlackBlock,
)
from slack_sdk.models.blocks import (
    ContextBlock,
    DatePickerElement,
    EmailInputElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.blocks.basic_components import DispatchActionConfig
from slack_sdk.models.views import View

from bot.ids import Block, Callback
from bot.views.common import (
    FormContext,
    countries,
    escape_fit,
    fold,
    quote_fit,
    slack_date,
    truncate,
)
from bot.views.render import render
from domain.amounts import parse_amount
from domain.checks import PrecheckResult
from domain.dates import add_years, todays_dates
from domain.errors import InvalidInput
from domain.matching import CompanyRef
from domain.partner import Partner
from domain.policy import ProgramPolicy
from domain.registration import DealDetails, DealStage, Registration

MAX_COMPANY = 200
MAX_WEBSITE = 255
MAX_CONTACT_NAME = 200
MAX_EMAIL = 254
MAX_NOTES = 3000
MAX_OPTIONS = 100
CLOSE_DATE_YEARS = 2
"""A close date may be at most this many calendar years ahead."""
AMOUNT_EXAMPLES = "84500, 84,500, $84,500 or 84.5k"
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

_WEBSITE = re.compile(
    r"^(?:https?://)?"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
    r"(?::\d{1,5})?(?:[/?#]\S*)?$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LIMITS = (
    (Block.company, MAX_COMPANY, "company name"),
    (Block.website, MAX_WEBSITE, "website"),
    (Block.contact_name, MAX_CONTACT_NAME, "contact's name"),
    (Block.contact_email, MAX_EMAIL, "e-mail address"),
    (Block.notes, MAX_NOTES, "notes"),
)


@dataclass(frozen=True, slots=True)
class RegistrationForm:
    """A valid submission: the deal details and, when the picker was shown, the partner."""

    details: DealDetails
    partner_id: int | None = None


_BLANK = DealDetails(
    company="",
    website="",
    country="",
    amount=Decimal(0),
    currency="",
    close_date=date.min,
    products=(),
)


def _option(text: str, value: str) -> Option:
    return Option(text=truncate(text, 75), value=truncate(value, 150))


def _country_groups() -> list[OptionGroup]:
    """Every country, grouped by initial so each group stays under Slack's 100 options."""
    groups: dict[str, list[Option]] = {}
    for code, name in countries():
        groups.setdefault(fold(name)[:1] or "?", []).append(_option(name, code))
    return [OptionGroup(label=letter, options=options) for letter, options in groups.items()]


def _product_options(program: ProgramPolicy) -> list[Option]:
    return [_option(product, product) for product in program.products[:MAX_OPTIONS]]


def _input(
    block: Block, label: str, element: Any, *, optional: bool = False, hint: str | None = None
) -> InputBlock:
    return InputBlock(block_id=block, label=label, element=element, optional=optional, hint=hint)


def _plain(
    block: Block,
    initial: str | None,
    limit: int,
    *,
    multiline: bool = False,
    placeholder: str = "",
    dispatch: bool = False,
) -> PlainTextInputElement:
    return PlainTextInputElement(
        action_id=block,
        initial_value=truncate(initial, limit) if initial else None,
        max_length=limit,
        multiline=multiline or None,
        placeholder=placeholder or None,
        dispatch_action_config=(
            DispatchActionConfig(trigger_actions_on=["on_enter_pressed"]) if dispatch else None
        ),
    )


def _prechecked(block: Block, label: str, element: PlainTextInputElement) -> InputBlock:
    """An input that sends `block_actions` when Enter is pressed in it (Slack then shows
    "Press Enter" under it); the value is kept and still submitted with the form."""
    return InputBlock(block_id=block, label=label, element=element, dispatch_action=True)


def _select(block: Block, options: list[Option], initial: Option | None) -> StaticSelectElement:
    return StaticSelectElement(
        action_id=block, placeholder="Choose…", options=options, initial_option=initial
    )


def build_registration_modal(
    *,
    program: ProgramPolicy,
    context: FormContext,
    prefill: DealDetails | None = None,
    partners: Sequence[Partner] | None = None,
    info_request: str | None = None,
    precheck: PrecheckResult | None = None,
) -> View:
    """The registration form; prefilled when the partner answers an info request, with the
    neutral pre-check line under the website when one is given."""
    blocks: list[SlackBlock] = []
    if info_request:
        question = quote_fit(info_request, 2900)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*The desk asks:*\n{question}")))
    if partners:
        options = [_option(p.name, str(p.id)) for p in partners[:MAX_OPTIONS]]
        current = next((o for o in options if o.value == str(context.partner_id)), None)
        blocks.append(_input(Block.partner, "Partner", _select(Block.partner, options, current)))
    d = prefill or _BLANK
    known = dict(countries())
    country = StaticSelectElement(
        action_id=Block.country,
        placeholder="Choose a country",
        option_groups=_country_groups(),
        initial_option=_option(known[d.country], d.country) if d.country in known else None,
    )
    product_options = _product_options(program)
    chosen = {truncate(product, 150) for product in d.products}
    products = StaticMultiSelectElement(
        action_id=Block.products,
        placeholder="Choose products",
        options=product_options,
        initial_options=[o for o in product_options if o.value in chosen] or None,
    )
    stages = [_option(stage.label, stage.value) for stage in DealStage]
    stage = next((o for o in stages if d.stage and o.value == d.stage.value), None)
    amount_hint = f"In {program.currency}. Type {AMOUNT_EXAMPLES}."
    close = DatePickerElement(
        action_id=Block.close_date,
        initial_date=d.close_date.isoformat() if prefill else None,
        placeholder="Expected close date",
    )
    email = EmailInputElement(action_id=Block.contact_email, initial_value=d.contact_email)
    amount = _plain_amount(d) if prefill else None
    blocks += [
        _prechecked(
            Block.company, "Company", _plain(Block.company, d.company, MAX_COMPANY, dispatch=True)
        ),
        _prechecked(
            Block.website,
            "Company website",
            _plain(Block.website, d.website, MAX_WEBSITE, placeholder="acme.com", dispatch=True),
        ),
        *([build_precheck_block(precheck)] if precheck is not None else []),
        _input(Block.country, "Country", country),
        _input(
            Block.amount,
            f"Estimated amount ({program.currency})",
            _plain(Block.amount, amount, 50),
            hint=amount_hint,
        ),
        _input(Block.close_date, "Expected close date", close),
        _input(Block.products, "Products", products),
        _input(
            Block.contact_name,
            "Customer contact",
            _plain(Block.contact_name, d.contact_name, MAX_CONTACT_NAME),
            optional=True,
        ),
        _input(Block.contact_email, "Contact e-mail", email, optional=True),
        _input(Block.stage, "Deal stage", _select(Block.stage, stages, stage), optional=True),
        _input(
            Block.notes,
            "Notes for the desk",
            _plain(Block.notes, d.notes, MAX_NOTES, multiline=True),
            optional=True,
        ),
    ]
    updating = context.registration_id is not None
    return View(
        type="modal",
        callback_id=Callback.registration_submit,
        private_metadata=context.model_dump_json(),
        title="Update registration" if updating else "Register a deal",
        submit="Submit",
        close="Cancel",
        blocks=blocks,
    )


def _plain_amount(details: DealDetails) -> str:
    amount = details.amount
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"


def _value(values: Mapping[str, Any], block: Block) -> dict[str, Any]:
    entry: dict[str, Any] = values.get(block, {}).get(block) or {}
    return entry


def _text(values: Mapping[str, Any], block: Block) -> str:
    return str(_value(values, block).get("value") or "").strip()


def _selected(values: Mapping[str, Any], block: Block) -> str | None:
    option = _value(values, block).get("selected_option")
    return str(option["value"]) if option else None


def parse_registration_submission(
    values: Mapping[str, Any], *, program: ProgramPolicy, now: datetime
) -> RegistrationForm | dict[str, str]:
    """The submitted form as a RegistrationForm, or errors keyed by input block id. `now`
    bounds the close date (see `_close_date`)."""
    errors: dict[str, str] = {}
    company, website = _text(values, Block.company), _text(values, Block.website)
    for block, limit, what in _LIMITS:
        if len(_text(values, block)) > limit:
            errors[block] = f"Keep the {what} under {limit} characters."
    if not company:
        errors[Block.company] = "Enter the customer's company name."
    if not website:
        errors[Block.website] = "Enter the company's website, such as acme.com."
    elif not _WEBSITE.match(website):
        errors[Block.website] = "Enter a website such as acme.com or https://www.acme.co.uk."
    country = _selected(values, Block.country)
    if country is None:
        errors[Block.country] = "Choose the customer's country."
    elif country not in dict(countries()):
        errors[Block.country] = "Choose a country from the list."
    amount = None
    try:
        amount = parse_amount(_text(values, Block.amount), currency=program.currency)
    except InvalidInput as error:
        errors[Block.amount] = error.message
    close_date = _close_date(_value(values, Block.close_date).get("selected_date"), now, errors)
    products = _products(values, program, errors)
    contact_email = _text(values, Block.contact_email) or None
    if contact_email and not _EMAIL.match(contact_email):
        errors[Block.contact_email] = "Enter an e-mail address such as jane@acme.com."
    stage = _selected(values, Block.stage)
    if stage is not None and stage not in {s.value for s in DealStage}:
        errors[Block.stage] = "Choose a stage from the list."
    partner = _selected(values, Block.partner)
    if partner is not None and not partner.isdigit():
        errors[Block.partner] = "Choose a partner from the list."
    if errors:
        return errors
    assert country is not None
    assert amount is not None
    assert close_date is not None
    details = DealDetails(
        company=company,
        website=website,
        country=country,
        amount=amount,
        currency=program.currency,
        close_date=close_date,
        products=products,
        contact_name=_text(values, Block.contact_name) or None,
        contact_email=contact_email,
        stage=DealStage(stage) if stage else None,
        notes=_text(values, Block.notes) or None,
    )
    return RegistrationForm(details=details, partner_id=int(partner) if partner else None)


def _close_date(raw: object, now: datetime, errors: dict[str, str]) -> date | None:
    """The picked date, if it is not in the past and at most two calendar years ahead. The
    picker gives a date in the user's time zone, which we don't know: any date that is today
    somewhere on earth counts as today, and the two years run from the latest such date."""
    if not raw:
        errors[Block.close_date] = "Pick the expected close date."
        return None
    try:
        picked = date.fromisoformat(str(raw))
    except ValueError:
        errors[Block.close_date] = "Pick the expected close date."
        return None
    earliest, latest_today = todays_dates(now)
    if picked < earliest:
        errors[Block.close_date] = "The close date can't be in the past."
    elif picked > add_years(latest_today, CLOSE_DATE_YEARS):
        errors[Block.close_date] = "Pick a date within two years."
    return picked


def _products(
    values: Mapping[str, Any], program: ProgramPolicy, errors: dict[str, str]
) -> tuple[str, ...]:
    by_value = {truncate(p, 150): p for p in program.products}
    chosen = [str(o["value"]) for o in _value(values, Block.products).get("selected_options") or []]
    if not chosen:
        errors[Block.products] = "Choose at least one product."
    elif any(value not in by_value for value in chosen):
        errors[Block.products] = "Choose products from the list; one is no longer offered."
    return tuple(by_value[value] for value in chosen if value in by_value)


def precheck_ref(values: Mapping[str, Any]) -> CompanyRef | None:
    """The customer as typed so far, once the company and a plausible website are filled
    (a name alone says too little); the country and contact e-mail join in when given,
    as they would on submission. None: nothing to check yet."""
    company, website = _text(values, Block.company), _text(values, Block.website)
    if not company or len(company) > MAX_COMPANY:
        return None
    if len(website) > MAX_WEBSITE or not _WEBSITE.match(website):
        return None
    email = _text(values, Block.contact_email)
    country = _selected(values, Block.country)
    return CompanyRef(
        name=company,
        domain=website,
        email=email if len(email) <= MAX_EMAIL and _EMAIL.match(email) else None,
        country=country if country in dict(countries()) else None,
    )


def picked_partner(values: Mapping[str, Any]) -> int | None:
    """The partner staff picked in the form so far (None: no picker, or nothing picked)."""
    picked = _selected(values, Block.partner)
    return int(picked) if picked is not None and picked.isdigit() else None


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


def build_submitted_view(registration: Registration, partner: Partner) -> View:
    """The modal a partner sees once the registration is stored."""
    text = (
        f"*{registration.reference}* received. The desk will review it; "
        f"its status card is in the channel.\n"
        f"Company: {escape_fit(registration.details.company, 1000)}\n"
        f"Registered for {escape_fit(partner.name, 1000)}."
    )
    return build_message_modal("Deal registered", text)


def build_message_modal(title: str, text: str) -> View:
    """A plain informational (or error) modal; `text` is mrkdwn the caller has escaped."""
    return View(
        type="modal",
        callback_id=Callback.notice,
        title=truncate(title, 24),
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))],
    )
