"""Program and desk policy: who may decide, and the program's tunables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.actor import Caller
from domain.slack_ids import SlackChannelId, SlackUserId


@dataclass(frozen=True, slots=True)
class ProgramPolicy:
    """The partner program's settings that the business rules need."""

    currency: str = "USD"
    products: tuple[str, ...] = ()
    protection_days: int = 90
    review_sla_hours: int = 48

    @property
    def protection(self) -> timedelta:
        return timedelta(days=self.protection_days)

    @property
    def review_sla(self) -> timedelta:
        return timedelta(hours=self.review_sla_hours)


@dataclass(frozen=True, slots=True)
class PrivacyPolicy:
    """What a partner may learn of claims that are not its own (by default: nothing).

    `partners_see_overlaps`: the partner's status card and the form's pre-check say, in one
    neutral line, that another claim may overlap (never whose)."""

    partners_see_overlaps: bool = False


PARTNERS_SEE_OWN_ONLY = PrivacyPolicy()
"""The default privacy policy: a partner hears only about its own registrations."""


@dataclass(frozen=True, slots=True)
class DeskPolicy:
    """The internal deal desk: its channel and who may decide or administer."""

    channel_id: SlackChannelId
    approvers: frozenset[SlackUserId]
    admins: frozenset[SlackUserId] = frozenset()


NO_DESK = DeskPolicy(channel_id=SlackChannelId(""), approvers=frozenset())
"""No desk: what a command that needs no policy file (the CRM import, a CLI run without
one) binds the use cases to; nobody can decide or administer."""


def can_decide(caller: Caller, desk: DeskPolicy) -> bool:
    """Only the desk's approvers, in the vendor's own workspace, decide registrations."""
    return caller.internal and caller.actor.user_id in desk.approvers


def can_administer(caller: Caller, desk: DeskPolicy) -> bool:
    """Only the desk's admins, in the vendor's own workspace, link partners and run setup."""
    return caller.internal and caller.actor.user_id in desk.admins
