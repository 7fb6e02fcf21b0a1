"""The vendor's CRM accounts and opportunities in SQL: upserted by external id, keys replaced."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import ConnectionPoolEntry

from domain.conflicts import ClaimKind, ConflictRules, account_ref, opportunity_ref
from domain.crm import Account, Opportunity, UpsertCounts
from domain.matching import CandidateKeys, CompanyRef
from storage.company_keys import KEY, delete_keys, insert_keys
from storage.models import CrmAccountRow, CrmOpportunityRow, utcnow
from storage.sql import batches, dialect_insert

ACCOUNT = cast(Table, CrmAccountRow.__table__)
OPPORTUNITY = cast(Table, CrmOpportunityRow.__table__)

R = TypeVar("R", Account, Opportunity)
_SQLITE_ANALYSIS_LIMIT = 1000
_SQLITE_CACHE_KIB = 256 * 1024
_PG_NO_FLUSH_WAIT = "SET synchronous_commit = off"


def tune_for_bulk_load(engine: AsyncEngine) -> None:
    """Set up `engine`'s connections for a large import (call before the first connects).

    SQLite gets a page cache big enough for the key index (the default 2 MiB turns every
    insert into page reads once the index outgrows it). PostgreSQL commits without waiting
    for the WAL flush: a crash may lose the last batches, which re-running the import (an
    upsert) restores, and nothing else shares these connections.
    """
    sqlite = engine.dialect.name == "sqlite"
    setting = f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}" if sqlite else _PG_NO_FLUSH_WAIT

    @event.listens_for(engine.sync_engine, "connect")
    def _tune(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(setting)
        finally:
            cursor.close()


class SqlAlchemyCrmRepository:
    """`domain.ports.CrmRepository` on an AsyncSession (the UoW owns the session)."""

    def __init__(self, session: AsyncSession, rules: ConflictRules) -> None:
        self._session = session
        self._rules = rules

    async def upsert_accounts(
        self,
        accounts: Sequence[Account],
        *,
        now: datetime | None = None,
        keys: Sequence[CandidateKeys] | None = None,
    ) -> UpsertCounts:
        """Insert new accounts, update known ones (by external id), and replace their keys."""
        return await self._upsert(
            ACCOUNT,
            ClaimKind.account,
            accounts,
            columns=_account_columns,
            ref=account_ref,
            now=now,
            keys=keys,
        )

    async def upsert_opportunities(
        self,
        opportunities: Sequence[Opportunity],
        *,
        now: datetime | None = None,
        keys: Sequence[CandidateKeys] | None = None,
    ) -> UpsertCounts:
        """Insert new opportunities, update known ones (by external id); keys replaced."""
        return await self._upsert(
            OPPORTUNITY,
            ClaimKind.opportunity,
            opportunities,
            columns=_opportunity_columns,
            ref=opportunity_ref,
            now=now,
            keys=keys,
        )

    async def count_accounts(self) -> int:
        """How many accounts are stored."""
        return int(await self._session.scalar(select(func.count()).select_from(ACCOUNT)) or 0)

    async def refresh_statistics(self) -> None:
        """Let the query planner see the tables' new sizes (ANALYZE) after a large import.

        Without it PostgreSQL plans key lookups for the empty tables it last saw (seconds
        per lookup at a million accounts, until autovacuum gets round to it). SQLite
        samples at most `_SQLITE_ANALYSIS_LIMIT` rows per index, so this stays quick.
        """
        connection = await self._session.connection()
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql(f"PRAGMA analysis_limit = {_SQLITE_ANALYSIS_LIMIT}")
        for table in (ACCOUNT.name, OPPORTUNITY.name, KEY.name):
            await connection.exec_driver_sql(f"ANALYZE {table}")

    async def _upsert(
        self,
        table: Table,
        kind: ClaimKind,
        records: Sequence[R],
        *,
        columns: Callable[[R], dict[str, Any]],
        ref: Callable[[R], CompanyRef],
        now: datetime | None,
        keys: Sequence[CandidateKeys] | None,
    ) -> UpsertCounts:
        """ON CONFLICT (external_id) DO UPDATE, then the keys: those of known records are
        deleted first, new records have none. Counts come from a pre-read of the ids."""
        if keys is not None and len(keys) != len(records):
            raise ValueError(f"{len(keys)} key sets for {len(records)} records")
        latest: dict[str, tuple[R, CandidateKeys | None]] = {
            record.external_id: (record, None if keys is None else keys[i])
            for i, record in enumerate(records)
        }
        if not latest:
            return UpsertCounts()
        imported_at = now or utcnow()
        known = await self._known(table, list(latest))
        rows = [{**columns(record), "imported_at": imported_at} for record, _ in latest.values()]
        ids: dict[str, int] = {}
        for batch in batches(rows):
            result = await self._session.execute(_upsert_statement(self._session, table), batch)
            ids.update({row.external_id: row.id for row in result})
        fresh: dict[int, CandidateKeys] = {}
        changed: dict[int, CandidateKeys] = {}
        for external_id, (record, given) in latest.items():
            found = self._rules.keys(ref(record)) if given is None else given
            (changed if external_id in known else fresh)[ids[external_id]] = found
        await delete_keys(self._session, kind, list(changed))
        await insert_keys(self._session, kind, {**changed, **fresh})
        return UpsertCounts(inserted=len(fresh), updated=len(changed))

    async def _known(self, table: Table, external_ids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        for chunk in batches(external_ids):
            statement = select(table.c.external_id).where(table.c.external_id.in_(chunk))
            known.update(await self._session.scalars(statement))
        return known


def _upsert_statement(session: AsyncSession, table: Table) -> Any:
    """INSERT … ON CONFLICT (external_id) DO UPDATE … RETURNING id, external_id.

    Executed with a list of rows, SQLAlchemy sends it as a few multi-row statements
    ("insertmanyvalues") compiled once, where a `.values([...])` statement is compiled anew
    for every batch.
    """
    insert = dialect_insert(session)(table)
    updated = [c.name for c in table.columns if c.name not in ("id", "external_id")]
    return insert.on_conflict_do_update(
        index_elements=[table.c.external_id],
        set_={name: insert.excluded[name] for name in updated},
    ).returning(table.c.id, table.c.external_id)


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
