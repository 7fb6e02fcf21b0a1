"""Shared text of every view: typed metadata, messages, mrkdwn escaping and truncation,
dates, counts and the names of people."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import pycountry
from pydantic import BaseModel, ConfigDict
from slack_sdk.models.blocks import Block

from bot.views.render import render_all
from domain.actor import Actor
from domain.registration import Registration, RegistrationStatus
from domain.slack_ids import SlackChannelId, is_slack_user_id


class RegistrationRef(BaseModel):
    """What a button or modal carries about a registration: its id and the version seen
    (and, where a modal opens from the button alone, its `reference` to show)."""

    model_config = ConfigDict(frozen=True)

    id: int
    version: int
    reference: str | None = None

    @classmethod
    def of(cls, registration: Registration, *, with_reference: bool = False) -> RegistrationRef:
        """The reference to a stored registration as it is now (with its `reference` when a
        modal opens from the button alone)."""
        assert registration.id is not None
        reference = registration.reference if with_reference else None
        return cls(id=registration.id, version=registration.version, reference=reference)


class FormContext(BaseModel):
    """The registration modal's private_metadata: where it was opened and for what."""

    model_config = ConfigDict(frozen=True)

    channel_id: SlackChannelId | None = None
    partner_id: int | None = None
    registration_id: int | None = None  # set when answering an info request
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A chat message: fallback text plus blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def block_dicts(self) -> list[dict[str, Any]]:
        return render_all(self.blocks)


def escape(text: str) -> str:
    """Escape user text for mrkdwn so `<!channel>` or `<http://x|y>` stays literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def slack_user_or_none(user_id: str | None) -> str | None:
    """`user_id` when it is a Slack user id fit to mention, else None (ids from CRM data are
    checked again: no `<!channel>` tricks)."""
    return user_id if user_id and is_slack_user_id(user_id) else None


def evidence_link(link: str | None) -> str:
    """` (<link|evidence>)` for a web link a direct rep gave with a working note, else ``."""
    return f" (<{link}|evidence>)" if link and link.startswith(("https://", "http://")) else ""


def who(actor: Actor | None, *, slack: bool = True, checked: bool = False) -> str:
    """Who moved a registration: `the desk` when nobody is on record, `Dibs (automatic)` for the
    system, else the person: mentioned (with `checked`, only a well-formed Slack user id, else
    `the desk`), or by user id in plain text (`slack=False`)."""
    if actor is None:
        return "the desk"
    if actor.is_system:
        return "Dibs (automatic)"
    if not slack:
        return actor.user_id
    if checked:
        user = slack_user_or_none(actor.user_id)
        return mention(user) if user else "the desk"
    return mention(actor.user_id)


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 conflict`, `2 conflicts`, `0 conflicts` (`many` for an irregular plural)."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def moved_first_text(registration: Registration, by: Actor | None) -> str:
    """What the loser of a race is told (approvers only, so the desk's people are named):
    where the registration stands now and who moved it there (`by`, from the audit trail,
    else who decided it), as a sentence without its full stop."""
    reference, status = registration.reference, registration.status
    who = by or registration.decided_by
    named = mention(who.user_id) if who is not None and not who.is_system else None
    if status is RegistrationStatus.info_requested:
        asked = f" to an info request from {named}" if named else ""
        return f"{reference} is already waiting for the partner's answer{asked}"
    if status is RegistrationStatus.under_review:
        return f"{reference} changed since you opened it; look at it again"
    return f"{reference} is already {status.label.lower()}{f' by {named}' if named else ''}"


DUE_FORMAT = "{date_short_pretty} at {time}"
"""`slack_date`'s format for a deadline: `Today at 3:00 PM`, `Jun 30th, 2025 at 9:00 AM`."""


def slack_date(moment: datetime, fmt: str = "{date_short}") -> str:
    """A date Slack renders in each reader's own time zone, with a plain fallback."""
    fallback = moment.strftime("%Y-%m-%d")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def on_date(moment: datetime | None, when: Callable[[datetime], str] = slack_date) -> str:
    """` on <date>` (nothing without a date); `when` writes the date."""
    return f" on {when(moment)}" if moment else ""


def protected_until(until: datetime | None, when: Callable[[datetime], str] = slack_date) -> str:
    """`, protected until <date>` (nothing without a protection end); `when` writes the date."""
    return f", protected until {when(until)}" if until else ""


def escape_fit(text: str, limit: int) -> str:
    """Escape user text for mrkdwn and cut it to `limit` characters without splitting an entity."""
    return _fit(escape(text), limit)


def quote_fit(text: str, limit: int) -> str:
    """User text escaped as a mrkdwn block quote (every line quoted), cut to `limit` characters."""
    return _fit(">" + escape(text).replace("\n", "\n>"), limit)


def _fit(escaped: str, limit: int) -> str:
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def format_age(delta: timedelta) -> str:
    """A short human age such as `3 days`, `5 hours` or `12 minutes`."""
    seconds = max(int(delta.total_seconds()), 0)
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            return plural(seconds // size, unit)
    return "just now"


def plain_date(day: date) -> str:
    """`30 Jun 2025`: a calendar date (no time zone involved) for humans."""
    return f"{day.day} {day:%b %Y}"


@cache
def countries() -> tuple[tuple[str, str], ...]:
    """(alpha_2, display name) for every ISO 3166 country, sorted by name; common names win."""
    names = [
        (country.alpha_2, getattr(country, "common_name", None) or country.name)
        for country in pycountry.countries
    ]
    return tuple(sorted(names, key=lambda pair: fold(pair[1])))


def country_name(code: str) -> str:
    """The display name of an ISO 3166 alpha-2 code (the code itself when unknown)."""
    return dict(countries()).get(code, code)


def fold(text: str) -> str:
    """Upper-case ASCII for sorting and grouping (`Åland` sorts as `ALAND`)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
