"""Reading deal amounts the way people type them: 84500, 84,500, $84,500, 84.5k, 1.2m."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from domain.errors import InvalidInput

_MULTIPLIERS = {"": 1, "k": 1_000, "m": 1_000_000, "mm": 1_000_000, "b": 1_000_000_000}
_PATTERN = re.compile(
    r"^(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*(?P<suffix>k|mm|m|b)?$"
)
_CURRENCY_MARKS = "$€£¥"
MAX_AMOUNT = Decimal("1000000000000")


def parse_amount(text: str, *, currency: str = "USD") -> Decimal:
    """The amount in `text` as a Decimal with two places; raises InvalidInput if unreadable."""
    cleaned = text.strip().lower().replace(" ", "").replace("\u00a0", "")
    if cleaned.startswith(currency.lower()):
        cleaned = cleaned[len(currency) :]
    elif cleaned.endswith(currency.lower()):
        cleaned = cleaned[: -len(currency)]
    cleaned = cleaned.strip(_CURRENCY_MARKS)
    match = _PATTERN.match(cleaned)
    if not match:
        raise InvalidInput(
            "Enter an amount such as 84500, 84,500, $84,500 or 84.5k.", field="amount"
        )
    try:
        number = Decimal(match["number"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise InvalidInput("Enter an amount such as 84500.", field="amount") from None
    value = (number * _MULTIPLIERS[match["suffix"] or ""]).quantize(Decimal("0.01"))
    if value <= 0:
        raise InvalidInput("The amount must be more than zero.", field="amount")
    if value >= MAX_AMOUNT:
        raise InvalidInput("That amount is too large; check the number.", field="amount")
    return value


def format_amount(amount: Decimal, currency: str) -> str:
    """`USD 84,500` (cents only when there are some)."""
    whole = amount == amount.to_integral_value()
    text = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    return f"{currency} {text}"
