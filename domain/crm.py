"""The vendor's direct-sales data (imported from its CRM) that registrations are checked against."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from domain.matching.folding import fold, tokens


@dataclass(frozen=True, slots=True)
class Account:
    """A direct CRM account. `external_id` is the CRM's id: imports upsert by it.

    `is_customer`: an existing customer (it goes to the incumbent); `is_named`: a named or
    house account, which stays direct whoever registers it.
    """

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


_MEMO = 4096
"""Distinct labels remembered: a CRM export repeats its account types and stages."""


@lru_cache(maxsize=_MEMO)
def is_customer_label(text: str) -> bool:
    """Whether a CRM's account type or lifecycle stage marks an existing customer: it starts
    with "customer" (Salesforce `Customer - Direct`, HubSpot `customer`)."""
    return fold(text).strip().startswith("customer")


def synthetic_id(name: str, *keys: str | None) -> str:
    """The external id of a record that has none: `dibs:` and 20 hex digits of a hash of its
    name (folded tokens: case and punctuation do not count) and `keys`, so importing the same
    record again updates it instead of adding it twice."""
    parts = [" ".join(tokens(name)) or name.strip().casefold()]
    parts += [(key or "").strip().casefold() for key in keys]
    return "dibs:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]
