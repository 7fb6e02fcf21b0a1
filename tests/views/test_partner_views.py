"""A partner's own list of registrations, and the channel setup form."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from bot.ids import Block, Callback
from bot.views.partner_views import (
    SetupForm,
    build_my_registrations_modal,
    build_setup_modal,
    parse_setup_submission,
)
from domain.policy import ProgramPolicy
from domain.registration import RegistrationStatus
from tests.builders import a_partner, a_registration, some_details
from tests.views.blockkit import all_text, assert_valid_view, state_values

PROGRAM = ProgramPolicy()
HOSTILE = "<!channel> & <http://evil|x>"


class TestMyRegistrations:
    def test_lists_reference_company_amount_status_and_close_date(self) -> None:
        registrations = [
            a_registration(),
            a_registration(
                id=2,
                status=RegistrationStatus.approved,
                details=some_details(company="Globex", amount=Decimal("1200.50")),
            ),
        ]
        view = assert_valid_view(
            build_my_registrations_modal(a_partner(), registrations, program=PROGRAM)
        )
        assert view["callback_id"] == Callback.my_registrations
        assert "submit" not in view
        text = all_text(view)
        for expected in ["*IN-0001* · Acme Corp", "USD 84,500", "In review", "30 Jun 2025"]:
            assert expected in text
        assert "*IN-0002* · Globex" in text
        assert "USD 1,200.50 · Approved" in text

    def test_empty_state(self) -> None:
        view = assert_valid_view(build_my_registrations_modal(a_partner(), [], program=PROGRAM))
        assert "No registrations yet" in all_text(view)

    def test_caps_a_long_list_and_says_how_many_more(self) -> None:
        registrations = [
            a_registration(id=n, details=some_details(company="<&>" * 66 + "ab"))
            for n in range(1, 61)
        ]
        view = assert_valid_view(
            build_my_registrations_modal(a_partner(name=HOSTILE), registrations, program=PROGRAM)
        )
        text = all_text(view)
        assert "IN-0040" in text
        assert "IN-0041" not in text
        assert "…and 20 more" in text
        assert "<!channel>" not in text


class TestSetup:
    def test_new_partner(self) -> None:
        view = assert_valid_view(build_setup_modal("C0PARTNER", existing=None))
        assert view["callback_id"] == Callback.setup_submit
        assert json.loads(view["private_metadata"]) == {"channel_id": "C0PARTNER"}
        inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
        assert inputs == [Block.setup_name, Block.setup_tier, Block.setup_code]
        code = next(b for b in view["blocks"] if b.get("block_id") == Block.setup_code)
        assert code["optional"] is True
        assert "made from the name" in all_text(view)
        assert parse_setup_submission(state_values(view)) == {
            Block.setup_name: "Give the partner a name.",
            Block.setup_tier: "Give the partner a tier, such as Gold.",
        }

    def test_existing_partner_prefills_and_round_trips(self) -> None:
        view = assert_valid_view(build_setup_modal("C0PARTNER", existing=a_partner()))
        assert parse_setup_submission(state_values(view)) == SetupForm("Initech", "Gold", "IN")
        assert "given references stay" in all_text(view)

    def test_an_empty_code_is_none_and_a_typed_one_reads_upper_case(self) -> None:
        values = self.values(code="")
        assert parse_setup_submission(values) == SetupForm("Northwind Traders", "Gold", None)
        values = self.values(code=" nw ")
        assert parse_setup_submission(values) == SetupForm("Northwind Traders", "Gold", "NW")

    @pytest.mark.parametrize(
        ("code", "says"),
        [
            ("N", "N is not a partner code: use 2 to 6 letters or digits, starting with a letter."),
            ("NORTHWIND", "NORTHWIND is not a partner code"),
            ("7W", "7W is not a partner code"),
            ("N-W", "N-W is not a partner code"),
            ("dr", "DR is reserved for the references given before partner codes"),
        ],
    )
    def test_a_bad_code_is_reported_next_to_its_field(self, code: str, says: str) -> None:
        result = parse_setup_submission(self.values(code=code))
        assert isinstance(result, dict)
        assert list(result) == [Block.setup_code]
        assert result[Block.setup_code].startswith(says)

    def values(self, *, code: str) -> dict[str, Any]:
        return {
            Block.setup_name: {Block.setup_name: {"value": "Northwind Traders"}},
            Block.setup_tier: {Block.setup_tier: {"value": "Gold"}},
            Block.setup_code: {Block.setup_code: {"value": code}},
        }

    def test_long_existing_values_are_cut_to_fit(self) -> None:
        partner = a_partner(name="n" * 500, tier="t" * 500)
        view = assert_valid_view(build_setup_modal("C0PARTNER", existing=partner))
        result = parse_setup_submission(state_values(view))
        assert isinstance(result, SetupForm)

    def test_too_long_values_are_reported(self) -> None:
        values: dict[str, Any] = {
            Block.setup_name: {Block.setup_name: {"value": "n" * 101}},
            Block.setup_tier: {Block.setup_tier: {"value": " Gold "}},
        }
        assert parse_setup_submission(values) == {
            Block.setup_name: "Keep the name under 100 characters."
        }
