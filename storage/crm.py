"""The vendor's CRM accounts and opportunities in SQL: upserted by external id, keys replaced."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.conflicts import ClaimKind, ConflictRules, account_ref, opportunity_ref
from domain.crm import Account, Opportunity, UpsertCounts
from domain.matching import CompanyRef
from storage.company_keys import replace_keys
from storage.models import CrmAccountRow, CrmOpportunityRow, utcnow
from storage.sql import batches, dialect_insert

ACCOUNT = cast(Table, CrmAccountRow.__table__)
OPPORTUNITY = cast(Table, CrmOpportunityRow.__table__)

R = TypeVar("R", Account, Opportunity)


class SqlAlchemyCrmRepository:
    """`domain.ports.CrmRepository` on an AsyncSession (the UoW owns the session)."""

    def __init__(self, session: AsyncSession, rules: ConflictRules) -> None:
        self._session = session
        self._rules = rules

    async def upsert_accounts(
        self, accounts: Sequence[Account], *, now: datetime | None = None
    ) -> UpsertCounts:
        """Insert new accounts, update known ones (by external id), and replace their keys."""
        return await self._upsert(
            ACCOUNT, ClaimKind.account, accounts, columns=_account_columns, ref=account_ref, now=now
        )

    async def upsert_opportunities(
        self, opportunities: Sequence[Opportunity], *, now: datetime | None = None
    ) -> UpsertCounts:
        """Insert new opportunities, update known ones (by external id); keys replaced."""
        return await self._upsert(
            OPPORTUNITY,
            ClaimKind.opportunity,
            opportunities,
            columns=_opportunity_columns,
            ref=opportunity_ref,
            now=now,
        )

    async def count_accounts(self) -> int:
        """How many accounts are stored."""
        return int(await self._session.scalar(select(func.count()).select_from(ACCOUNT)) or 0)

    async def _upsert(
        self,
        table: Table,
        kind: ClaimKind,
        records: Sequence[R],
        *,
        columns: Callable[[R], dict[str, Any]],
        ref: Callable[[R], CompanyRef],
        now: datetime | None,
    ) -> UpsertCounts:
        """ON CONFLICT (external_id) DO UPDATE in batches; counts from a pre-read of the ids."""
        latest = {record.external_id: record for record in records}
        if not latest:
            return UpsertCounts()
        imported_at = now or utcnow()
        known = await self._known(table, list(latest))
        ids: dict[str, int] = {}
        insert = dialect_insert(self._session)
        for batch in batches(list(latest.values())):
            rows = [{**columns(record), "imported_at": imported_at} for record in batch]
            values = insert(table).values(rows)
            upsert = values.on_conflict_do_update(
                index_elements=[table.c.external_id],
                set_={name: values.excluded[name] for name in rows[0] if name != "external_id"},
            ).returning(table.c.id, table.c.external_id)
            ids.update({row.external_id: row.id for row in await self._session.execute(upsert)})
        for fresh in (False, True):  # new records have no keys to delete first
            await replace_keys(
                self._session,
                kind,
                {
                    ids[x]: self._rules.keys(ref(r))
                    for x, r in latest.items()
                    if (x not in known) is fresh
                },
                fresh=fresh,
            )
        return UpsertCounts(inserted=len(latest) - len(known), updated=len(known))

    async def _known(self, table: Table, external_ids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        for chunk in batches(external_ids):
            statement = select(table.c.external_id).where(table.c.external_id.in_(chunk))
            known.update(await self._session.scalars(statement))
        return known


def _account_columns(account: Account) -> dict[str, Any]:
    return {
        "external_id": account.external_id,
        "name": account.name,
        "domain": account.domain,
        "country": account.country,
        "owner_slack_id": account.owner_slack_id,
        "owner_email": account.owner_email,
        "is_customer": account.is_customer,
        "is_named": account.is_named,
    }


def _opportunity_columns(opportunity: Opportunity) -> dict[str, Any]:
    return {
        "external_id": opportunity.external_id,
        "account_external_id": opportunity.account_external_id,
        "name": opportunity.name,
        "domain": opportunity.domain,
        "stage": opportunity.stage,
        "amount": opportunity.amount,
        "owner_slack_id": opportunity.owner_slack_id,
        "owner_email": opportunity.owner_email,
        "created_at": opportunity.created_at,
        "last_activity_at": opportunity.last_activity_at,
    }
