"""What "one owner per customer" means, checked on the stored state of a running Dibs, and the
Approve buttons the checks click. Shared by the state machine (SQLite) and the races
(PostgreSQL)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ids import Action
from domain.registration import RegistrationStatus
from storage.models import AuditEventRow, RegistrationFindingRow, RegistrationRow


async def assert_one_owner(engine: AsyncEngine, *, direct_websites: Collection[str]) -> None:
    """At most one approved registration per customer (the website it names now), one beside
    a direct claim only as a co-sell; and, by the stored findings, no conflict pair with both
    sides approved (a direct side counts as an owner unless the registration was co-sold)."""
    async with engine.connect() as connection:
        rows = (await connection.execute(select(RegistrationRow))).all()
        findings = (await connection.execute(select(RegistrationFindingRow))).all()
        events = (await connection.execute(select(AuditEventRow))).all()
    approved = {r.id for r in rows if r.status == RegistrationStatus.approved.value}
    co_sold = {
        e.registration_id
        for e in events
        if e.action == "adjudicate:co_sell" and e.to_status == RegistrationStatus.approved.value
    }
    owners: dict[str, list[int]] = {}
    for row in rows:
        if row.id in approved:
            owners.setdefault(_customer(row.website), []).append(row.id)
    for customer, ids in owners.items():
        assert len(ids) <= 1, f"{customer} has {len(ids)} approved registrations: {ids}"
        if customer in direct_websites:
            assert ids[0] in co_sold, f"{ids[0]} approved beside the direct team, not co-sold"
    for finding in findings:
        if finding.strength != "conflict" or finding.registration_id not in approved:
            continue
        if finding.claim_kind == "registration":
            assert finding.claim_id not in approved, (
                f"{finding.registration_id} and {finding.claim_id} both approved"
            )
        else:
            assert finding.registration_id in co_sold, (
                f"{finding.registration_id} approved beside a direct claim"
            )


def _customer(website: str) -> str:
    """`https://www.initech.com/` → `initech.com` (the tests' websites are that simple)."""
    return website.rsplit("://", maxsplit=1)[-1].split("/", maxsplit=1)[0].removeprefix("www.")


def approve_buttons(view_or_message: dict[str, Any]) -> list[dict[str, Any]]:
    """The Approve (or Settle conflict…) buttons of a card or an App Home view."""
    return [
        element
        for block in view_or_message.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == Action.review_approve
    ]
