"""Shared test data builders: sensible defaults, override any field by keyword."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.actor import Actor
from domain.conflicts import Claim, ClaimKind
from domain.matching import CompanyRef, Finding, Signal, Strength
from domain.ownership import ClaimDetails, StoredFinding
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


DOMAIN = Finding(Signal.same_domain, Strength.conflict, 1.0, "acme.com")
FUZZY = Finding(Signal.fuzzy_name, Strength.possible, 0.91, "acme ~ acme corp")
COUNTRY = Finding(Signal.country_agrees, Strength.support, 1.0, "US")


def a_rival(claim_id: int = 5, **overrides: Any) -> StoredFinding:
    """Globex's registration of the same customer, three days before the subject (a conflict,
    or `strength`)."""
    strength = overrides.pop("strength", Strength.conflict)
    claim = Claim(
        ClaimKind.registration,
        claim_id,
        CompanyRef("Acme Corporation", domain="acme.com", country="US"),
        partner_id=8,
        status=overrides.pop("status", RegistrationStatus.under_review),
        created_at=overrides.pop("created_at", NOW - timedelta(days=3)),
        protected_until=overrides.pop("protected_until", None),
        reference=f"GC-{claim_id:04d}",
    )
    fields: dict[str, Any] = {
        "amount": Decimal("120000"),
        "currency": "EUR",
        "partner_name": "Globex Corporation",
        "partner_tier": "Silver",
        "partner_manager": "U0GLOBEXMGR",
        "company_name": "Acme Corporation",
    }
    fields.update(overrides)
    return StoredFinding(ClaimDetails(claim, **fields), strength, (DOMAIN, FUZZY), NOW)


def a_direct_claim(
    kind: ClaimKind = ClaimKind.account, claim_id: int = 1, **claim: Any
) -> StoredFinding:
    """A direct CRM account (or opportunity) owned by U0DIRECTOWNER."""
    fields: dict[str, Any] = {"external_id": "0011ACCT", "owner_slack_id": "U0DIRECTOWNER"}
    if kind is ClaimKind.opportunity:
        fields |= {"external_id": "0063OPP", "stage": "Negotiation"}
        fields |= {
            "created_at": NOW + timedelta(days=2),
            "last_activity_at": NOW - timedelta(days=5),
        }
    fields.update(claim)
    strength = fields.pop("strength", Strength.conflict)
    found = Claim(kind, claim_id, CompanyRef("Acme Inc", domain="acme.com"), **fields)
    amount = Decimal("50000") if kind is ClaimKind.opportunity else None
    details = ClaimDetails(found, amount=amount, company_name="Acme Inc")
    return StoredFinding(details, strength, (DOMAIN, COUNTRY), NOW)
