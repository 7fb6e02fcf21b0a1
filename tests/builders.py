"""Test data builders, one definition per name: sensible defaults, override only what a test
is about. A partner or registration comes stored (with its id) unless `id=None` asks for one
to store; `services` binds the use cases to any unit of work (the fake or a database)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.actor import Actor, Caller
from domain.conflicts import Claim, ClaimKind, ConflictRules
from domain.matching import CompanyRef, Finding, Signal, Strength
from domain.ownership import ClaimDetails, StoredFinding
from domain.partner import Partner
from domain.policy import DeskPolicy, PrivacyPolicy, ProgramPolicy
from domain.ports import UnitOfWork
from domain.registration import DealDetails, DealStage, Registration, RegistrationStatus
from domain.services import ServiceContext, Services
from domain.slack_ids import SlackChannelId, SlackTeamId, SlackUserId

NOW = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
HOST_TEAM = SlackTeamId("T0HOST")
PARTNER_TEAM = SlackTeamId("T0PARTNER")
APPROVERS = (SlackUserId("U0DESK1"), SlackUserId("U0DESK2"))
ADMIN = SlackUserId("U0ADMIN")
PROGRAM = ProgramPolicy(products=("Cloud", "Support"))
DESK = DeskPolicy(
    channel_id=SlackChannelId("C0DESK"), approvers=frozenset(APPROVERS), admins=frozenset({ADMIN})
)

_serial = itertools.count(1)


def a_partner(**overrides: Any) -> Partner:
    """Initech (id 7, code IN, Gold tier) in its shared channel C0PARTNER, its people in
    PARTNER_TEAM. With `id=None` a partner to store: its own name, code and channel on every
    call (storage keeps them unique), and no Slack team unless one is given."""
    fields: dict[str, Any] = {
        "id": 7,
        "name": "Initech",
        "tier": "Gold",
        "channel_id": "C0PARTNER",
        "slack_team_id": PARTNER_TEAM,
        "code": "IN",
    }
    if overrides.get("id", 7) is None:
        n = next(_serial)
        fields |= {"name": f"Initech {n}", "code": f"IN{n}", "channel_id": f"C0PARTNER{n}"}
        fields["slack_team_id"] = None
    fields.update(overrides)
    return Partner(**fields)


def a_rep(**overrides: Any) -> Actor:
    """An external partner rep (of `a_partner()`'s team)."""
    fields: dict[str, Any] = {"team_id": PARTNER_TEAM, "user_id": "U0REP", "enterprise_id": None}
    fields.update(overrides)
    return Actor(**fields)


def an_approver(n: int = 0) -> Actor:
    """An internal deal-desk approver."""
    return Actor(team_id=HOST_TEAM, user_id=APPROVERS[n])


def an_admin() -> Actor:
    """An internal Dibs admin (links partners)."""
    return Actor(team_id=HOST_TEAM, user_id=ADMIN)


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


def a_registration(
    partner_id: int = 7,
    *,
    id: int | None = 1,
    details: DealDetails | None = None,
    by: Actor | None = None,
    now: datetime = NOW,
    submission_key: str | None = None,
    **fields: Any,
) -> Registration:
    """A registration of `a_partner()` submitted by `a_rep()` at `now`, in review: stored
    (id 1, `IN-0001`: the id is its number, no events waiting to be saved), or with
    `id=None` one to store (its submit and review events waiting). `fields` override any
    other field of the result."""
    registration = Registration.submit(
        partner_id=partner_id,
        details=details or some_details(),
        by=by or a_rep(),
        now=now,
        review_sla=PROGRAM.review_sla,
        submission_key=submission_key,
    )
    if id is not None:
        registration.pending_events()
        fields = {"id": id, "assigned_reference": f"IN-{id:04d}", **fields}
    return replace(registration, **fields)


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


def services(
    new_uow: Callable[[], UnitOfWork],
    *,
    at: datetime = NOW,
    clock: Callable[[], datetime] | None = None,
    rules: ConflictRules | None = None,
    privacy: PrivacyPolicy | None = None,
) -> Services:
    """The use cases on `new_uow`'s storage, at `at` (or by `clock`), with the test desk and
    program."""
    fixed = rules or ConflictRules()
    return Services.bind(
        ServiceContext(
            uow=new_uow,
            clock=clock or (lambda: at),
            desk=DESK,
            program=PROGRAM,
            privacy=privacy or PrivacyPolicy(),
            rules=lambda: fixed,
        )
    )


def calling(actor: Actor, channel_id: SlackChannelId | None = None) -> Caller:
    """`actor` asking, from `channel_id` (our host workspace decides who is staff)."""
    return Caller(actor, HOST_TEAM, channel_id)
