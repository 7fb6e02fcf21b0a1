"""Website and e-mail domains reduced to the registrable domain, free-mail excluded."""

import socket

import pytest

from domain.matching import domains
from domain.matching.domains import (
    email_domain,
    freemail_domains,
    is_country_sibling,
    is_freemail,
    org_domain,
    registrable_domain,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme.com", "acme.com"),
        ("https://WWW.Acme.com/about?x=1#top", "acme.com"),
        ("http://shop.eu.acme.co.uk/path", "acme.co.uk"),
        ("www2.hm.com/en_gb/index.html", "hm.com"),
        ("http://user@acme.com:8080/x", "acme.com"),
        ("acme.com.", "acme.com"),
        ("home.barclays", "home.barclays"),
        ("octolabs.github.io", "octolabs.github.io"),
        ("x.myshopify.com/products", "x.myshopify.com"),
        ("bluefern.wordpress.com", "bluefern.wordpress.com"),
        ("facebook.com", "facebook.com"),
        ("facebook.com/acmebakery", None),
        ("localhost", None),
        ("10.0.0.1", None),
        ("not a domain", None),
        ("", None),
        (None, None),
    ],
)
def test_reduces_a_website_to_its_registrable_domain(
    value: str | None, expected: str | None
) -> None:
    assert registrable_domain(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("jane@acme.com", "acme.com"),
        ("Jane Doe <jane@Mail.Acme.DE>", "acme.de"),
        ("x@sub.acme.co.uk", "acme.co.uk"),
        ("no-at-sign", None),
        ("x@", None),
        (None, None),
    ],
)
def test_reduces_an_email_to_its_registrable_domain(
    value: str | None, expected: str | None
) -> None:
    assert email_domain(value) == expected


@pytest.mark.parametrize(
    "domain", ["gmail.com", "outlook.com", "yahoo.co.uk", "t-online.de", "web.de", "qq.com"]
)
def test_freemail_domains_never_identify_an_organisation(domain: str) -> None:
    assert is_freemail(domain)
    assert org_domain(domain) is None


def test_freemail_list_is_a_few_hundred_lower_case_domains() -> None:
    listed = freemail_domains()
    assert len(listed) >= 300
    assert all(d == d.strip().casefold() and "." in d for d in listed)
    assert org_domain("acme.com") == "acme.com"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("siemens.com", "siemens.ch", True),
        ("target.com", "target.com.au", True),
        ("nestle.com", "nestle.co.uk", True),
        ("siemens.com", "siemens.com", False),
        ("acme.com", "acme.net", False),
        ("acme.io", "acme.com", False),
        ("foo.github.io", "foo.de", False),
        ("hm.com", "hm.se", False),
        ("siemens.com", "siemens-energy.com", False),
    ],
)
def test_country_code_siblings(a: str, b: str, expected: bool) -> None:
    assert is_country_sibling(a, b) is expected
    assert is_country_sibling(b, a) is expected


def test_uses_the_bundled_suffix_list_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    domains._extractor.cache_clear()
    domains._REGISTRABLE.clear()
    registrable_domain.cache_clear()
    assert registrable_domain("https://www.unseen-before.co.uk/") == "unseen-before.co.uk"
    assert registrable_domain("shop.unseen-before.myshopify.com") == "unseen-before.myshopify.com"


def test_a_registrable_domain_is_its_own_for_every_suffix_rule() -> None:
    """What lets a host's answer be remembered for its registrable domain as well."""
    for rule in domains._extractor().tlds:
        base = rule.removeprefix("!").removeprefix("*.")
        for host in (f"x.{base}", f"www.x.{base}", f"a.b.x.{base}", "www.acme.wordpress.com"):
            found = domains._parse_registrable(host)
            if found is not None:
                assert domains._parse_registrable(found[0]) == found, host


def test_remembers_the_answer_for_the_registrable_domain_too() -> None:
    domains._REGISTRABLE.clear()
    assert registrable_domain("https://www.remembered-once.co.uk/x") == "remembered-once.co.uk"
    assert domains._REGISTRABLE["remembered-once.co.uk"] == (
        "remembered-once.co.uk",
        "remembered-once",
        "co.uk",
        False,
    )


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.read-before.co.uk/x", "read-before.co.uk"),
        ("shop.read-before.myshopify.com", "read-before.myshopify.com"),
        ("https://www.linkedin.com/company/read-before", None),
    ],
)
def test_a_domain_read_before_reads_as_itself_as_it_did_the_first_time(
    website: str, domain: str | None
) -> None:
    """An imported record is keyed by the domain its website was reduced to."""
    domains._REGISTRABLE.clear()
    registrable_domain.cache_clear()
    assert registrable_domain(website) == domain
    for again in {domain or "linkedin.com", (domain or "linkedin.com").upper()}:
        registrable_domain.cache_clear()
        remembered = registrable_domain(again)
        domains._REGISTRABLE.clear()
        registrable_domain.cache_clear()
        assert remembered == registrable_domain(again) == (domain or "linkedin.com")
