"""Modal inputs and what comes back from them: options, text inputs, and the submitted values
read by input block (each input's action id is its block id)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import Option, PlainTextInputElement
from slack_sdk.models.blocks.basic_components import DispatchActionConfig

from bot.ids import Block
from bot.views.common import truncate


def option(text: str, value: str) -> Option:
    """A select option, cut to Slack's limits (75 characters of text, 150 of value)."""
    return Option(text=truncate(text, 75), value=truncate(value, 150))


def text_input(
    block: Block,
    limit: int,
    *,
    initial: str | None = None,
    multiline: bool = False,
    placeholder: str = "",
    dispatch: bool = False,
) -> PlainTextInputElement:
    """A text input of at most `limit` characters, prefilled with `initial` (cut to fit);
    `dispatch`: pressing Enter in it sends `block_actions`."""
    return PlainTextInputElement(
        action_id=block,
        initial_value=truncate(initial, limit) if initial else None,
        max_length=limit,
        multiline=multiline or None,
        placeholder=placeholder or None,
        dispatch_action_config=(
            DispatchActionConfig(trigger_actions_on=["on_enter_pressed"]) if dispatch else None
        ),
    )


def entry(values: Mapping[str, Any], block: Block) -> dict[str, Any]:
    """What the view state holds for the input of `block` (empty when nothing)."""
    found: dict[str, Any] = values.get(block, {}).get(block) or {}
    return found


def text_of(values: Mapping[str, Any], block: Block) -> str:
    """The text typed into `block`, stripped (empty when nothing)."""
    return str(entry(values, block).get("value") or "").strip()


def selected(values: Mapping[str, Any], block: Block) -> str | None:
    """The value of the option chosen in `block` (None when nothing is chosen)."""
    chosen = entry(values, block).get("selected_option") or {}
    value = chosen.get("value")
    return None if value is None else str(value)


def keep_under(what: str, limit: int) -> str:
    """The error for text over its limit: `Keep the note under 3000 characters.`"""
    return f"Keep {what} under {limit} characters."
