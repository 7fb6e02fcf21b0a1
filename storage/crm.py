"""The vendor's CRM accounts and opportunities in SQL: upserted by external id, keys replaced."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Boolean, Dialect, Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.schema import CreateIndex, DropIndex
from sqlalchemy.types import TypeEngine

from domain.conflicts import ClaimKind, ConflictRules, account_ref, opportunity_ref
from domain.crm import Account, Opportunity, UpsertCounts
from domain.matching import CandidateKeys, CompanyRef, name_forms
from storage.company_keys import KEY, delete_keys, encode_keys, insert_encoded_keys
from storage.db import execute_on_connect
from storage.models import CrmAccountRow, CrmOpportunityRow, utcnow
from storage.sql import asyncpg_connection, batches

ACCOUNT = cast(Table, CrmAccountRow.__table__)
OPPORTUNITY = cast(Table, CrmOpportunityRow.__table__)

R = TypeVar("R", Account, Opportunity)
(_KEY_INDEX,) = (index for index in KEY.indexes if index.columns.keys()[0] == "key")
_SQLITE_ANALYSIS_LIMIT = 1000
_SQLITE_CACHE_KIB = 256 * 1024
_SQLITE_BULK = (f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}", "PRAGMA threads = 2")
_SQLITE_SORT = {"cache_size": -16 * 1024, "threads": 2}
"""How SQLite builds the key index: it sorts the entries in runs of at most the page
cache's size, each run on a helper thread, then merges them. A few big runs (the bulk
cache's 256 MiB) sort on one core and outgrow the CPU's caches: 13.5M keys took 22.5 and
23.0 s that way, 14.4 and 14.4 s in runs of 16 MiB on two threads (8 MiB: 16.4 s)."""
_PG_NO_FLUSH_WAIT = "SET synchronous_commit = off"


@dataclass(frozen=True, slots=True)
class BulkRecords:
    """Records ready to write in bulk, as an import's worker processes prepare them.

    `values[i]` are record i's column values (`account_values`, `opportunity_values`; the
    external id first) and `keys[i]` its candidate keys as `encode_keys` gives them.
    """

    values: list[tuple[Any, ...]]
    keys: list[str]


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
            ClaimKind.account,
            accounts,
            values=account_values,
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
            ClaimKind.opportunity,
            opportunities,
            values=opportunity_values,
            ref=opportunity_ref,
            now=now,
            keys=keys,
        )

    async def count_accounts(self) -> int:
        """How many accounts are stored."""
        return await self.stored(ClaimKind.account)

    async def stored(self, kind: ClaimKind) -> int:
        """How many records of this kind are stored."""
        table, _columns = _SHAPES[kind]
        return int(await self._session.scalar(select(func.count()).select_from(table)) or 0)

    async def defer_key_index(self) -> bool:
        """Drop the key index for a bulk load on SQLite, True if so (`ensure_key_index` puts
        it back); PostgreSQL keeps it (False).

        Adding a million records' keys to the index one by one touches its pages at random,
        and rewrites most of them in every batch once it outgrows the cache; building it
        afterwards is one sort. Meanwhile lookups scan the key table: slower, still right.
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

        Without it PostgreSQL plans key lookups for the empty tables it last saw (seconds
        per lookup at a million accounts, until autovacuum gets round to it). SQLite
        samples at most `_SQLITE_ANALYSIS_LIMIT` rows per index, so this stays quick.
        """
        connection = await self._session.connection()
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql(f"PRAGMA analysis_limit = {_SQLITE_ANALYSIS_LIMIT}")
        for table in (ACCOUNT.name, OPPORTUNITY.name, KEY.name):
            await connection.exec_driver_sql(f"ANALYZE {table}")

    async def bulk_upsert(
        self,
        kind: ClaimKind,
        records: BulkRecords,
        *,
        now: datetime | None = None,
        first_import: bool = False,
    ) -> UpsertCounts:
        """Insert new records and update known ones (by external id, which must not repeat
        within `records`), then their keys: those of known records are replaced.

        `first_import`: the table held no records of this kind when the import began, so no
        external id is looked up (one that another writer added since fails the unique index).
        """
        table, _columns = _SHAPES[kind]
        connection = await self._session.connection()
        external_ids = [values[0] for values in records.values]
        known = {} if first_import else await _ids_of(connection, table, external_ids)
        fresh = [i for i, external_id in enumerate(external_ids) if external_id not in known]
        ids = await _new_ids(connection, table, len(fresh))
        stamp = now or utcnow()
        values, keys = records.values, records.keys
        await _insert_rows(
            connection, kind, [(ids[n], *values[i]) for n, i in enumerate(fresh)], stamp
        )
        owners, encoded = list(ids), [keys[i] for i in fresh]
        if known:
            changed = [
                (known[external_ids[i]], i) for i in range(len(values)) if external_ids[i] in known
            ]
            await _update_rows(
                connection, kind, [(values[i], owner) for owner, i in changed], stamp
            )
            await delete_keys(self._session, kind, [owner for owner, _ in changed])
            owners += [owner for owner, _ in changed]
            encoded += [keys[i] for _, i in changed]
        await insert_encoded_keys(connection, kind, owners, encoded)
        return UpsertCounts(inserted=len(fresh), updated=len(known))

    async def discard_imported(self, kind: ClaimKind, stamp: datetime) -> None:
        """Delete the records of this kind imported at `stamp`, and their keys: a first
        import undone (all it wrote were new records)."""
        table, _columns = _SHAPES[kind]
        imported = select(table.c.id).where(table.c.imported_at == stamp)
        await self._session.execute(
            delete(KEY).where(KEY.c.owner_kind == kind.value, KEY.c.owner_id.in_(imported))
        )
        await self._session.execute(delete(table).where(table.c.imported_at == stamp))

    async def _upsert(
        self,
        kind: ClaimKind,
        records: Sequence[R],
        *,
        values: Callable[[R], tuple[Any, ...]],
        ref: Callable[[R], CompanyRef],
        now: datetime | None,
        keys: Sequence[CandidateKeys] | None,
    ) -> UpsertCounts:
        """`bulk_upsert` of domain records; of records sharing an external id the last wins."""
        if keys is not None and len(keys) != len(records):
            raise ValueError(f"{len(keys)} key sets for {len(records)} records")
        latest: dict[str, tuple[R, CandidateKeys | None]] = {
            record.external_id: (record, None if keys is None else keys[i])
            for i, record in enumerate(records)
        }
        if not latest:
            return UpsertCounts()
        bulk = BulkRecords(
            values=[values(record) for record, _ in latest.values()],
            keys=[
                encode_keys(self._rules.keys(ref(record)) if given is None else given)
                for record, given in latest.values()
            ],
        )
        return await self.bulk_upsert(kind, bulk, now=now)


async def _ids_of(
    connection: AsyncConnection, table: Table, external_ids: Sequence[str]
) -> dict[str, int]:
    """The stored ids of those external ids that are stored."""
    known: dict[str, int] = {}
    for chunk in batches(external_ids):
        statement = select(table.c.external_id, table.c.id).where(table.c.external_id.in_(chunk))
        known.update((row.external_id, row.id) for row in await connection.execute(statement))
    return known


async def _new_ids(connection: AsyncConnection, table: Table, count: int) -> list[int]:
    """`count` unused ids: PostgreSQL's sequence, or past SQLite's largest (the write lock,
    taken at BEGIN, keeps them ours until the commit)."""
    if not count:
        return []
    if connection.dialect.name == "postgresql":
        result = await connection.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
            f"FROM generate_series(1, {int(count)})"
        )
        return sorted(int(value) for value in result.scalars())
    top = await connection.scalar(select(func.coalesce(func.max(table.c.id), 0)))
    return list(range(int(top or 0) + 1, int(top or 0) + 1 + count))


async def _insert_rows(
    connection: AsyncConnection, kind: ClaimKind, rows: list[tuple[Any, ...]], stamp: datetime
) -> None:
    """Add (id, *values) rows, imported at `stamp`: COPY on PostgreSQL, else executemany."""
    if not rows:
        return
    table, columns = _SHAPES[kind]
    names = ("id", *columns, "imported_at")
    bind = _binder(table, names[:-1], connection.dialect)
    at = _bound_stamp(stamp, connection.dialect)
    bound = [(*bind(row), at) for row in rows]
    if connection.dialect.name == "postgresql":
        driver = await asyncpg_connection(connection)
        await driver.copy_records_to_table(table.name, records=bound, columns=names)
        return
    marks = ", ".join("?" * len(names))
    await connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", bound
    )


async def _update_rows(
    connection: AsyncConnection,
    kind: ClaimKind,
    rows: list[tuple[tuple[Any, ...], int]],
    stamp: datetime,
) -> None:
    """Overwrite stored records: (values, id) pairs, imported at `stamp`."""
    if not rows:
        return
    table, columns = _SHAPES[kind]
    names = (*columns, "imported_at", "id")
    bind = _binder(table, columns, connection.dialect)
    at = _bound_stamp(stamp, connection.dialect)
    bound = [(*bind(values), at, owner) for values, owner in rows]
    pg = connection.dialect.name == "postgresql"
    marks = [f"${n}" if pg else "?" for n in range(1, len(names) + 1)]
    assignments = ", ".join(
        f"{name} = {mark}" for name, mark in zip(names[:-1], marks[:-1], strict=True)
    )
    sql = f"UPDATE {table.name} SET {assignments} WHERE id = {marks[-1]}"
    if pg:
        await (await asyncpg_connection(connection)).executemany(sql, bound)
        return
    await connection.exec_driver_sql(sql, bound)


ACCOUNT_COLUMNS = (
    "external_id",
    "name",
    "domain",
    "country",
    "owner_slack_id",
    "owner_email",
    "is_customer",
    "is_named",
    "name_forms",
)
OPPORTUNITY_COLUMNS = (
    "external_id",
    "account_external_id",
    "name",
    "domain",
    "stage",
    "amount",
    "owner_slack_id",
    "owner_email",
    "created_at",
    "last_activity_at",
    "name_forms",
)
_SHAPES: dict[ClaimKind, tuple[Table, tuple[str, ...]]] = {
    ClaimKind.account: (ACCOUNT, ACCOUNT_COLUMNS),
    ClaimKind.opportunity: (OPPORTUNITY, OPPORTUNITY_COLUMNS),
}


def account_values(account: Account) -> tuple[Any, ...]:
    """An account's column values, in `ACCOUNT_COLUMNS` order (the external id first; its
    analysed name last, which conflict lookups read instead of analysing it again)."""
    a = account
    return (
        *(a.external_id, a.name, a.domain, a.country, a.owner_slack_id, a.owner_email),
        *(a.is_customer, a.is_named, name_forms(a.name)),
    )


def opportunity_values(opportunity: Opportunity) -> tuple[Any, ...]:
    """An opportunity's column values, in `OPPORTUNITY_COLUMNS` order (the external id first)."""
    o = opportunity
    return (
        *(o.external_id, o.account_external_id, o.name, o.domain, o.stage, o.amount),
        *(o.owner_slack_id, o.owner_email, o.created_at, o.last_activity_at),
        name_forms(o.name),
    )


def _processor(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The bind processor SQLAlchemy applies to `column_type` on `dialect` (that of the
    dialect's own type: SQLite's DATETIME writes text, where the generic one would not)."""
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def _bound_stamp(stamp: datetime, dialect: Dialect) -> Any:
    """`imported_at` as the driver takes it (the same for every row of a batch)."""
    processor = _processor(ACCOUNT.c.imported_at.type, dialect)
    return stamp if processor is None else processor(stamp)


def _binder(
    table: Table, names: Sequence[str], dialect: Dialect
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Converts a row of Python values to what the driver takes (SQLite's text timestamps,
    UTC), as SQLAlchemy would; columns whose type needs nothing are passed as they are, and
    so are booleans (the records' flags are bools, which both drivers take)."""
    convert = [
        (i, processor)
        for i, name in enumerate(names)
        if not isinstance(table.c[name].type, Boolean)
        and (processor := _processor(table.c[name].type, dialect)) is not None
    ]
    if not convert:
        return lambda row: row

    def bind(row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for i, processor in convert:
            values[i] = processor(values[i])
        return tuple(values)

    return bind
