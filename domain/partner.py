"""Partner organisations, their short codes, and how a Slack actor maps to one."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from domain.actor import Actor
from domain.errors import InvalidInput
from domain.references import LEGACY_CODE
from domain.slack_ids import SlackChannelId, SlackEnterpriseId, SlackTeamId, SlackUserId

_CODE = re.compile(r"[A-Z][A-Z0-9]{1,5}")
_DIGITS = "0123456789"
CODE_RULE = "2 to 6 letters or digits, starting with a letter"


@dataclass(slots=True)
class Partner:
    """A reseller organisation linked to its Slack Connect channel."""

    id: int | None
    name: str
    tier: str
    channel_id: SlackChannelId
    slack_team_id: SlackTeamId | None = None
    slack_enterprise_id: SlackEnterpriseId | None = None
    launcher_ts: str | None = None
    manager_user_id: SlackUserId | None = None
    """The partner's channel manager on our side (mentioned when its claims conflict)."""
    code: str | None = None
    """Short and unique (`NW`): its registrations are referenced `NW-0001`, `NW-0002`, … in
    a sequence of its own, so a reference tells nobody how many others file. Storage needs
    one; `link_partner` picks it."""


def check_code(text: str) -> str:
    """The partner code typed (`nw` reads as `NW`), or InvalidInput saying what is wrong."""
    code = text.strip().upper()
    if not _CODE.fullmatch(code):
        shown = text.strip()[:20] or "An empty code"
        raise InvalidInput(f"{shown} is not a partner code: use {CODE_RULE}.", field="code")
    if code == LEGACY_CODE:
        raise InvalidInput(
            f"{LEGACY_CODE} is reserved for the references given before partner codes; "
            "pick another code.",
            field="code",
        )
    return code


def derive_code(name: str, taken: Collection[str] = ()) -> str:
    """A code for a partner that was given none: the initials of its name's words
    ("Northwind Traders" -> `NT`, at most 6), or a one-word name's first two letters
    ("Initech" -> `IN`); accents are folded and other characters left out. When that code is
    taken (or reserved) a number is added: `NT2`, `NT3`, … Leading digits are skipped ("3M
    Company" -> `MC`) and a name with fewer than two usable characters is padded with `P`."""
    words = [_ascii(word) for word in re.split(r"[\W_]+", re.sub(r"['’]", "", name))]
    words = [word for word in words if word]
    initials = "".join(word[0] for word in words).lstrip(_DIGITS)[:6]
    base = initials if len(initials) >= 2 else "".join(words).lstrip(_DIGITS)[:2]
    base = (base + "PP")[:2] if len(base) < 2 else base
    used = {code.upper() for code in taken} | {LEGACY_CODE}
    if base not in used:
        return base
    for n in itertools.count(2):
        suffix = str(n)
        candidate = base[: 6 - len(suffix)] + suffix
        if candidate not in used:
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover


def _ascii(word: str) -> str:
    """Upper-case ASCII letters and digits of `word` (`Ærø` -> `R`, `Café` -> `CAFE`)."""
    folded = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.upper() if c.isalnum())


def resolve_partner(
    actor: Actor, *, channel_id: SlackChannelId | None, partners: Iterable[Partner]
) -> Partner | None:
    """Map an external actor to its partner: by enterprise, then team, then the channel.

    The channel only vouches for an organisation when the partner linked to it has no
    recorded Slack team (a third organisation in the same channel is not that partner).
    """
    candidates = list(partners)
    if actor.enterprise_id:
        for partner in candidates:
            if partner.slack_enterprise_id == actor.enterprise_id:
                return partner
    for partner in candidates:
        if partner.slack_team_id == actor.team_id:
            return partner
    if channel_id:
        for partner in candidates:
            if (
                partner.channel_id == channel_id
                and partner.slack_team_id is None
                and partner.slack_enterprise_id is None
            ):
                return partner
    return None
