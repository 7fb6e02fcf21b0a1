"""How the evidence thread is cut into messages: entries per message, characters per message,
messages at most, and the size of blocks as Slack counts it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block as SlackBlock

from bot.views.render import render

PAGE = 20
"""Evidence entries per message at most (one section each, well under Slack's 50 blocks)."""

TEXT_BUDGET = 10_000
"""Characters of block text per message. Slack refuses a message whose blocks carry more than
about 12,000 in all (`msg_blocks_too_long`, an undocumented cumulative limit), so entries move
to the next reply before a message gets there."""

MAX_MESSAGES = 5
"""Messages the evidence takes at most (the head and four replies); later entries are counted,
with a pointer to `dibs check`, which runs the check again and lists every claim it finds."""

RESERVE = 1_200
"""Characters kept free for the "more below" line with its `dibs check` pointer, or a page's
heading."""


def paginate(sizes: Sequence[int], *, first_budget: int) -> list[tuple[int, int]]:
    """Entry ranges [first, last) per message: at most `PAGE` entries and the text budget each
    (the head has `first_budget`), at most `MAX_MESSAGES` messages; every message gets at least
    one entry."""
    pages: list[tuple[int, int]] = []
    start, budget = 0, first_budget
    while start < len(sizes) and len(pages) < MAX_MESSAGES:
        end, used = start, 0
        while end < len(sizes) and end - start < PAGE:
            if end > start and used + sizes[end] > budget:
                break
            used += sizes[end]
            end += 1
        pages.append((start, end))
        start, budget = end, TEXT_BUDGET - RESERVE
    return pages


def size(blocks: Sequence[SlackBlock]) -> int:
    """Characters of text the blocks carry, as Slack counts against its cumulative limit."""
    return sum(_text_length(render(block)) for block in blocks)


def _text_length(node: Any) -> int:
    if isinstance(node, dict):
        return sum(
            len(value) if key == "text" and isinstance(value, str) else _text_length(value)
            for key, value in node.items()
        )
    if isinstance(node, list):
        return sum(_text_length(item) for item in node)
    return 0
