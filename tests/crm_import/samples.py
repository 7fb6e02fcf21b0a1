"""The sample exports (tests/data/crm) and our own headers."""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "crm"
ACCOUNT_HEADERS = (
    "external_id",
    "name",
    "domain",
    "country",
    "owner_slack_id",
    "owner_email",
    "is_customer",
    "is_named",
)
OPPORTUNITY_HEADERS = (
    "external_id",
    "account_external_id",
    "account_name",
    "name",
    "domain",
    "stage",
    "amount",
    "owner_slack_id",
    "owner_email",
    "created_at",
    "last_activity_at",
)


def headers_of(name: str) -> list[str]:
    with (DATA / name).open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle))
