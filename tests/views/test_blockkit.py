"""The lint itself catches what slack_sdk's models let through (NOTES.md section 6)."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.views.common import Message
from tests.views.blockkit import assert_valid_message, assert_valid_view


def _input(block_id: str, **element: Any) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label="Label",
        element=PlainTextInputElement(action_id=block_id, **element),
    )


def _modal(*blocks: Any, **kwargs: Any) -> View:
    kwargs.setdefault("submit", "Submit")
    return View(type="modal", title="Title", blocks=list(blocks), **kwargs)


def _raw(*blocks: dict[str, Any]) -> dict[str, Any]:
    title = {"type": "plain_text", "text": "Title"}
    return {"type": "modal", "title": title, "blocks": list(blocks)}


def test_accepts_a_plain_modal() -> None:
    assert_valid_view(_modal(_input("a"), _input("b", max_length=3000)))


@pytest.mark.parametrize(
    ("view", "problem"),
    [
        (_modal(_input("a"), _input("a")), "duplicate block_ids"),
        (_modal(_input("a"), submit=None), "needs submit"),
        (_modal(_input("a", max_length=3001)), "max_length"),
        (_raw({"type": "sektion", "text": {"type": "mrkdwn", "text": "x"}}), "unknown block"),
        (_raw({"type": "divider", "block_id": "d", "max_lenght": 3}), "round trip dropped"),
        (
            _modal(
                InputBlock(
                    block_id="s",
                    label="Pick",
                    element=StaticSelectElement(
                        action_id="s",
                        options=[{"text": {"type": "plain_text", "text": "x" * 76}, "value": "v"}],
                    ),
                )
            ),
            "option text > 75",
        ),
        (
            _modal(
                ActionsBlock(elements=[ButtonElement(text="Go", action_id="go", value="v" * 2001)])
            ),
            "cannot exceed 2000",
        ),
        (_modal(*[DividerBlock() for _ in range(101)]), "blocks"),
        (
            _modal(
                InputBlock(
                    block_id="s",
                    label="Pick",
                    element=StaticSelectElement(action_id="s", options=[]),
                )
            ),
            "options",
        ),
    ],
)
def test_rejects_what_slack_would_refuse(view: View | dict[str, Any], problem: str) -> None:
    with pytest.raises(Exception, match=problem):
        assert_valid_view(view)


def test_initial_option_must_be_offered() -> None:
    offered = Option(text="A", value="a")
    element = StaticSelectElement(
        action_id="s", options=[offered], initial_option=Option(text="B", value="b")
    )
    with pytest.raises(AssertionError, match="initial option"):
        assert_valid_view(_modal(InputBlock(block_id="s", label="Pick", element=element)))


def test_messages_refuse_inputs_and_need_fallback_text() -> None:
    with pytest.raises(AssertionError, match="input blocks are not allowed"):
        assert_valid_message(Message(text="hi", blocks=[_input("a")]))
    with pytest.raises(AssertionError, match="fallback text"):
        assert_valid_message(Message(text=" ", blocks=[SectionBlock(text="hi")]))
    with pytest.raises(AssertionError, match="51 blocks"):
        assert_valid_message(Message(text="hi", blocks=[DividerBlock() for _ in range(51)]))
