"""Every feature's listeners, registered on one app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.handlers import (
    commands,
    conflicts,
    desk,
    home,
    partner_actions,
    registration,
    review,
    setup,
)


def register_handlers(app: AsyncApp) -> None:
    for feature in (
        registration,
        partner_actions,
        review,
        conflicts,
        commands,
        setup,
        home,
        desk,
    ):
        feature.listeners.register(app)
