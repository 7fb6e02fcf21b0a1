"""The deal registration modal: the form, optionally prefilled, and the view once submitted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import (
    Block as SlackBlock,
)
from slack_sdk.models.blocks import (
    DatePickerElement,
    EmailInputElement,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.ids import Block, Callback
from bot.views.blocks import build_message_modal, form_modal, section
from bot.views.common import FormContext, countries, escape_fit, fold, quote_fit, truncate
from bot.views.forms import option, text_input
from bot.views.precheck import build_precheck_block
from bot.views.registration_form import MAX_COMPANY, MAX_CONTACT_NAME, MAX_NOTES, MAX_WEBSITE
from domain.checks import PrecheckResult
from domain.partner import Partner
from domain.policy import ProgramPolicy
from domain.registration import DealDetails, DealStage, Registration

MAX_OPTIONS = 100
AMOUNT_EXAMPLES = "84500, 84,500, $84,500 or 84.5k"

_BLANK = DealDetails(
    company="",
    website="",
    country="",
    amount=Decimal(0),
    currency="",
    close_date=date.min,
    products=(),
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
        blocks.append(section(f"*The desk asks:*\n{quote_fit(info_request, 2900)}"))
    if partners:
        options = [option(p.name, str(p.id)) for p in partners[:MAX_OPTIONS]]
        current = next((o for o in options if o.value == str(context.partner_id)), None)
        blocks.append(_input(Block.partner, "Partner", _select(Block.partner, options, current)))
    d = prefill or _BLANK
    known = dict(countries())
    country = StaticSelectElement(
        action_id=Block.country,
        placeholder="Choose a country",
        option_groups=_country_groups(),
        initial_option=option(known[d.country], d.country) if d.country in known else None,
    )
    product_options = [option(product, product) for product in program.products[:MAX_OPTIONS]]
    chosen = {truncate(product, 150) for product in d.products}
    products = StaticMultiSelectElement(
        action_id=Block.products,
        placeholder="Choose products",
        options=product_options,
        initial_options=[o for o in product_options if o.value in chosen] or None,
    )
    stages = [option(stage.label, stage.value) for stage in DealStage]
    stage = next((o for o in stages if d.stage and o.value == d.stage.value), None)
    amount_hint = f"In {program.currency}. Type {AMOUNT_EXAMPLES}."
    close = DatePickerElement(
        action_id=Block.close_date,
        initial_date=d.close_date.isoformat() if prefill else None,
        placeholder="Expected close date",
    )
    email = EmailInputElement(action_id=Block.contact_email, initial_value=d.contact_email)
    amount = _plain_amount(d) if prefill else None
    company = text_input(Block.company, MAX_COMPANY, initial=d.company, dispatch=True)
    website = text_input(
        Block.website, MAX_WEBSITE, initial=d.website, placeholder="acme.com", dispatch=True
    )
    blocks += [
        _prechecked(Block.company, "Company", company),
        _prechecked(Block.website, "Company website", website),
        *([build_precheck_block(precheck)] if precheck is not None else []),
        _input(Block.country, "Country", country),
        _input(
            Block.amount,
            f"Estimated amount ({program.currency})",
            text_input(Block.amount, 50, initial=amount),
            hint=amount_hint,
        ),
        _input(Block.close_date, "Expected close date", close),
        _input(Block.products, "Products", products),
        _input(
            Block.contact_name,
            "Customer contact",
            text_input(Block.contact_name, MAX_CONTACT_NAME, initial=d.contact_name),
            optional=True,
        ),
        _input(Block.contact_email, "Contact e-mail", email, optional=True),
        _input(Block.stage, "Deal stage", _select(Block.stage, stages, stage), optional=True),
        _input(
            Block.notes,
            "Notes for the desk",
            text_input(Block.notes, MAX_NOTES, initial=d.notes, multiline=True),
            optional=True,
        ),
    ]
    updating = context.registration_id is not None
    return form_modal(
        Callback.registration_submit,
        context.model_dump_json(),
        title="Update registration" if updating else "Register a deal",
        submit="Submit",
        blocks=blocks,
    )


def build_submitted_view(registration: Registration, partner: Partner) -> View:
    """The modal a partner sees once the registration is stored."""
    text = (
        f"*{registration.reference}* received. The desk will review it; "
        f"its status card is in the channel.\n"
        f"Company: {escape_fit(registration.details.company, 1000)}\n"
        f"Registered for {escape_fit(partner.name, 1000)}."
    )
    return build_message_modal("Deal registered", text)


def _country_groups() -> list[OptionGroup]:
    """Every country, grouped by initial so each group stays under Slack's 100 options."""
    groups: dict[str, list[Option]] = {}
    for code, name in countries():
        groups.setdefault(fold(name)[:1] or "?", []).append(option(name, code))
    return [OptionGroup(label=letter, options=options) for letter, options in groups.items()]


def _input(
    block: Block, label: str, element: Any, *, optional: bool = False, hint: str | None = None
) -> InputBlock:
    return InputBlock(block_id=block, label=label, element=element, optional=optional, hint=hint)


def _prechecked(block: Block, label: str, element: PlainTextInputElement) -> InputBlock:
    """An input that sends `block_actions` when Enter is pressed in it (Slack then shows
    "Press Enter" under it); the value is kept and still submitted with the form."""
    return InputBlock(block_id=block, label=label, element=element, dispatch_action=True)


def _select(block: Block, options: list[Option], initial: Option | None) -> StaticSelectElement:
    return StaticSelectElement(
        action_id=block, placeholder="Choose…", options=options, initial_option=initial
    )


def _plain_amount(details: DealDetails) -> str:
    amount = details.amount
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"
