"""What the cards and their notices say alike about one registration: the fallback text, why
it was not approved, and who asked the partner for information."""

from __future__ import annotations

from bot.views.common import escape_fit, quote_fit
from domain.actor import Actor
from domain.registration import Registration


def card_fallback(registration: Registration, extra: str) -> str:
    """A card's notification text: `NW-0007 · Acme Corp · In review`."""
    company = escape_fit(registration.details.company, 200)
    return f"{registration.reference} · {company} · {extra}"


def rejection_text(registration: Registration) -> str:
    """`Not approved: <reason>.`, then the desk's note to the partner quoted."""
    reason = registration.rejection_reason
    text = f"Not approved: {reason.label if reason else 'no reason given'}."
    if registration.decision_note:
        text += "\n" + quote_fit(registration.decision_note, 2800)
    return text


def info_asker(registration: Registration) -> Actor | None:
    """Who sent the latest info request, when the registration still holds its events."""
    for event in reversed(registration.events):
        if event.action == "request_info":
            return event.actor
    return None
