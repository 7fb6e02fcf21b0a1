"""A registration's reference, as partners and the desk quote it: the partner's code and
its number (`NW-0007`), or `DR-0012` for one given before partners had codes."""

from __future__ import annotations

import re

LEGACY_CODE = "DR"
"""The prefix of the references given before partners had codes (`DR-0012` is registration
12); never a partner's code, so old and new references cannot clash."""


def format_reference(code: str, number: int) -> str:
    """`NW-0007`: the `number`th registration of the partner whose code is `code` (a number
    past 9999 just gets more digits)."""
    return f"{code}-{number:04d}"


def legacy_reference(registration_id: int) -> str:
    """`DR-0012`: the reference registration 12 was given before partners had codes (it
    keeps it; the `DR` prefix is never a partner's code)."""
    return format_reference(LEGACY_CODE, registration_id)


_REFERENCE = re.compile(r"([A-Z][A-Z0-9]{1,5})\s*-\s*0*(\d{1,12})")


def parse_reference(text: str) -> str | None:
    """A reference as typed, in the form it is stored (`nw-7 ` -> `NW-0007`, `DR-12` ->
    `DR-0012`), or None when `text` does not look like one."""
    found = _REFERENCE.fullmatch(text.strip().upper())
    if found is None:
        return None
    code, digits = found.groups()
    return format_reference(code, int(digits))
