"""Replies to `/dibs help` and `/dibs list` (both ephemeral)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    Block as SlackBlock,
)

from bot.views.blocks import SECTION_LIMIT, context, header, section
from bot.views.common import Message
from bot.views.home_tab import oldest_first, pending_line
from domain.cases import RegistrationWithPartner
from domain.policy import ProgramPolicy

MAX_ROWS = 40

_HELP = """\
*Dibs* registers partner deals and tells everyone where they stand.
• `/dibs`: register a deal for the partner linked to this channel
• `/dibs list`: registrations waiting for a decision, oldest first
• `/dibs check COMPANY [website]`: who already has a claim on a company, with the evidence
• `/dibs show REFERENCE`: one registration and where it stands, e.g. `/dibs show NW-0007` \
(older `DR-0012` references work too)
• `/dibs setup`: link this shared channel to a partner (admins)
• `/dibs help`: this message
Partners outside our workspace can't run slash commands: they use the *Register a deal* \
and *My registrations* buttons of the launcher message Dibs posts in their channel."""


def build_help() -> Message:
    """What `/dibs` can do, including the launcher that external partners use."""
    return Message(
        text="Dibs help: /dibs, /dibs list, /dibs check, /dibs show, /dibs setup, /dibs help",
        blocks=[section(_HELP)],
    )


def build_pending_list(
    pending: Sequence[RegistrationWithPartner], *, program: ProgramPolicy, now: datetime
) -> Message:
    """`/dibs list`: what is waiting for the desk, oldest first, a line each."""
    title = f"Waiting for a decision ({len(pending)})"
    blocks: list[SlackBlock] = [header(title)]
    rows = oldest_first(pending)
    lines = [pending_line(item, now=now) for item in rows[:MAX_ROWS]]
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > SECTION_LIMIT:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if not rows:
        blocks.append(section("Nothing is waiting."))
    if len(rows) > MAX_ROWS:
        more = len(rows) - MAX_ROWS
        blocks.append(context(f"…and {more} more; see the Home tab."))
    return Message(text=title, blocks=blocks)
