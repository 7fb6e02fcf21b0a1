"""The vendor's direct-sales data (imported from its CRM) that registrations are checked against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Account:
    """A direct CRM account. `external_id` is the CRM's id: imports upsert by it."""

    external_id: str
    name: str
    domain: str | None = None
    country: str | None = None
    owner_slack_id: str | None = None
    owner_email: str | None = None
    is_customer: bool = False
    is_named: bool = False


@dataclass(frozen=True, slots=True)
class Opportunity:
    """An open direct opportunity: someone on the direct team is working this customer."""

    external_id: str
    account_external_id: str | None
    name: str
    domain: str | None = None
    stage: str | None = None
    amount: Decimal | None = None
    owner_slack_id: str | None = None
    owner_email: str | None = None
    created_at: datetime | None = None
    last_activity_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What an import batch did: rows inserted and rows updated (matched by external id)."""

    inserted: int = 0
    updated: int = 0
