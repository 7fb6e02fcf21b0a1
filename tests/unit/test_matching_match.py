"""match(): same customer or not, with evidence and a strength a human can check."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.matching import (
    Aliases,
    CompanyRef,
    Evidence,
    MatchRules,
    Signal,
    Strength,
    match,
)


def a_ref(name: str = "Acme Widgets", **overrides: object) -> CompanyRef:
    """A CompanyRef with sensible blanks; override any field."""
    fields: dict[str, object] = {"domain": None, "email": None, "country": None}
    fields.update(overrides)
    return CompanyRef(name=name, **fields)  # type: ignore[arg-type]


def evidence(a: CompanyRef, b: CompanyRef, **kwargs: object) -> Evidence:
    """match() that must find something."""
    found = match(a, b, **kwargs)  # type: ignore[arg-type]
    assert found is not None
    return found


class TestDomains:
    def test_same_registrable_website_is_a_conflict(self) -> None:
        found = evidence(
            a_ref("Microsoft Corporation", domain="https://www.microsoft.com/de-de"),
            a_ref("Microsoft Deutschland GmbH", domain="microsoft.com"),
        )
        assert found.strength is Strength.conflict
        assert found.has(Signal.same_domain)

    def test_same_contact_email_domain_is_a_conflict_even_with_other_names(self) -> None:
        found = evidence(
            a_ref("Industria de Diseño Textil", email="x@inditex.com"),
            a_ref("Zara Buying Office", email="y@mail.inditex.com"),
        )
        assert found.strength is Strength.conflict
        assert found.has(Signal.same_email_domain)

    def test_website_of_one_equals_email_domain_of_the_other(self) -> None:
        found = evidence(
            a_ref("Inditex", domain="inditex.com"), a_ref("ITX", email="a@inditex.com")
        )
        assert found.has(Signal.same_email_domain)

    def test_freemail_addresses_never_count(self) -> None:
        assert (
            match(a_ref("Blue Bottle", email="a@gmail.com"), a_ref("Sunrise", email="b@gmail.com"))
            is None
        )
        assert (
            match(a_ref("Pixel Forge", domain="gmail.com"), a_ref("Northwind", domain="gmail.com"))
            is None
        )

    def test_hosting_platform_subdomains_are_different_companies(self) -> None:
        a = a_ref("Lantern Candle Co", domain="lanterncandles.myshopify.com")
        b = a_ref("Peak Outdoor Gear", domain="peakoutdoor.myshopify.com")
        assert match(a, b) is None

    def test_country_code_sibling_alone_is_not_a_match(self) -> None:
        assert (
            match(
                a_ref("Mitre 10 New Zealand", domain="mitre10.co.nz"),
                a_ref("Mitre 10 Australia", domain="mitre10.com.au"),
            )
            is None
        )

    def test_country_code_sibling_supports_a_name_match(self) -> None:
        found = evidence(
            a_ref("Siemens AG", domain="siemens.com"), a_ref("Siemens", domain="siemens.ch")
        )
        assert found.has(Signal.sibling_domain)
        assert found.has(Signal.name_equal)


class TestNames:
    def test_equal_names_after_normalisation_are_a_conflict(self) -> None:
        found = evidence(a_ref("The Boeing Company", country="US"), a_ref("BOEING", country="us"))
        assert found.strength is Strength.conflict
        assert found.has(Signal.name_equal)
        assert found.has(Signal.country_agrees)

    def test_equal_names_in_different_countries_are_no_match_by_default(self) -> None:
        assert match(a_ref("Target", country="US"), a_ref("Target", country="AU")) is None
        a = a_ref("Siemens AG", domain="siemens.com", country="DE")
        b = a_ref("Siemens Schweiz AG", email="x@siemens.com", country="CH")
        assert evidence(a, b).strength is Strength.conflict

    def test_a_regional_arm_or_an_alias_still_counts_across_countries(self) -> None:
        arm = evidence(a_ref("Siemens Schweiz AG", country="CH"), a_ref("Siemens AG", country="DE"))
        assert arm.has(Signal.regional_arm)
        renamed = evidence(a_ref("Facebook", country="IE"), a_ref("Meta Platforms", country="US"))
        assert renamed.has(Signal.alias)
        assert match(a_ref("Metro", country="DE"), a_ref("Metro", country="CA")) is None

    def test_rules_can_keep_name_only_evidence_across_countries_for_review(self) -> None:
        rules = MatchRules(names_across_countries=True)
        found = evidence(a_ref("Target", country="US"), a_ref("Target", country="AU"), rules=rules)
        assert found.strength is Strength.possible
        assert found.has(Signal.country_differs)

    def test_same_name_other_country_and_other_website_is_no_match(self) -> None:
        a = a_ref("Metro AG", domain="metroag.de", country="DE")
        b = a_ref("Metro Inc.", domain="metro.ca", country="CA")
        assert match(a, b) is None

    @pytest.mark.parametrize(
        ("a", "b"),
        [
            ("Acme", "Acme Dental Supplies"),
            ("Apple", "Apple Bank"),
            ("American Airlines", "American Express"),
            ("General Motors", "General Mills"),
            ("Air China", "Air Canada"),
            ("Dollar General", "Dollar Tree"),
        ],
    )
    def test_a_shared_word_is_not_the_same_company(self, a: str, b: str) -> None:
        assert match(a_ref(a), a_ref(b)) is None

    def test_a_typo_is_possible_never_conflict(self) -> None:
        found = evidence(a_ref("Microsfot", country="US"), a_ref("Microsoft Corp", country="US"))
        assert found.strength is Strength.possible
        assert found.has(Signal.fuzzy_name)
        assert 0.85 <= found.score < 1.0

    def test_fuzzy_threshold_comes_from_the_rules(self) -> None:
        strict = MatchRules(fuzzy_threshold=0.95, fuzzy_compact_threshold=0.95)
        assert match(a_ref("Microsfot"), a_ref("Microsoft"), rules=strict) is None

    def test_short_names_are_not_fuzzy_matched(self) -> None:
        assert match(a_ref("Aon"), a_ref("Avon")) is None

    def test_regional_arm_is_possible(self) -> None:
        found = evidence(a_ref("Siemens Schweiz AG"), a_ref("Siemens AG"))
        assert found.has(Signal.regional_arm)
        assert found.strength is Strength.possible

    def test_initialism_is_possible(self) -> None:
        found = evidence(
            a_ref("International Business Machines Corp"), a_ref("I.B.M."), aliases=Aliases.none()
        )
        assert found.has(Signal.initialism)
        assert found.strength is Strength.possible

    def test_initialism_across_countries_is_no_match(self) -> None:
        a = a_ref("NEC Corporation", country="JP")
        b = a_ref("National Exhibition Centre Ltd", country="GB")
        assert match(a, b, aliases=Aliases.none()) is None


class TestAliases:
    def test_shipped_renames_are_conflicts(self) -> None:
        found = evidence(a_ref("Facebook, Inc."), a_ref("Meta Platforms Inc."))
        assert found.has(Signal.alias)
        assert found.strength is Strength.conflict

    def test_admins_can_add_pairs(self) -> None:
        a, b = a_ref("Acme Widgets"), a_ref("Zenith Gadgets")
        assert match(a, b) is None
        extended = Aliases.default().with_pairs([("Zenith Gadgets Ltd", "Acme Widgets")])
        assert evidence(a, b, aliases=extended).has(Signal.alias)
        assert len(extended) == len(Aliases.default()) + 1

    def test_no_aliases_means_no_alias_findings(self) -> None:
        assert match(a_ref("Facebook"), a_ref("Meta Platforms"), aliases=Aliases.none()) is None


def test_products_in_common_are_listed_as_support() -> None:
    a = CompanyRef("Acme Widgets", products=frozenset({"crm", "erp"}))
    b = CompanyRef("Acme Widgets Inc.", products=frozenset({"erp"}))
    found = evidence(a, b)
    assert found.has(Signal.product_overlap)
    assert all(
        f.strength is Strength.support for f in found.findings if f.signal is Signal.product_overlap
    )


_NAMES = st.sampled_from(
    [
        "Acme",
        "Acme Inc.",
        "ACME GmbH",
        "Acme Schweiz AG",
        "Acmee",
        "IBM",
        "International Business Machines",
        "Facebook",
        "Meta Platforms",
        "Apple Bank",
        "Siemens",
        "Zenith Ltd",
        "",
        "!!",
        "Würth",
        "Wuerth",
    ]
)
_DOMAINS = st.sampled_from([None, "acme.com", "acme.de", "www.acme.com", "gmail.com", "zenith.io"])
_EMAILS = st.sampled_from([None, "a@acme.com", "b@gmail.com", "c@zenith.io", "d@acme.de"])
_COUNTRIES = st.sampled_from([None, "US", "DE", "us", "GB", ""])
REFS = st.builds(CompanyRef, name=_NAMES, domain=_DOMAINS, email=_EMAILS, country=_COUNTRIES)


@given(REFS, REFS)
def test_match_is_symmetric(a: CompanyRef, b: CompanyRef) -> None:
    assert match(a, b) == match(b, a)


@given(REFS, REFS)
def test_evidence_always_has_a_conflict_or_possible_finding(a: CompanyRef, b: CompanyRef) -> None:
    found = match(a, b)
    if found is not None:
        assert found.strength in (Strength.conflict, Strength.possible)
        assert any(f.strength is not Strength.support for f in found.findings)
