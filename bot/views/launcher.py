"""The launcher: the message in a partner channel whose buttons open the registration modal
and the partner's own list (external users cannot run slash commands)."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock

from bot.ids import Action
from bot.views.blocks import button, section
from bot.views.common import Message, escape_fit
from domain.partner import Partner


def build_launcher(partner: Partner, *, vendor: str | None = None) -> Message:
    """The pinned-style message in a partner channel that opens the registration modal."""
    whom = escape_fit(vendor, 100) if vendor else "us"
    text = (
        f"*Register a deal with {whom}*\n"
        f"Claim a prospect for {escape_fit(partner.name, 200)} before you work it. Dibs checks "
        "at once whether the account is already taken, and this channel shows where each "
        "registration stands."
    )
    buttons = ActionsBlock(
        block_id="launcher-actions",
        elements=[
            button("Register a deal", Action.launcher_register, str(partner.id), "primary"),
            button("My registrations", Action.launcher_mine, str(partner.id)),
        ],
    )
    return Message(text="Register a deal with Dibs", blocks=[section(text), buttons])
