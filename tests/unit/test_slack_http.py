"""The fast form decoding gives what Bolt's own parsing gives, for anything Slack could send."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote, urlencode

from hypothesis import example, given
from hypothesis import strategies as st
from slack_bolt.request.internals import parse_body

from bot.slack_http import FORM, parse_form, parse_slack_body

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@given(st.dictionaries(TEXT, TEXT, max_size=6))
def test_encoded_forms_decode_as_the_standard_library_does(fields: dict[str, str]) -> None:
    body = urlencode(fields)
    assert parse_form(body) == dict(parse_qsl(body, keep_blank_values=True)) == fields


@given(st.text(alphabet="ab=&%+\\x2Fé\n0", max_size=30))
@example("a=%zz&b=%4")
@example("a=%E2%82&b=1")  # a cut UTF-8 sequence: replaced, as the standard library does
@example("a=\\x41%41")
@example("&&a&b=")
def test_any_body_decodes_as_the_standard_library_does(body: str) -> None:
    assert parse_form(body) == dict(parse_qsl(body, keep_blank_values=True))


def test_an_interaction_payload_is_the_json_bolt_would_see() -> None:
    payload = {"type": "view_submission", "view": {"state": {"values": {"co": "<Ünïcødé & Co>"}}}}
    body = urlencode({"payload": json.dumps(payload)})
    assert parse_slack_body(body, FORM) == parse_body(body, FORM) == payload


def test_a_command_whose_text_says_payload_keeps_its_fields() -> None:
    # Bolt's parse_body returns {} for any form body containing "payload" without a
    # payload field, which would drop `/dibs check Payload Inc` on the floor.
    body = f"command=%2Fdibs&text={quote('check Payload Inc')}&user_id=U1"
    assert parse_slack_body(body, FORM) == {
        "command": "/dibs",
        "text": "check Payload Inc",
        "user_id": "U1",
    }


def test_json_bodies_go_to_bolt() -> None:
    event = {"type": "event_callback", "event_id": "Ev1"}
    assert parse_slack_body(json.dumps(event), "application/json") == event
