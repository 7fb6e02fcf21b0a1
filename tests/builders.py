"""Shared test data builders: sensible defaults, override any field by keyword."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.actor import Actor
from domain.partner import Partner
from domain.registration import DealDetails, DealStage, Registration, RegistrationStatus

NOW = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
PARTNER_TEAM = "T0PARTNER"
HOST_TEAM = "T0HOST"


def a_partner(**overrides: Any) -> Partner:
    """A linked partner (id 7, Initech, code IN, Gold tier) in its shared channel."""
    fields: dict[str, Any] = {
        "id": 7,
        "name": "Initech",
        "tier": "Gold",
        "channel_id": "C0PARTNER",
        "slack_team_id": PARTNER_TEAM,
        "code": "IN",
    }
    fields.update(overrides)
    return Partner(**fields)


def some_details(**overrides: Any) -> DealDetails:
    """The deal details a partner would type for an ordinary prospect."""
    details = DealDetails(
        company="Acme Corp",
        website="acme.com",
        country="US",
        amount=Decimal("84500.00"),
        currency="USD",
        close_date=date(2025, 6, 30),
        products=("Analytics",),
        contact_name="Wile E. Coyote",
        contact_email="wile@acme.com",
        stage=DealStage.qualification,
        notes="Met them at the spring fair.",
    )
    return replace(details, **overrides)


def a_registration(**overrides: Any) -> Registration:
    """A stored registration (id 1, `IN-0001`: the id is its number) of `a_partner()`, in
    review since NOW."""
    fields: dict[str, Any] = {
        "id": 1,
        "partner_id": 7,
        "submitted_by": Actor(team_id=PARTNER_TEAM, user_id="U0REP"),
        "details": some_details(),
        "status": RegistrationStatus.under_review,
        "created_at": NOW,
        "updated_at": NOW,
        "decision_due_at": NOW + timedelta(hours=48),
    }
    fields.update(overrides)
    if fields["id"] is not None:
        fields.setdefault("assigned_reference", f"IN-{fields['id']:04d}")
    return Registration(**fields)
