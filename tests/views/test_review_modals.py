"""The desk's reject and request-info modals: build, lint, parse."""

from __future__ import annotations

from typing import Any

import pytest

from bot.ids import Block, Callback
from bot.views.common import RegistrationRef
from bot.views.review_modals import (
    build_reject_modal,
    build_request_info_modal,
    parse_reject_submission,
    parse_request_info_submission,
)
from domain.registration import RejectionReason
from tests.views.blockkit import all_text, assert_valid_view

REF = RegistrationRef(id=1, version=4)
HOSTILE = "<!channel> & <http://evil|x>"


def _values(block: Block, state: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    return {block: {block: state}}


def _reject(reason: str | None, note: str | None) -> Any:
    values = _values(Block.reject_reason, {"selected_option": reason and {"value": reason}})
    values |= _values(Block.reject_note, {"value": note})
    return parse_reject_submission(values)


class TestRejectModal:
    def test_offers_every_reason_with_its_label(self) -> None:
        view = assert_valid_view(build_reject_modal(REF, reference="IN-0001", company="Acme"))
        assert view["callback_id"] == Callback.reject_submit
        assert RegistrationRef.model_validate_json(view["private_metadata"]) == REF
        [reason] = [b for b in view["blocks"] if b.get("block_id") == Block.reject_reason]
        options = reason["element"]["options"]
        assert [(o["value"], o["text"]["text"]) for o in options] == [
            (r.value, r.label) for r in RejectionReason
        ]
        [note] = [b for b in view["blocks"] if b.get("block_id") == Block.reject_note]
        assert note["optional"] is True
        assert note["element"]["multiline"] is True
        assert "Required for Other" in note["hint"]["text"]

    def test_company_is_escaped_and_long_data_fits(self) -> None:
        view = assert_valid_view(
            build_reject_modal(REF, reference="IN-123456", company=HOSTILE * 100)
        )
        assert "<!channel>" not in all_text(view["blocks"])

    def test_parses_reason_and_stripped_note(self) -> None:
        assert _reject("duplicate", "  Globex first  ") == (
            RejectionReason.duplicate,
            "Globex first",
        )
        assert _reject("not_qualified", "   ") == (RejectionReason.not_qualified, None)

    def test_missing_reason(self) -> None:
        assert _reject(None, "note") == {Block.reject_reason: "Choose a reason."}
        assert parse_reject_submission({}) == {Block.reject_reason: "Choose a reason."}

    def test_unknown_reason(self) -> None:
        assert _reject("because", None) == {Block.reject_reason: "Choose a reason."}

    @pytest.mark.parametrize("note", [None, "", "  "])
    def test_other_needs_a_note(self, note: str | None) -> None:
        errors = _reject("other", note)
        assert isinstance(errors, dict)
        assert list(errors) == [Block.reject_note]
        assert "required when the reason is Other" in errors[Block.reject_note]

    def test_other_with_a_note(self) -> None:
        assert _reject("other", "Bad fit") == (RejectionReason.other, "Bad fit")


class TestRequestInfoModal:
    def test_asks_for_a_required_question(self) -> None:
        view = assert_valid_view(
            build_request_info_modal(REF, reference="IN-0001", company=HOSTILE)
        )
        assert view["callback_id"] == Callback.request_info_submit
        assert RegistrationRef.model_validate_json(view["private_metadata"]) == REF
        [question] = [b for b in view["blocks"] if b["type"] == "input"]
        assert question["block_id"] == Block.info_question
        assert question.get("optional", False) is False
        assert question["element"]["max_length"] == 3000
        assert "<!channel>" not in all_text(view["blocks"])

    def test_parses_the_question(self) -> None:
        values = _values(Block.info_question, {"value": " Who signs? "})
        assert parse_request_info_submission(values) == "Who signs?"

    @pytest.mark.parametrize("value", [None, "", "   "])
    def test_empty_question(self, value: str | None) -> None:
        values = _values(Block.info_question, {"value": value})
        assert parse_request_info_submission(values) == {
            Block.info_question: "Ask the partner a question."
        }
