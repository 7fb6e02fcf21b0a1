"""Test data builders: sensible defaults, override only what a test is about."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.actor import Actor, Caller
from domain.conflicts import ConflictRules
from domain.partner import Partner
from domain.policy import DeskPolicy, PrivacyPolicy, ProgramPolicy
from domain.ports import UnitOfWork
from domain.registration import DealDetails, DealStage, Registration
from domain.services import ServiceContext, Services

T0 = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
HOST_TEAM = "T0HOST"
PARTNER_TEAM = "T0ACME"
APPROVERS = ("U0DESK1", "U0DESK2")
PROGRAM = ProgramPolicy(products=("Cloud", "Support"))
DESK = DeskPolicy(channel_id="C0DESK", approvers=frozenset(APPROVERS))

_serial = itertools.count(1)


def a_partner(**overrides: Any) -> Partner:
    """A partner with its own shared channel and code (both unique per call)."""
    n = next(_serial)
    fields: dict[str, Any] = {
        "id": None,
        "name": f"Acme Resellers {n}",
        "code": f"AR{n}",
        "tier": "gold",
        "channel_id": f"C0ACME{n:04d}",
        "slack_team_id": None,
        "slack_enterprise_id": None,
        "launcher_ts": None,
    }
    fields.update(overrides)
    return Partner(**fields)


def a_rep(**overrides: Any) -> Actor:
    """An external partner rep."""
    fields: dict[str, Any] = {"team_id": PARTNER_TEAM, "user_id": "U0REP", "enterprise_id": None}
    fields.update(overrides)
    return Actor(**fields)


def an_approver(n: int = 0) -> Actor:
    """An internal deal-desk approver."""
    return Actor(team_id=HOST_TEAM, user_id=APPROVERS[n])


def some_details(**overrides: Any) -> DealDetails:
    """A complete, valid deal."""
    fields: dict[str, Any] = {
        "company": "Globex Corporation",
        "website": "globex.example",
        "country": "DE",
        "amount": Decimal("84500.00"),
        "currency": "USD",
        "close_date": date(2025, 6, 30),
        "products": ("Cloud", "Support"),
        "contact_name": "Hank Scorpio",
        "contact_email": "hank@globex.example",
        "stage": DealStage.proposal,
        "notes": "Met at the <partner> summit & keen.",
    }
    fields.update(overrides)
    return DealDetails(**fields)


def a_registration(partner_id: int, **overrides: Any) -> Registration:
    """A freshly submitted registration (under review, version 1, two pending events)."""
    fields: dict[str, Any] = {
        "partner_id": partner_id,
        "details": some_details(),
        "by": a_rep(),
        "now": T0,
        "review_sla": timedelta(hours=48),
        "submission_key": None,
    }
    fields.update(overrides)
    return Registration.submit(**fields)


def services(
    new_uow: Callable[[], UnitOfWork],
    *,
    at: datetime = T0,
    rules: ConflictRules | None = None,
    privacy: PrivacyPolicy | None = None,
) -> Services:
    """The use cases on `new_uow`'s storage, at `at`, with the test desk and program."""
    fixed = rules or ConflictRules()
    return Services.bind(
        ServiceContext(
            uow=new_uow,
            clock=lambda: at,
            desk=DESK,
            program=PROGRAM,
            privacy=privacy or PrivacyPolicy(),
            rules=lambda: fixed,
        )
    )


def calling(actor: Actor, channel_id: str | None = None) -> Caller:
    """`actor` asking, from `channel_id` (our host workspace decides who is staff)."""
    return Caller(actor, HOST_TEAM, channel_id)
