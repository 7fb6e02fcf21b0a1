"""recommend(): DESIGN.md's "who owns the deal", applied in order to a registration's findings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.conflicts import Claim, ClaimKind, FindingCounts
from domain.matching import CompanyRef, Finding, Signal, Strength
from domain.ownership import (
    ClaimDetails,
    OwnershipRule,
    Recommendation,
    Resolution,
    StoredFinding,
    live_conflicts,
    live_counts,
    recommend,
    rejection_reason_for,
    resolutions_offered,
    second_owners,
)
from domain.registration import Registration, RegistrationStatus, RejectionReason
from tests.builders import NOW, a_registration

Status = RegistrationStatus
Rule = OwnershipRule
DAY = timedelta(days=1)
SUBJECT = a_registration(id=10, partner_id=7, created_at=NOW)


def a_claim(kind: ClaimKind, claim_id: int, **overrides: Any) -> Claim:
    """A claim on "Acme Corp": registrations of partner 8 in review, a day before NOW."""
    fields: dict[str, Any] = {"kind": kind, "id": claim_id, "company": CompanyRef("Acme Corp")}
    if kind is ClaimKind.registration:
        fields |= {"partner_id": 8, "status": Status.under_review, "created_at": NOW - DAY}
    elif kind is ClaimKind.opportunity:
        fields |= {"external_id": f"0063{claim_id}", "stage": "Negotiation"}
        fields |= {"created_at": NOW - DAY, "owner_slack_id": "U0OWNER"}
    else:
        fields |= {"external_id": f"0011{claim_id}", "owner_slack_id": "U0OWNER"}
    fields.update(overrides)
    return Claim(**fields)


def registration(claim_id: int, **overrides: Any) -> Claim:
    return a_claim(ClaimKind.registration, claim_id, **overrides)


def account(claim_id: int, **overrides: Any) -> Claim:
    return a_claim(ClaimKind.account, claim_id, **overrides)


def opportunity(claim_id: int, **overrides: Any) -> Claim:
    return a_claim(ClaimKind.opportunity, claim_id, **overrides)


def found(claim: Claim, strength: Strength = Strength.conflict) -> StoredFinding:
    signal = Signal.same_domain if strength is Strength.conflict else Signal.fuzzy_name
    evidence = (Finding(signal, strength, 1.0 if strength is Strength.conflict else 0.9),)
    return StoredFinding(ClaimDetails(claim), strength, evidence, found_at=NOW)


def advice(*claims: Claim | StoredFinding, subject: Registration = SUBJECT) -> Recommendation:
    findings = [c if isinstance(c, StoredFinding) else found(c) for c in claims]
    result = recommend(subject, findings, now=NOW)
    assert result is not None
    return result


class TestRulesInOrder:
    def test_a_named_account_stays_direct_before_anything_else(self) -> None:
        named = account(1, is_named=True, is_customer=True)
        result = advice(
            registration(5, status=Status.approved),
            opportunity(3),
            account(2, is_customer=True),
            named,
        )
        assert result == Recommendation(Resolution.award_existing, Rule.named_account, named)

    def test_an_existing_customer_goes_to_the_incumbent_before_opportunities(self) -> None:
        customer = account(2, is_customer=True)
        result = advice(registration(5, status=Status.approved), opportunity(3), customer)
        assert result == Recommendation(Resolution.award_existing, Rule.existing_customer, customer)

    def test_an_active_opportunity_wins_over_registrations(self) -> None:
        deal = opportunity(3, created_at=NOW - 5 * DAY)
        result = advice(registration(5, status=Status.approved), registration(6), deal)
        assert result == Recommendation(Resolution.award_existing, Rule.direct_opportunity, deal)

    def test_an_approved_registration_wins_over_an_earlier_one(self) -> None:
        earlier = registration(5, created_at=NOW - 9 * DAY)
        approved = registration(6, status=Status.approved, created_at=NOW - DAY)
        result = advice(earlier, approved)
        assert result == Recommendation(Resolution.duplicate, Rule.first_approved, approved)

    def test_otherwise_the_earlier_registration_of_another_partner_wins(self) -> None:
        earlier = registration(5, created_at=NOW - 2 * DAY)
        result = advice(registration(6, created_at=NOW - DAY), earlier)
        assert result == Recommendation(Resolution.award_existing, Rule.first_registered, earlier)

    def test_a_plain_crm_account_without_a_deal_is_shared_as_a_co_sell(self) -> None:
        plain = account(2)
        result = advice(plain)
        assert result == Recommendation(Resolution.co_sell, Rule.direct_account, plain)

    def test_beside_a_plain_account_a_later_registration_is_a_duplicate_of_the_first(
        self,
    ) -> None:
        earlier = registration(5, created_at=NOW - 2 * DAY)
        result = advice(account(2), earlier)
        assert result == Recommendation(Resolution.duplicate, Rule.first_registered, earlier)

    def test_an_approved_registration_wins_over_a_plain_account(self) -> None:
        approved = registration(6, status=Status.approved)
        result = advice(account(2), approved)
        assert result == Recommendation(Resolution.duplicate, Rule.first_approved, approved)


class TestDirectOpportunity:
    def test_co_sell_when_the_partner_registered_before_the_opportunity(self) -> None:
        deal = opportunity(3, created_at=NOW + DAY)
        result = advice(deal)
        assert result == Recommendation(Resolution.co_sell, Rule.direct_opportunity, deal)

    def test_the_opportunity_keeps_it_when_it_was_opened_first(self) -> None:
        assert advice(opportunity(3)).resolution is Resolution.award_existing

    def test_an_opportunity_without_a_date_is_never_first_for_the_partner(self) -> None:
        assert advice(opportunity(3, created_at=None)).resolution is Resolution.award_existing

    def test_the_oldest_opportunity_is_the_one_named(self) -> None:
        old = opportunity(4, created_at=NOW - 30 * DAY)
        assert advice(opportunity(3, created_at=NOW + DAY), old).claim == old


class TestRegistrations:
    def test_a_later_registration_for_an_approved_customer_is_a_duplicate(self) -> None:
        approved = registration(5, status=Status.approved, protected_until=NOW + 60 * DAY)
        result = advice(approved)
        assert result == Recommendation(Resolution.duplicate, Rule.first_approved, approved)
        assert result.reason == "The first approved registration wins; later ones are duplicates"

    def test_of_several_approved_claims_the_first_approved_is_named(self) -> None:
        first = registration(5, status=Status.approved, created_at=NOW - 40 * DAY)
        second = registration(6, status=Status.approved, created_at=NOW - 20 * DAY)
        assert advice(second, first).claim == first

    def test_the_partners_own_earlier_registration_makes_this_one_a_duplicate(self) -> None:
        own = registration(5, partner_id=SUBJECT.partner_id)
        result = advice(own)
        assert result == Recommendation(Resolution.duplicate, Rule.first_registered, own)

    def test_the_earliest_registration_decides_between_own_and_others(self) -> None:
        own = registration(5, partner_id=SUBJECT.partner_id, created_at=NOW - DAY)
        other = registration(6, created_at=NOW - 3 * DAY)
        result = advice(own, other)
        assert result == Recommendation(Resolution.award_existing, Rule.first_registered, other)

    def test_the_subject_wins_when_every_other_registration_came_later(self) -> None:
        result = advice(registration(5, created_at=NOW + DAY))
        assert result == Recommendation(Resolution.award_partner, Rule.first_registered)

    def test_a_registration_with_no_date_is_never_first(self) -> None:
        result = advice(registration(5, created_at=None))
        assert result.resolution is Resolution.award_partner


class TestWeakEvidence:
    def test_possible_conflicts_alone_never_block_the_partner(self) -> None:
        result = advice(
            found(account(1, is_named=True), Strength.possible),
            found(registration(5, status=Status.approved), Strength.possible),
        )
        assert result == Recommendation(Resolution.award_partner, Rule.weak_evidence)

    def test_a_conflict_decides_even_beside_a_stronger_possible_claim(self) -> None:
        approved = registration(5, status=Status.approved)
        result = advice(found(account(1, is_named=True), Strength.possible), approved)
        assert result == Recommendation(Resolution.duplicate, Rule.first_approved, approved)


class TestIgnoredClaims:
    def test_no_findings_no_recommendation(self) -> None:
        assert recommend(SUBJECT, [], now=NOW) is None

    @pytest.mark.parametrize(
        "claim",
        [
            registration(5, status=Status.rejected),
            registration(5, status=Status.withdrawn),
            registration(5, status=Status.expired),
            registration(5, status=Status.won),
            registration(5, status=Status.cancelled),
            registration(5, status=Status.approved, protected_until=NOW - DAY),
            opportunity(3, stage="Closed Won"),
            opportunity(3, stage=" closed lost"),
        ],
        ids=["rejected", "withdrawn", "expired", "won", "cancelled", "protection-over",
             "closed-won", "closed-lost"],
    )  # fmt: skip
    def test_claims_that_ended_are_ignored(self, claim: Claim) -> None:
        assert recommend(SUBJECT, [found(claim)], now=NOW) is None

    def test_an_ended_claim_leaves_the_next_rule_to_decide(self) -> None:
        earlier = registration(6, created_at=NOW - DAY)
        result = advice(opportunity(3, stage="Closed Lost"), earlier)
        assert result == Recommendation(Resolution.award_existing, Rule.first_registered, earlier)

    def test_the_subject_itself_is_ignored(self) -> None:
        itself = registration(SUBJECT.id or 0, partner_id=7, status=Status.approved)
        assert recommend(SUBJECT, [found(itself)], now=NOW) is None

    def test_an_account_with_the_subjects_id_is_not_the_subject(self) -> None:
        named = account(SUBJECT.id or 0, is_named=True)
        assert advice(named).rule is Rule.named_account


class TestWords:
    def test_every_rule_and_resolution_has_a_label(self) -> None:
        assert all(rule.label for rule in OwnershipRule)
        assert all(resolution.label for resolution in Resolution)

    @pytest.mark.parametrize(
        ("claim", "reason"),
        [
            (None, RejectionReason.duplicate),
            (registration(5), RejectionReason.duplicate),
            (opportunity(3), RejectionReason.in_direct_pipeline),
            (account(1, is_named=True, is_customer=True), RejectionReason.named_account),
            (account(1, is_customer=True), RejectionReason.existing_customer),
            (account(1), RejectionReason.in_direct_pipeline),
        ],
    )
    def test_the_reason_a_registration_loses_for(
        self, claim: Claim | None, reason: RejectionReason
    ) -> None:
        assert rejection_reason_for(claim) is reason


class TestResolutionsOffered:
    def test_between_partners_the_partner_can_be_awarded_but_not_co_sold(self) -> None:
        offered = resolutions_offered([found(registration(5))], now=NOW)
        assert Resolution.award_partner in offered
        assert Resolution.co_sell not in offered

    @pytest.mark.parametrize("direct", [account(2), opportunity(3)], ids=["account", "opp"])
    def test_beside_a_direct_claim_the_partner_can_only_co_sell(self, direct: Claim) -> None:
        offered = resolutions_offered([found(registration(5)), found(direct)], now=NOW)
        assert Resolution.co_sell in offered
        assert Resolution.award_partner not in offered

    def test_a_direct_likeness_or_an_ended_direct_claim_changes_nothing(self) -> None:
        closed = opportunity(3, stage="Closed Lost")
        findings = [found(account(2), Strength.possible), found(closed)]
        offered = resolutions_offered(findings, now=NOW)
        assert Resolution.award_partner in offered
        assert Resolution.co_sell not in offered


class TestLiveConflicts:
    def test_only_conflicts_whose_claim_still_holds_count(self) -> None:
        holding = found(registration(5))
        findings = [
            holding,
            found(registration(6, status=Status.rejected)),
            found(registration(7, status=Status.approved, protected_until=NOW - DAY)),
            found(registration(8), Strength.possible),
            found(registration(SUBJECT.id or 0)),
        ]
        assert live_conflicts(SUBJECT.id, findings, now=NOW) == [holding]
        assert live_counts(SUBJECT.id, findings, now=NOW) == FindingCounts(
            conflicts=1, possible=1, ended=3
        )


class TestSecondOwners:
    def test_an_approved_conflicting_registration_is_a_second_owner(self) -> None:
        approved = registration(5, status=Status.approved)
        assert second_owners(SUBJECT, [found(approved)], now=NOW) == [approved]

    def test_one_the_same_decision_moves_away_is_not(self) -> None:
        approved = registration(5, status=Status.approved)
        lost = a_registration(id=5, status=Status.cancelled)
        owners = second_owners(SUBJECT, [found(approved)], now=NOW, moved={5: lost})
        assert owners == []

    def test_one_the_same_decision_approves_is(self) -> None:
        waiting = registration(5)
        won = a_registration(id=5, status=Status.approved, protected_until=NOW + DAY)
        [owner] = second_owners(SUBJECT, [found(waiting)], now=NOW, moved={5: won})
        assert (owner.id, owner.status) == (5, Status.approved)

    def test_registrations_in_review_likenesses_and_ended_claims_are_not(self) -> None:
        findings = [
            found(registration(5)),
            found(registration(6, status=Status.approved), Strength.possible),
            found(registration(7, status=Status.approved, protected_until=NOW - DAY)),
            found(opportunity(3, stage="Closed Won")),
            found(account(2), Strength.possible),
        ]
        assert second_owners(SUBJECT, findings, now=NOW) == []

    @pytest.mark.parametrize("direct", [account(2), opportunity(3)], ids=["account", "opp"])
    def test_a_direct_claim_is_one_unless_the_desk_chose_a_co_sell(self, direct: Claim) -> None:
        assert second_owners(SUBJECT, [found(direct)], now=NOW) == [direct]
        assert second_owners(SUBJECT, [found(direct)], now=NOW, co_sell=True) == []
