"""A small Block Kit linter for tests: what slack_sdk's models do not check (NOTES.md section 6)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.views.common import Message
from bot.views.render import render

MODAL_BLOCKS = {"section", "divider", "header", "context", "actions", "input", "image"}
MESSAGE_BLOCKS = MODAL_BLOCKS - {"input"}
_SELECT_TYPES = {"static_select", "multi_static_select"}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict inside `node`, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _text(obj: dict[str, Any] | None) -> str:
    return "" if obj is None else str(obj.get("text", ""))


def _check_options(element: dict[str, Any]) -> None:
    groups = element.get("option_groups")
    assert (element.get("options") is None) != (groups is None), "options xor option_groups"
    options: list[dict[str, Any]] = list(element.get("options") or [])
    assert groups is not None or 0 < len(options) <= 100, "a select needs 1..100 options"
    if groups is not None:
        assert 0 < len(groups) <= 100, "option_groups must be 1..100"
        for group in groups:
            assert len(_text(group["label"])) <= 75, "option group label > 75"
            assert 0 < len(group["options"]) <= 100, "option group needs 1..100 options"
            options += group["options"]
    for option in options:
        assert 0 < len(_text(option["text"])) <= 75, f"option text > 75: {option}"
        assert len(option["value"]) <= 150, f"option value > 150: {option['value'][:40]}"
    offered = {(o["value"], _text(o["text"])) for o in options}
    initial = element.get("initial_options") or []
    if element.get("initial_option"):
        initial = [element["initial_option"]]
    for chosen in initial:
        assert (chosen["value"], _text(chosen["text"])) in offered, "initial option not offered"


def _check_element(element: dict[str, Any]) -> None:
    kind = element.get("type")
    if kind == "plain_text_input":
        assert 1 <= element.get("max_length", 3000) <= 3000, "max_length must be 1..3000"
        initial = element.get("initial_value")
        assert initial is None or len(initial) <= element.get("max_length", 3000)
    elif kind == "button":
        assert 0 < len(_text(element["text"])) <= 75, "button text > 75"
        assert len(element.get("value", "")) <= 2000, "button value > 2000"
        assert element.get("action_id"), "button without action_id"
    elif kind in _SELECT_TYPES:
        _check_options(element)
    if "placeholder" in element:
        assert len(_text(element["placeholder"])) <= 150, "placeholder > 150"


def _check_block(block: dict[str, Any], allowed: set[str]) -> None:
    kind = block["type"]
    assert kind in allowed, f"{kind} blocks are not allowed here"
    if kind == "section":
        assert "text" in block or "fields" in block, "section needs text or fields"
        assert len(_text(block.get("text"))) <= 3000, "section text > 3000"
        fields = block.get("fields") or []
        assert len(fields) <= 10, "more than 10 section fields"
        assert all(len(_text(f)) <= 2000 for f in fields), "section field > 2000"
    elif kind == "header":
        assert 0 < len(_text(block["text"])) <= 150, "header text must be 1..150"
        assert block["text"]["type"] == "plain_text"
    elif kind == "context":
        assert 0 < len(block["elements"]) <= 10, "context needs 1..10 elements"
    elif kind == "actions":
        assert 0 < len(block["elements"]) <= 25, "actions need 1..25 elements"
        ids = [e.get("action_id") for e in block["elements"]]
        assert len(ids) == len(set(ids)), "duplicate action_id in one block"
    elif kind == "input":
        assert len(_text(block["label"])) <= 2000, "input label > 2000"
        assert len(_text(block.get("hint"))) <= 2000, "input hint > 2000"
    for node in _walk(block):
        if node.get("type") == "mrkdwn" or node.get("type") == "plain_text":
            assert node.get("text"), f"empty text object in {kind} block"
        _check_element(node)


def _check_blocks(blocks: list[dict[str, Any]], *, limit: int, allowed: set[str]) -> None:
    assert 0 < len(blocks) <= limit, f"{len(blocks)} blocks (limit {limit})"
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids)), f"duplicate block_ids: {ids}"
    assert all(len(block_id) <= 255 for block_id in ids)
    for block in blocks:
        _check_block(block, allowed)


def assert_valid_view(view: View | dict[str, Any]) -> dict[str, Any]:
    """Lint a modal or Home tab (model or raw dict); returns its dict for further asserts."""
    d = view.to_dict() if isinstance(view, View) else view
    if isinstance(view, View):
        assert render(view) == d, "render() differs from slack_sdk's to_dict()"
    parsed = View(**json.loads(json.dumps(d)))
    assert None not in (parsed.blocks or []), "round trip: unknown block type"
    assert parsed.to_dict() == d, "round trip dropped something"
    has_input = any(b["type"] == "input" for b in d["blocks"])
    if d["type"] == "modal":
        assert 0 < len(_text(d["title"])) <= 24, "title must be 1..24 chars"
        for key in ("submit", "close"):
            assert len(_text(d.get(key))) <= 24, f"{key} > 24 chars"
        assert not has_input or d.get("submit"), "a modal with inputs needs submit"
    assert len(d.get("private_metadata", "")) <= 3000, "private_metadata > 3000"
    assert len(d.get("callback_id", "")) <= 255
    _check_blocks(d["blocks"], limit=100, allowed=MODAL_BLOCKS)
    assert len(json.dumps(d).encode()) < 250_000, "view JSON >= 250 kB"
    return d


def assert_valid_message(message: Message) -> list[dict[str, Any]]:
    """Lint a chat message; returns its block dicts for further asserts."""
    blocks = message.block_dicts()
    assert blocks == [b.to_dict() for b in message.blocks], "render() differs from to_dict()"
    reparsed = [Block.parse(b) for b in json.loads(json.dumps(blocks))]
    assert None not in reparsed, "round trip: unknown block type"
    assert [b.to_dict() for b in reparsed if b is not None] == blocks, "round trip lost data"
    assert message.text.strip(), "messages need fallback text"
    assert len(message.text) <= 4000, "fallback text > 4000"
    _check_blocks(blocks, limit=50, allowed=MESSAGE_BLOCKS)
    assert len(json.dumps(blocks).encode()) < 250_000
    return blocks


def all_text(payload: Any) -> str:
    """Every string in a view or message dict, joined, for "never shows X" asserts."""
    if isinstance(payload, dict):
        return "\n".join(all_text(v) for v in payload.values())
    if isinstance(payload, list):
        return "\n".join(all_text(v) for v in payload)
    return payload if isinstance(payload, str) else ""


def state_values(view: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The `view.state.values` Slack would send if the user submitted the initial values."""
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        state: dict[str, Any] = {"type": kind}
        if kind in {"plain_text_input", "email_text_input"}:
            state["value"] = element.get("initial_value")
        elif kind == "static_select":
            state["selected_option"] = element.get("initial_option")
        elif kind == "multi_static_select":
            state["selected_options"] = element.get("initial_options", [])
        elif kind == "datepicker":
            state["selected_date"] = element.get("initial_date")
        values[block["block_id"]] = {element["action_id"]: state}
    return values
