"""What counts as a website a person typed, defined once."""

from __future__ import annotations

import re

_WEBSITE = re.compile(
    r"^(?:https?://)?"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
    r"(?::\d{1,5})?(?:[/?#]\S*)?$",
    re.IGNORECASE,
)


def is_website(text: str) -> bool:
    """A host name with a letters-only top-level domain, with or without a scheme, port or
    path (`acme.com`, `https://www.acme.co.uk/about`); `2.0` or `v1.2` is not one."""
    return _WEBSITE.match(text) is not None
