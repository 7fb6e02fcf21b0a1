"""find_conflicts(): which existing claims look like the same customer, strongest first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.conflicts import (
    Claim,
    ClaimKind,
    ConflictRules,
    FindingCounts,
    account_ref,
    company_ref,
    count_findings,
    find_conflicts,
    opportunity_ref,
    warm_up,
)
from domain.crm import Account, Opportunity
from domain.matching import (
    Aliases,
    CompanyRef,
    MatchRules,
    Signal,
    Strength,
    candidate_keys,
    domains,
    lookup_keys,
)
from domain.registration import DealDetails, RegistrationStatus

NOW = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
RULES = ConflictRules()
ACME = CompanyRef("Acme Industries", domain="acme.com", country="US", products=frozenset({"Cloud"}))


def a_registration_claim(claim_id: int = 1, **overrides: Any) -> Claim:
    """An under-review registration of partner 7 for Acme."""
    fields: dict[str, Any] = {
        "kind": ClaimKind.registration,
        "id": claim_id,
        "company": CompanyRef("Acme Corporation", domain="www.acme.com", country="US"),
        "partner_id": 7,
        "status": RegistrationStatus.under_review,
        "created_at": NOW - timedelta(days=3),
    }
    fields.update(overrides)
    return Claim(**fields)


def an_account_claim(claim_id: int = 1, **overrides: Any) -> Claim:
    fields: dict[str, Any] = {
        "kind": ClaimKind.account,
        "id": claim_id,
        "company": CompanyRef("ACME Corp.", domain="acme.com", country="US"),
        "external_id": "0011",
        "owner_slack_id": "U0DIRECT",
    }
    fields.update(overrides)
    return Claim(**fields)


def an_opportunity_claim(claim_id: int = 1, **overrides: Any) -> Claim:
    fields: dict[str, Any] = {
        "kind": ClaimKind.opportunity,
        "id": claim_id,
        "company": CompanyRef("Acme", domain="acme.com"),
        "external_id": "0061",
        "stage": "Negotiation",
        "owner_email": "dana@vendor.example",
        "last_activity_at": NOW - timedelta(days=2),
    }
    fields.update(overrides)
    return Claim(**fields)


class TestRegistrationsAgainstRegistrations:
    def test_flags_another_partners_registration_of_the_same_website(self) -> None:
        [found] = find_conflicts(ACME, [a_registration_claim(partner_id=9)], RULES)

        assert found.claim_kind is ClaimKind.registration
        assert found.strength is Strength.conflict
        assert found.evidence[0].signal is Signal.same_domain
        assert found.evidence[0].detail == "acme.com"

    def test_flags_the_same_partners_own_earlier_registration(self) -> None:
        [found] = find_conflicts(ACME, [a_registration_claim(partner_id=7)], RULES)

        assert found.claim.partner_id == 7
        assert found.strength is Strength.conflict

    @pytest.mark.parametrize(
        "status",
        [
            RegistrationStatus.rejected,
            RegistrationStatus.withdrawn,
            RegistrationStatus.won,
            RegistrationStatus.lost,
            RegistrationStatus.expired,
            RegistrationStatus.cancelled,
        ],
    )
    def test_ignores_registrations_that_no_longer_hold_a_claim(
        self, status: RegistrationStatus
    ) -> None:
        assert find_conflicts(ACME, [a_registration_claim(status=status)], RULES) == []

    def test_ignores_an_approval_whose_protection_ran_out(self) -> None:
        lapsed = a_registration_claim(
            status=RegistrationStatus.approved, protected_until=NOW - timedelta(seconds=1)
        )
        protected = a_registration_claim(
            2, status=RegistrationStatus.approved, protected_until=NOW + timedelta(days=1)
        )

        found = find_conflicts(ACME, [lapsed, protected], RULES, now=NOW)

        assert [f.claim_id for f in found] == [2]

    def test_skips_the_subjects_own_registration(self) -> None:
        claims = [a_registration_claim(1), a_registration_claim(2)]

        found = find_conflicts(ACME, claims, RULES, exclude_registration_id=1)

        assert [f.claim_id for f in found] == [2]

    def test_an_unrelated_company_is_no_finding(self) -> None:
        other = a_registration_claim(company=CompanyRef("Globex", domain="globex.example"))

        assert find_conflicts(ACME, [other], RULES) == []


class TestDirectClaims:
    def test_flags_a_named_account_with_its_owner(self) -> None:
        [found] = find_conflicts(ACME, [an_account_claim(is_named=True)], RULES)

        assert found.claim.is_named
        assert found.claim.owner == "U0DIRECT"
        assert found.strength is Strength.conflict
        assert Signal.same_domain in found.signals

    def test_flags_an_existing_customer(self) -> None:
        [found] = find_conflicts(ACME, [an_account_claim(is_customer=True)], RULES)

        assert found.claim.is_customer
        assert found.claim.label == "account 0011"

    def test_flags_an_open_opportunity(self) -> None:
        [found] = find_conflicts(ACME, [an_opportunity_claim()], RULES)

        assert found.claim.stage == "Negotiation"
        assert found.claim.owner == "dana@vendor.example"
        assert found.strength is Strength.conflict

    def test_ignores_a_closed_opportunity(self) -> None:
        closed = an_opportunity_claim(stage="Closed Lost")

        assert find_conflicts(ACME, [closed], RULES) == []


class TestStrength:
    def test_a_similar_name_alone_is_only_a_possible_conflict(self) -> None:
        similar = an_account_claim(company=CompanyRef("Acme Industriez"))

        [found] = find_conflicts(CompanyRef("Acme Industries"), [similar], RULES)

        assert found.strength is Strength.possible
        assert found.signals == (Signal.fuzzy_name,)
        assert 0.85 <= found.score < 1.0

    def test_evidence_keeps_the_qualifiers_after_the_signals(self) -> None:
        [found] = find_conflicts(ACME, [an_account_claim()], RULES)

        signals = [f.signal for f in found.evidence]
        assert signals[0] is Signal.same_domain
        assert Signal.country_agrees in signals[1:]

    def test_conflicts_come_before_possible_ones_and_named_accounts_lead(self) -> None:
        claims = [
            an_account_claim(1, company=CompanyRef("Acme Industriez")),
            a_registration_claim(2),
            an_opportunity_claim(3),
            an_account_claim(4, is_named=True),
        ]

        found = find_conflicts(ACME, claims, RULES)

        assert [(f.claim_kind, f.claim_id) for f in found] == [
            (ClaimKind.account, 4),
            (ClaimKind.opportunity, 3),
            (ClaimKind.registration, 2),
            (ClaimKind.account, 1),
        ]
        assert count_findings(found) == FindingCounts(conflicts=3, possible=1)

    def test_a_claim_listed_twice_is_one_finding(self) -> None:
        assert len(find_conflicts(ACME, [an_account_claim(), an_account_claim()], RULES)) == 1


class TestCompanyRefs:
    def test_a_registration_names_its_customer_by_website_contact_and_country(self) -> None:
        details = DealDetails(
            company="Acme Corp",
            website="https://www.acme.com",
            country="US",
            amount=Decimal(1),
            currency="USD",
            close_date=date(2025, 6, 30),
            products=("Cloud", "Support"),
            contact_email="wile@acme.com",
        )

        assert company_ref(details) == CompanyRef(
            "Acme Corp",
            domain="https://www.acme.com",
            email="wile@acme.com",
            country="US",
            products=frozenset({"Cloud", "Support"}),
        )

    def test_an_accounts_owner_email_is_not_the_customers(self) -> None:
        account = Account("0011", "Acme", domain="acme.com", owner_email="dana@vendor.example")

        assert account_ref(account).email is None

    def test_an_opportunity_names_its_customer(self) -> None:
        opportunity = Opportunity("0061", "0011", "Acme", domain="acme.com")

        assert opportunity_ref(opportunity) == CompanyRef("Acme", domain="acme.com")

    def test_keys_of_matching_records_intersect(self) -> None:
        assert RULES.keys(ACME) & RULES.keys(an_account_claim().company)

    def test_keys_are_the_matchings_under_the_rules_own_thresholds_and_aliases(self) -> None:
        aliased = ConflictRules(
            aliases=Aliases.none().with_pairs([("Acme Industries", "Roadrunner Co")])
        )
        for rules in (RULES, aliased, ConflictRules(match=MatchRules(block_prefix=6))):
            for ref in (ACME, an_account_claim().company, CompanyRef("Roadrunner Co")):
                assert rules.keys(ref) == candidate_keys(
                    ref, rules=rules.match, aliases=rules.aliases
                )
                assert rules.lookup_keys(ref) == lookup_keys(
                    ref, rules=rules.match, aliases=rules.aliases
                )
        assert aliased.keys(ACME) != RULES.keys(ACME)  # the rules' own aliases


def test_warming_up_loads_the_suffix_list_before_any_check() -> None:
    """As in a new process: nothing read yet (earlier tests filled these caches)."""
    for cache in (domains._extractor, domains.registrable_domain, domains.email_domain):
        cache.cache_clear()
    domains._REGISTRABLE.clear()

    warm_up(RULES)

    assert domains._extractor.cache_info().currsize == 1
