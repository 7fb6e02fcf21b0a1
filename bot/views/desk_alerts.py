"""What the desk's admins are told when the deal-desk channel is shared with another
organisation (a direct message: the channel itself is no longer safe to write to)."""

from __future__ import annotations

from bot.views.blocks import section
from bot.views.common import Message


def build_desk_shared_alert(channel_id: str) -> Message:
    """The admins' direct message: desk-side messages are held, and how to make them flow."""
    text = (
        f":rotating_light: The deal-desk channel <#{channel_id}> is now shared with another "
        "organisation (Slack Connect). Dibs has stopped posting review cards, conflict "
        "evidence and desk notices there; they are kept and go out once the channel is "
        "internal again. Remove the external organisation from the channel, or set an internal "
        "channel in `[desk] channel` and restart Dibs."
    )
    return Message(text=text, blocks=[section(text)])
