"""The conflict desk's modals and texts: Block Kit limits, metadata and form round trips."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.answers import raced_text
from bot.ids import Block, Callback
from bot.views.common import RegistrationRef
from bot.views.resolution_modals import (
    ResolutionContext,
    build_closed_modal,
    build_resolution_modal,
    build_working_modal,
    parse_resolution_submission,
    parse_working_submission,
)
from domain.actor import Actor
from domain.cases import Case
from domain.conflicts import Claim, ClaimKind
from domain.matching import CompanyRef, Finding, Signal, Strength
from domain.ownership import (
    ClaimDetails,
    OwnershipRule,
    Recommendation,
    Resolution,
    StoredFinding,
    recommend,
)
from domain.registration import RegistrationStatus
from domain.resolution import REASON_LIMIT
from domain.slack_ids import SlackUserId
from tests.builders import HOST_TEAM, NOW, a_registration, some_details
from tests.slack import payloads as p
from tests.views.blockkit import all_text, assert_valid_view

APPROVER = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0APPROVER"))


def a_case(recommendation: Recommendation | None = None, company: str = "Initech") -> Case:
    registration = a_registration(id=12, version=3, details=some_details(company=company))
    return Case(registration, (), recommendation, ())


class TestResolutionModal:
    @pytest.mark.parametrize("resolution", list(Resolution))
    def test_opens_from_the_button_alone_with_its_metadata(self, resolution: Resolution) -> None:
        meta = ResolutionContext(id=12, version=3, resolution=resolution, reference="IN-0012")

        view = assert_valid_view(build_resolution_modal(meta))

        assert view["callback_id"] == Callback.resolve_submit
        assert ResolutionContext.model_validate_json(view["private_metadata"]) == meta
        assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [
            Block.resolve_reason
        ]
        assert resolution.label in all_text(view)
        assert f"*{resolution.label}* for *IN-0012*" in all_text(view)

    def test_a_button_without_a_reference_names_no_number_until_the_case_is_loaded(
        self,
    ) -> None:
        meta = ResolutionContext(id=12, version=3, resolution=Resolution.duplicate)

        before = all_text(assert_valid_view(build_resolution_modal(meta)))
        after = all_text(assert_valid_view(build_resolution_modal(meta, case=a_case())))

        assert "*Mark duplicate* for this registration\n" in before
        assert "-00" not in before
        assert "*Mark duplicate* for *IN-0012* · Initech" in after

    @pytest.mark.parametrize("resolution", list(Resolution))
    def test_filled_in_with_the_company_and_the_recommendation(
        self, resolution: Resolution
    ) -> None:
        meta = ResolutionContext(id=12, version=3, resolution=resolution)
        advice = Recommendation(Resolution.duplicate, OwnershipRule.first_approved)

        view = assert_valid_view(
            build_resolution_modal(meta, case=a_case(advice, company="<!channel> & Co" * 40))
        )

        shown = all_text(view)
        assert "&lt;!channel&gt; &amp; Co" in shown
        assert "<!channel>" not in shown
        assert f"Recommended: *{Resolution.duplicate.label}*" in shown
        assert OwnershipRule.first_approved.label in shown
        assert ("choosing otherwise" in shown) is (resolution is not Resolution.duplicate)

    def test_says_when_the_rules_recommend_nothing(self) -> None:
        meta = ResolutionContext(id=12, version=3, resolution=Resolution.co_sell)

        view = assert_valid_view(build_resolution_modal(meta, case=a_case()))

        assert "recommend nothing" in all_text(view)

    def test_request_info_asks_a_question_the_partner_will_read(self) -> None:
        meta = ResolutionContext(id=12, version=3, resolution=Resolution.request_info)

        view = assert_valid_view(build_resolution_modal(meta))

        [field] = [b for b in view["blocks"] if b["type"] == "input"]
        assert field["label"]["text"] == "Question for the partner"
        assert "partner sees" in field["hint"]["text"]


class TestParseResolution:
    def reason(self, text: str | None, resolution: Resolution = Resolution.co_sell) -> object:
        values = p.values({Block.resolve_reason: p.text_value(text)})
        return parse_resolution_submission(values, resolution)

    def test_keeps_the_reason_without_surrounding_space(self) -> None:
        assert self.reason("  Joint pursuit agreed.\n") == (
            Resolution.co_sell,
            "Joint pursuit agreed.",
        )

    @pytest.mark.parametrize("text", [None, "", "   \n"])
    def test_a_missing_reason_is_an_error_on_its_field(self, text: str | None) -> None:
        assert self.reason(text) == {
            Block.resolve_reason: "Say why: the reason is kept as a precedent."
        }

    def test_a_missing_question_asks_for_a_question(self) -> None:
        assert self.reason("", Resolution.request_info) == {
            Block.resolve_reason: "Ask the partner a question."
        }

    def test_a_reason_over_the_limit_is_an_error(self) -> None:
        result = self.reason("x" * (REASON_LIMIT + 1))

        assert isinstance(result, dict)
        assert set(result) == {Block.resolve_reason}


class TestChoiceWhenApproveMetAConflict:
    def case(self, *claims: Claim) -> Case:
        findings = tuple(
            StoredFinding(
                ClaimDetails(claim, partner_name="<Globex>", company_name="Initech & Co"),
                Strength.conflict,
                (Finding(Signal.same_domain, Strength.conflict, 1.0),),
                found_at=NOW,
            )
            for claim in claims
        )
        registration = a_registration(id=12, version=3)
        return Case(registration, findings, recommend(registration, findings, now=NOW), ())

    def test_offers_the_cases_resolutions_the_recommended_one_first_and_chosen(self) -> None:
        rival = Claim(
            ClaimKind.registration,
            5,
            CompanyRef("Initech"),
            partner_id=8,
            status=RegistrationStatus.under_review,
            created_at=NOW - timedelta(days=1),
        )
        meta = ResolutionContext(id=12, version=3)

        view = assert_valid_view(build_resolution_modal(meta, case=self.case(rival), now=NOW))

        assert ResolutionContext.model_validate_json(view["private_metadata"]) == meta
        inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
        assert list(inputs) == [Block.resolve_choice, Block.resolve_reason]
        choice = inputs[Block.resolve_choice]["element"]
        values = [o["value"] for o in choice["options"]]
        assert values[0] == Resolution.award_existing.value  # the earlier one was first
        assert choice["initial_option"]["value"] == Resolution.award_existing.value
        assert Resolution.co_sell.value not in values
        shown = all_text(view)
        assert "&lt;Globex&gt;" in shown
        assert "<Globex>" not in shown
        assert "two owners" in shown

    def test_beside_a_direct_claim_it_offers_co_sell_and_never_the_partner_alone(self) -> None:
        direct = Claim(ClaimKind.account, 2, CompanyRef("Initech"), external_id="0011")

        view = assert_valid_view(
            build_resolution_modal(ResolutionContext(id=12, version=3), case=self.case(direct),
                                   now=NOW)
        )  # fmt: skip

        [choice] = [b for b in view["blocks"] if b.get("block_id") == Block.resolve_choice]
        values = [o["value"] for o in choice["element"]["options"]]
        assert Resolution.co_sell.value in values
        assert Resolution.award_partner.value not in values

    def test_the_choice_and_the_reason_are_read_back(self) -> None:
        values = p.values(
            {
                Block.resolve_choice: p.radio_value(Resolution.duplicate.value),
                Block.resolve_reason: p.text_value(" Same deal twice. "),
            }
        )

        assert parse_resolution_submission(values, None) == (
            Resolution.duplicate,
            "Same deal twice.",
        )

    def test_no_choice_is_an_error_on_the_choice(self) -> None:
        values = p.values({Block.resolve_reason: p.text_value("Because.")})

        assert parse_resolution_submission(values, None) == {
            Block.resolve_choice: "Choose how to settle the conflict."
        }


class TestWorkingModal:
    def test_asks_for_a_note_and_an_optional_link(self) -> None:
        ref = RegistrationRef(id=12, version=3, reference="IN-0012")

        view = assert_valid_view(build_working_modal(ref))

        assert "working the customer of *IN-0012*" in all_text(view)

        assert view["callback_id"] == Callback.working_submit
        assert RegistrationRef.model_validate_json(view["private_metadata"]) == ref
        inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
        assert list(inputs) == [Block.working_note, Block.working_link]
        assert not inputs[Block.working_note].get("optional")
        assert inputs[Block.working_link]["optional"] is True
        assert inputs[Block.working_link]["element"]["type"] == "url_text_input"

    def test_a_button_without_a_reference_names_this_registration(self) -> None:
        view = assert_valid_view(build_working_modal(RegistrationRef(id=12, version=3)))

        assert "working the customer of this registration" in all_text(view)

    def values(self, note: str | None, link: str | None) -> p.StateValues:
        return p.values(
            {Block.working_note: p.text_value(note), Block.working_link: p.url_value(link)}
        )

    def test_parses_the_note_and_the_link(self) -> None:
        parsed = parse_working_submission(self.values(" On it. ", "https://crm.example/1"))

        assert parsed == ("On it.", "https://crm.example/1")

    def test_the_link_is_optional(self) -> None:
        assert parse_working_submission(self.values("On it.", None)) == ("On it.", None)

    def test_a_missing_note_and_a_bad_link_are_errors_on_their_fields(self) -> None:
        parsed = parse_working_submission(self.values(" ", "javascript:alert(1)"))

        assert isinstance(parsed, dict)
        assert set(parsed) == {Block.working_note, Block.working_link}


class TestRaceTexts:
    def test_names_who_decided_first(self) -> None:
        settled = a_registration(
            id=4, status=RegistrationStatus.approved, decided_by=APPROVER, version=2
        )

        assert raced_text(settled, None) == (
            "IN-0004 is already approved by <@U0APPROVER>. Nothing was changed."
        )

    def test_an_info_request_first_names_who_asked(self) -> None:
        asked = a_registration(id=4, status=RegistrationStatus.info_requested, version=2)

        assert raced_text(asked, APPROVER) == (
            "IN-0004 is already waiting for the partner's answer to an info request from"
            " <@U0APPROVER>. Nothing was changed."
        )

    def test_an_info_request_by_nobody_known_still_says_it_waits_for_the_partner(self) -> None:
        asked = a_registration(id=4, status=RegistrationStatus.info_requested, version=2)

        assert raced_text(asked, None) == (
            "IN-0004 is already waiting for the partner's answer. Nothing was changed."
        )

    def test_a_registration_changed_but_still_in_review_says_look_again(self) -> None:
        assert "look at it again" in raced_text(a_registration(id=4, version=4), APPROVER)

    def test_the_closed_modal_has_nothing_to_submit(self) -> None:
        view = assert_valid_view(build_closed_modal("Already settled", "IN-0004 is approved."))

        assert "submit" not in view
        assert "IN-0004 is approved." in all_text(view)
