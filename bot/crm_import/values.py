"""Reading single cells of a CRM export: a spreadsheet's spellings of yes/no flags, dates,
countries, owners and amounts.

Each reader takes the trimmed text of one cell and returns the value, or raises ValueError
with a short reason that the row error shows after the column name. What a valid e-mail
address or Slack user id is, the domain says (`domain.email_addresses`, `domain.slack_ids`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from domain.amounts import parse_amount
from domain.email_addresses import is_email_address
from domain.errors import InvalidInput
from domain.matching.folding import fold
from domain.slack_ids import SlackUserId, is_slack_user_id

_MEMO = 4096
"""Distinct cells remembered per reader: a CRM export repeats its owners, types, countries."""
_TRUE = frozenset({"yes", "y", "true", "t", "1", "x"})
_FALSE = frozenset({"no", "n", "false", "f", "0", ""})

# 03/01/2024, 3/1/24, 03/01/2024 10:00, 3/1/2024 1:05 PM; 01.03.2024 (day first), 14:30.
_SLASHED = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    r"(?:[ ,T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<half>[ap]m)?)?$",
    re.IGNORECASE,
)
_TZ_WORD = re.compile(r"\s+(?:utc|gmt)$", re.IGNORECASE)
_ZERO = re.compile(r"^[$€£¥]?\s*0+(?:\.0+)?$")

_COUNTRY_CODES = {"UK": "GB", "EL": "GR"}
_COUNTRIES = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "united kingdom": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "gbr": "GB",
    "germany": "DE",
    "deutschland": "DE",
    "deu": "DE",
    "france": "FR",
    "fra": "FR",
    "canada": "CA",
    "can": "CA",
    "australia": "AU",
    "aus": "AU",
    "new zealand": "NZ",
    "ireland": "IE",
    "netherlands": "NL",
    "the netherlands": "NL",
    "holland": "NL",
    "belgium": "BE",
    "luxembourg": "LU",
    "switzerland": "CH",
    "schweiz": "CH",
    "austria": "AT",
    "osterreich": "AT",
    "spain": "ES",
    "espana": "ES",
    "portugal": "PT",
    "italy": "IT",
    "italia": "IT",
    "sweden": "SE",
    "norway": "NO",
    "denmark": "DK",
    "finland": "FI",
    "iceland": "IS",
    "poland": "PL",
    "czech republic": "CZ",
    "czechia": "CZ",
    "greece": "GR",
    "israel": "IL",
    "turkey": "TR",
    "turkiye": "TR",
    "united arab emirates": "AE",
    "uae": "AE",
    "saudi arabia": "SA",
    "south africa": "ZA",
    "india": "IN",
    "china": "CN",
    "hong kong": "HK",
    "japan": "JP",
    "south korea": "KR",
    "korea, republic of": "KR",
    "singapore": "SG",
    "brazil": "BR",
    "brasil": "BR",
    "mexico": "MX",
    "argentina": "AR",
    "chile": "CL",
    "colombia": "CO",
}


def read_flag(text: str) -> bool:
    """yes/no, true/false, 1/0, x or empty (false)."""
    value = text.strip().casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{text!r} is not yes or no")


def read_amount(text: str) -> Decimal | None:
    """An amount as `parse_amount` reads it; empty or zero (CRMs' "no amount yet") is None."""
    if not text or _ZERO.match(text):
        return None
    try:
        return parse_amount(text)
    except InvalidInput:
        raise ValueError(f"{text!r} is not an amount (such as 84500 or 84,500.00)") from None


def read_datetime(text: str) -> datetime | None:
    """ISO dates/datetimes, US `03/01/2024` and EU `01.03.2024` forms, as aware UTC datetimes.

    Slashed dates are month first (US, as Salesforce and HubSpot export them) unless the first
    number cannot be a month; dotted dates are day first. Times without an offset are UTC.
    """
    if not text:
        return None
    cleaned = _TZ_WORD.sub("", text.strip())
    value = _iso(cleaned) or _slashed(cleaned)
    if value is None:
        raise ValueError(f"{text!r} is not a date (such as 2024-03-01)")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _iso(text: str) -> datetime | None:
    if not text[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        return None


def _slashed(text: str) -> datetime | None:
    match = _SLASHED.match(text)
    if match is None:
        return None
    a, b = int(match["a"]), int(match["b"])
    month, day = (b, a) if match["sep"] == "." or a > 12 else (a, b)
    year = int(match["year"])
    if year < 100:
        year += 2000 if year < 70 else 1900
    hour = int(match["hour"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["half"].lower() == "pm" else 0)
    try:
        return datetime(
            year, month, day, hour, int(match["minute"] or 0), int(match["second"] or 0)
        )
    except ValueError:
        return None


@lru_cache(maxsize=_MEMO)
def read_country(text: str) -> str | None:
    """An ISO-3166 alpha-2 code when recognisable (`uk`, `Germany`, `USA`), else the text."""
    value = text.strip()
    if not value:
        return None
    if len(value) == 2 and value.isalpha():
        code = value.upper()
        return _COUNTRY_CODES.get(code, code)
    return _COUNTRIES.get(fold(value), value)


@lru_cache(maxsize=_MEMO)
def read_email(text: str) -> str | None:
    """A lower-cased e-mail address."""
    if not text:
        return None
    if not is_email_address(text):
        raise ValueError(f"{text!r} is not an e-mail address")
    return text.casefold()


def read_slack_user(text: str) -> SlackUserId | None:
    """A Slack user id such as U012AB3CD."""
    if not text:
        return None
    if not is_slack_user_id(text):
        raise ValueError(f"{text!r} is not a Slack user id (U…)")
    return text


@lru_cache(maxsize=_MEMO)
def read_owner(text: str) -> tuple[SlackUserId | None, str | None]:
    """(Slack id, e-mail) of a CRM owner cell; a display name identifies nobody, so neither."""
    if is_slack_user_id(text):
        return text, None
    if is_email_address(text):
        return None, text.casefold()
    return None, None
