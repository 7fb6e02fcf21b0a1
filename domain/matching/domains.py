"""Website and e-mail domains reduced to the registrable domain of the organisation."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import tldextract

# Hosting platforms missing from the public suffix list's private section: each customer
# lives on a subdomain, so the subdomain is what identifies the organisation.
HOSTING_DOMAINS = frozenset(
    {
        "wordpress.com",
        "business.site",
        "squarespace.com",
        "weebly.com",
        "godaddysites.com",
        "mystrikingly.com",
        "jimdo.com",
        "jimdosite.com",
        "tumblr.com",
        "substack.com",
        "medium.com",
        "wix.com",
        "shopify.com",
    }
)
# Profile and page platforms: a URL with a path on them names a page, not the company.
PROFILE_DOMAINS = frozenset(
    {
        "facebook.com",
        "linkedin.com",
        "instagram.com",
        "twitter.com",
        "x.com",
        "youtube.com",
        "google.com",
        "linktr.ee",
        "yelp.com",
        "github.com",
        "tiktok.com",
        "xing.com",
    }
)
# Country codes mostly used as generic TLDs, which say nothing about a country.
_GENERIC_CC = frozenset({"io", "co", "ai", "tv", "me", "cc", "fm", "ly", "to", "gg", "sh", "vc"})
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_HOST_CHARS = re.compile(r"^[^\s/?#@:\\]+$")


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    """The offline extractor: bundled suffix-list snapshot, private suffixes on, no cache dir."""
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


@lru_cache(maxsize=1)
def freemail_domains() -> frozenset[str]:
    """The shipped free-mail/ISP domain list, loaded once."""
    text = resources.files("domain.data").joinpath("freemail.txt").read_text(encoding="utf-8")
    lines = (line.strip().casefold() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_freemail(domain: str) -> bool:
    """True when the registrable domain is a free-mail or ISP mailbox provider."""
    return domain.casefold() in freemail_domains()


def _split_url(value: str) -> tuple[str, str]:
    """Host and path of a website value typed by a person (scheme optional)."""
    text = value.strip().casefold()
    text = _SCHEME.sub("", text)
    if "@" in text.split("/", 1)[0]:
        text = text.split("/", 1)[0].rsplit("@", 1)[1]
    host, _, rest = text.partition("/")
    host = host.split("?", 1)[0].split("#", 1)[0].split(":", 1)[0].strip(".")
    path = rest.split("?", 1)[0].split("#", 1)[0].strip("/")
    return host, path


Registrable = tuple[str, str, str, bool]
"""(registrable domain, label, suffix, private?) of a host."""
_REGISTRABLE: dict[str, Registrable | None] = {}
_REGISTRABLE_MAX = 65536


def _registrable(host: str) -> Registrable | None:
    """(registrable domain, label, suffix, private?) of a host; None for IPs and bare names.

    Remembered for the host and for the registrable domain itself, which is its own: a
    record's website (``https://www.acme.com/``) is read once on import, and its keys and
    every match read the domain it was reduced to (``acme.com``), each a tldextract call
    otherwise. Forgets everything when full (most hosts are seen once).
    """
    if host in _REGISTRABLE:
        return _REGISTRABLE[host]
    found = _parse_registrable(host)
    if len(_REGISTRABLE) >= _REGISTRABLE_MAX:
        _REGISTRABLE.clear()
    _REGISTRABLE[host] = found
    if found is not None:
        _REGISTRABLE[found[0]] = found
    return found


def _parse_registrable(host: str) -> Registrable | None:
    if not host or not _HOST_CHARS.match(host):
        return None
    parts = _extractor()(host)
    if not parts.suffix or not parts.domain:
        return None
    top = f"{parts.domain}.{parts.suffix}"
    if top in HOSTING_DOMAINS and parts.subdomain:
        label = parts.subdomain.rsplit(".", 1)[-1]
        if label != "www":
            return f"{label}.{top}", label, top, True
    return top, parts.domain, parts.suffix, bool(parts.is_private)


@lru_cache(maxsize=65536)
def registrable_domain(value: str | None) -> str | None:
    """The registrable domain of a website (``https://www.shop.acme.co.uk/x`` → ``acme.co.uk``)."""
    if not value:
        return None
    known = _REGISTRABLE.get(value)
    if known is not None and known[0] == value:
        return value  # a domain this reduced a website to: an imported record's, keyed
    host, path = _split_url(value)
    found = _registrable(host)
    if found is None:
        return None
    domain = found[0]
    if domain in PROFILE_DOMAINS and path:
        return None
    return domain


@lru_cache(maxsize=65536)
def email_domain(value: str | None) -> str | None:
    """The registrable domain of an e-mail address (``a@mail.acme.de`` → ``acme.de``)."""
    if not value or "@" not in value:
        return None
    host = value.strip().rsplit("@", 1)[1].strip().strip(">").casefold().strip(".")
    found = _registrable(host)
    return found[0] if found else None


def org_domain(domain: str | None) -> str | None:
    """The domain unless it is a free-mail/ISP one, which never identifies an organisation."""
    if domain is None or is_freemail(domain):
        return None
    return domain


def domain_label(domain: str) -> tuple[str, str] | None:
    """(label, suffix) of a registrable domain, e.g. ``("siemens", "co.uk")``; None if hosted."""
    found = _registrable(domain)
    return (found[1], found[2]) if found and not found[3] else None


def is_country_sibling(a: str, b: str) -> bool:
    """True for ``x.de`` vs ``x.com``: same label, different suffix, one a country code."""
    if a == b:
        return False
    left, right = domain_label(a), domain_label(b)
    if left is None or right is None or left[0] != right[0] or len(left[0]) < 3:
        return False
    return _is_cc(left[1]) or _is_cc(right[1])


def _is_cc(suffix: str) -> bool:
    """True when a suffix ends in a country-code TLD used as one (``de``, ``co.uk``, not ``io``)."""
    last = suffix.rsplit(".", 1)[-1]
    return len(last) == 2 and last.isascii() and last.isalpha() and last not in _GENERIC_CC
