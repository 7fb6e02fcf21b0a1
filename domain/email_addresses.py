"""What counts as an e-mail address, defined once."""

from __future__ import annotations

import re

EMAIL_ADDRESS = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
"""One `@`, no spaces, a dot in the part after it: loose on purpose (the address is kept to
name or reach a person, never to prove it exists)."""

_EMAIL = re.compile(EMAIL_ADDRESS)


def is_email_address(text: str) -> bool:
    """Whether `text` reads as an e-mail address (`jane@acme.com`)."""
    return _EMAIL.match(text) is not None
