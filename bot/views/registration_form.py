"""What comes back from the registration modal: each field checked against its limits, read
into the deal's details, or errors keyed by input block."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.ids import Block
from bot.views.common import countries, truncate
from bot.views.forms import entry, keep_under, selected, text_of
from domain.amounts import parse_amount
from domain.dates import add_years, todays_dates
from domain.email_addresses import is_email_address
from domain.errors import InvalidInput
from domain.policy import ProgramPolicy
from domain.registration import DealDetails, DealStage
from domain.websites import is_website

MAX_COMPANY = 200
MAX_WEBSITE = 255
MAX_CONTACT_NAME = 200
MAX_EMAIL = 254
MAX_NOTES = 3000
CLOSE_DATE_YEARS = 2
"""A close date may be at most this many calendar years ahead."""

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


def parse_registration_submission(
    values: Mapping[str, Any], *, program: ProgramPolicy, now: datetime
) -> RegistrationForm | dict[str, str]:
    """The submitted form as a RegistrationForm, or errors keyed by input block id. `now`
    bounds the close date (see `_close_date`)."""
    errors: dict[str, str] = {}
    company, website = text_of(values, Block.company), text_of(values, Block.website)
    for block, limit, what in _LIMITS:
        if len(text_of(values, block)) > limit:
            errors[block] = keep_under(f"the {what}", limit)
    if not company:
        errors[Block.company] = "Enter the customer's company name."
    if not website:
        errors[Block.website] = "Enter the company's website, such as acme.com."
    elif not is_website(website):
        errors[Block.website] = "Enter a website such as acme.com or https://www.acme.co.uk."
    country = selected(values, Block.country)
    if country is None:
        errors[Block.country] = "Choose the customer's country."
    elif country not in dict(countries()):
        errors[Block.country] = "Choose a country from the list."
    amount = None
    try:
        amount = parse_amount(text_of(values, Block.amount), currency=program.currency)
    except InvalidInput as error:
        errors[Block.amount] = error.message
    close_date = _close_date(entry(values, Block.close_date).get("selected_date"), now, errors)
    products = _products(values, program, errors)
    contact_email = text_of(values, Block.contact_email) or None
    if contact_email and not is_email_address(contact_email):
        errors[Block.contact_email] = "Enter an e-mail address such as jane@acme.com."
    stage = selected(values, Block.stage)
    if stage is not None and stage not in {s.value for s in DealStage}:
        errors[Block.stage] = "Choose a stage from the list."
    partner = selected(values, Block.partner)
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
        contact_name=text_of(values, Block.contact_name) or None,
        contact_email=contact_email,
        stage=DealStage(stage) if stage else None,
        notes=text_of(values, Block.notes) or None,
    )
    return RegistrationForm(details=details, partner_id=int(partner) if partner else None)


def picked_partner(values: Mapping[str, Any]) -> int | None:
    """The partner staff picked in the form so far (None: no picker, or nothing picked)."""
    picked = selected(values, Block.partner)
    return int(picked) if picked is not None and picked.isdigit() else None


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
    chosen = [str(o["value"]) for o in entry(values, Block.products).get("selected_options") or []]
    if not chosen:
        errors[Block.products] = "Choose at least one product."
    elif any(value not in by_value for value in chosen):
        errors[Block.products] = "Choose products from the list; one is no longer offered."
    return tuple(by_value[value] for value in chosen if value in by_value)
