"""What the desk looks at: a case (a registration with its findings as they are now, and the
rules' recommendation), the working notes of the direct team, and the desk's queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.actor import Actor
from domain.ownership import Recommendation, StoredFinding
from domain.partner import Partner
from domain.registration import Registration


@dataclass(frozen=True, slots=True)
class WorkingNote:
    """A direct rep's "I'm working this" on a registration's customer, with the evidence."""

    registration_id: int
    by_user_id: str
    by_team_id: str
    at: datetime
    note: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """A registration with its findings as they are now and what the rules recommend
    (internal eyes only)."""

    registration: Registration
    findings: tuple[StoredFinding, ...]
    recommendation: Recommendation | None
    working: tuple[WorkingNote, ...]
    moved_by: Actor | None = None
    """Who moved it where it stands, once it is out of review (a stale click names them)."""


@dataclass(frozen=True, slots=True)
class RegistrationWithPartner:
    """A registration with its partner, and (where the desk looks at it) its findings."""

    registration: Registration
    partner: Partner
    findings: tuple[StoredFinding, ...] = ()
