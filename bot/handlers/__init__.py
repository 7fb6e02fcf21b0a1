"""Every feature's listeners, registered on one app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.handlers import commands, conflicts, desk, home, partner_actions, registration, review


def register_handlers(app: AsyncApp) -> None:
    registration.register(app)
    partner_actions.register(app)
    review.register(app)
    conflicts.register(app)
    commands.register(app)
    home.register(app)
    desk.register(app)
