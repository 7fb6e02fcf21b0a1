"""The vendor's CRM accounts and opportunities in SQL: upserted by external id, keys replaced."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.schema import CreateIndex, DropIndex

from domain.conflicts import ClaimKind, ConflictRules, account_ref, opportunity_ref
from domain.crm import Account, Opportunity, UpsertCounts
from domain.crm_import import ImportBatch
from domain.matching import CandidateKeys
from storage import company_keys
from storage.company_keys import KEY, delete_keys, insert_encoded_keys
from storage.crm_rows import (
    ACCOUNT,
    OPPORTUNITY,
    SHAPES,
    ids_of,
    insert_rows,
    new_ids,
    update_rows,
)
from storage.db import execute_on_connect
from storage.models import utcnow

__all__ = ["ACCOUNT", "OPPORTUNITY", "SqlAlchemyCrmRepository", "tune_for_bulk_load"]
(_KEY_INDEX,) = (index for index in KEY.indexes if index.columns.keys()[0] == "key")
_SQLITE_ANALYSIS_LIMIT = 1000
_SQLITE_CACHE_KIB = 256 * 1024
_SQLITE_BULK = (f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}", "PRAGMA threads = 2")
_SQLITE_SORT = {"cache_size": -16 * 1024, "threads": 2}
"""How SQLite builds the key index: it sorts the entries in runs of at most the page
cache's size, each on a helper thread, then merges them; small runs on two threads keep
within the CPU's caches, where the bulk cache's few big runs would not."""
_PG_NO_FLUSH_WAIT = "SET synchronous_commit = off"


def tune_for_bulk_load(engine: AsyncEngine) -> None:
    """Set up `engine`'s connections for a large import (call before the first connects).

    SQLite gets a page cache big enough for the key index (the default 2 MiB turns every
    insert into page reads once the index outgrows it), and a helper thread to sort with
    when it builds the key index after a bulk load. PostgreSQL commits without waiting
    for the WAL flush: a crash may lose the last batches, which re-running the import (an
    upsert) restores, and nothing else shares these connections.
    """
    sqlite = engine.dialect.name == "sqlite"
    execute_on_connect(engine, *(_SQLITE_BULK if sqlite else (_PG_NO_FLUSH_WAIT,)))


class SqlAlchemyCrmRepository:
    """`domain.ports.CrmRepository` on an AsyncSession (the UoW owns the session)."""

    @staticmethod
    def encode_keys(keys: Collection[str], /) -> str:
        """A record's keys as one JSON array (`company_keys.encode_keys`)."""
        return company_keys.encode_keys(keys)

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
        return await self._upsert(ClaimKind.account, accounts, now=now, keys=keys)

    async def upsert_opportunities(
        self,
        opportunities: Sequence[Opportunity],
        *,
        now: datetime | None = None,
        keys: Sequence[CandidateKeys] | None = None,
    ) -> UpsertCounts:
        """Insert new opportunities, update known ones (by external id); keys replaced."""
        return await self._upsert(ClaimKind.opportunity, opportunities, now=now, keys=keys)

    async def count_accounts(self) -> int:
        """How many accounts are stored."""
        return await self.count(ClaimKind.account)

    async def count(self, kind: ClaimKind) -> int:
        """How many records of this kind are stored."""
        table, _columns = SHAPES[kind]
        return int(await self._session.scalar(select(func.count()).select_from(table)) or 0)

    async def defer_key_index(self) -> bool:
        """Drop the key index for a bulk load on SQLite, True if so (`ensure_key_index` puts
        it back); PostgreSQL keeps it (False).

        Adding many records' keys to the index one by one touches its pages at random; building
        it afterwards is one sort. Meanwhile lookups scan the key table: slower, still right.
        """
        connection = await self._session.connection()
        if connection.dialect.name != "sqlite":
            return False
        await connection.execute(DropIndex(_KEY_INDEX, if_exists=True))
        return True

    async def ensure_key_index(self) -> None:
        """Create the key index unless it exists (after a bulk load, or one that was killed)."""
        connection = await self._session.connection()
        if connection.dialect.name != "sqlite":
            await connection.execute(CreateIndex(_KEY_INDEX, if_not_exists=True))
            return
        previous = {
            name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
            for name in _SQLITE_SORT
        }
        try:
            for name, value in _SQLITE_SORT.items():
                await connection.exec_driver_sql(f"PRAGMA {name} = {value}")
            await connection.execute(CreateIndex(_KEY_INDEX, if_not_exists=True))
        finally:
            for name, value in previous.items():
                await connection.exec_driver_sql(f"PRAGMA {name} = {int(value)}")

    async def refresh_statistics(self) -> None:
        """Let the query planner see the tables' new sizes (ANALYZE) after a large import.

        Without it PostgreSQL plans key lookups for the empty tables it last saw, until
        autovacuum gets round to it. SQLite samples at most `_SQLITE_ANALYSIS_LIMIT` rows per
        index, so this stays quick.
        """
        connection = await self._session.connection()
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql(f"PRAGMA analysis_limit = {_SQLITE_ANALYSIS_LIMIT}")
        for table in (ACCOUNT.name, OPPORTUNITY.name, KEY.name):
            await connection.exec_driver_sql(f"ANALYZE {table}")

    async def upsert_batch(
        self, batch: ImportBatch, *, imported_at: datetime, first_import: bool = False
    ) -> UpsertCounts:
        """Insert new records and update known ones (by external id, which must not repeat
        within `batch`), then their keys: those of known records are replaced.

        `first_import`: the table held no records of this kind when the import began, so no
        external id is looked up (one that another writer added since fails the unique index).
        """
        kind = batch.kind
        table, _columns = SHAPES[kind]
        connection = await self._session.connection()
        values, keys = batch.rows, batch.keys
        external_ids = [row[0] for row in values]
        known = {} if first_import else await ids_of(connection, table, external_ids)
        fresh = [i for i, external_id in enumerate(external_ids) if external_id not in known]
        ids = await new_ids(connection, table, len(fresh))
        await insert_rows(
            connection, kind, [(ids[n], *values[i]) for n, i in enumerate(fresh)], imported_at
        )
        owners, encoded = list(ids), [keys[i] for i in fresh]
        if known:
            changed = [
                (known[external_ids[i]], i) for i in range(len(values)) if external_ids[i] in known
            ]
            await update_rows(
                connection, kind, [(values[i], owner) for owner, i in changed], imported_at
            )
            await delete_keys(self._session, kind, [owner for owner, _ in changed])
            owners += [owner for owner, _ in changed]
            encoded += [keys[i] for _, i in changed]
        await insert_encoded_keys(connection, kind, owners, encoded)
        return UpsertCounts(inserted=len(fresh), updated=len(known))

    async def discard_imported(self, kind: ClaimKind, imported_at: datetime) -> None:
        """Delete the records of this kind imported at `imported_at`, and their keys: a first
        import undone (all it wrote were new records)."""
        table, _columns = SHAPES[kind]
        imported = select(table.c.id).where(table.c.imported_at == imported_at)
        await self._session.execute(
            delete(KEY).where(KEY.c.owner_kind == kind.value, KEY.c.owner_id.in_(imported))
        )
        await self._session.execute(delete(table).where(table.c.imported_at == imported_at))

    async def _upsert(
        self,
        kind: ClaimKind,
        records: Sequence[Account | Opportunity],
        *,
        now: datetime | None,
        keys: Sequence[CandidateKeys] | None,
    ) -> UpsertCounts:
        """`upsert_batch` of domain records; of records sharing an external id the last wins."""
        if keys is not None and len(keys) != len(records):
            raise ValueError(f"{len(keys)} key sets for {len(records)} records")
        latest: dict[str, tuple[Account | Opportunity, Collection[str] | None]] = {
            record.external_id: (record, None if keys is None else keys[i])
            for i, record in enumerate(records)
        }
        if not latest:
            return UpsertCounts()
        batch = ImportBatch.of(
            kind,
            [record for record, _ in latest.values()],
            [self._keys(record) if given is None else given for record, given in latest.values()],
            self.encode_keys,
        )
        return await self.upsert_batch(batch, imported_at=now or utcnow())

    def _keys(self, record: Account | Opportunity) -> Collection[str]:
        ref = account_ref(record) if isinstance(record, Account) else opportunity_ref(record)
        return self._rules.keys(ref)
