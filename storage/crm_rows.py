"""Writing CRM records below the ORM, in bulk: column tuples bound as the driver takes them,
COPY on PostgreSQL and executemany on SQLite."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Boolean, Dialect, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from domain.conflicts import ClaimKind
from domain.crm import Account, Opportunity
from storage.models import CrmAccountRow, CrmOpportunityRow
from storage.sql import asyncpg_connection, batches

ACCOUNT = cast(Table, CrmAccountRow.__table__)
OPPORTUNITY = cast(Table, CrmOpportunityRow.__table__)


async def ids_of(
    connection: AsyncConnection, table: Table, external_ids: Sequence[str]
) -> dict[str, int]:
    """The stored ids of those external ids that are stored."""
    known: dict[str, int] = {}
    for chunk in batches(external_ids):
        statement = select(table.c.external_id, table.c.id).where(table.c.external_id.in_(chunk))
        known.update((row.external_id, row.id) for row in await connection.execute(statement))
    return known


async def new_ids(connection: AsyncConnection, table: Table, count: int) -> list[int]:
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


async def insert_rows(
    connection: AsyncConnection, kind: ClaimKind, rows: list[tuple[Any, ...]], stamp: datetime
) -> None:
    """Add (id, *values) rows, imported at `stamp`: COPY on PostgreSQL, else executemany."""
    if not rows:
        return
    table, columns = SHAPES[kind]
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


async def update_rows(
    connection: AsyncConnection,
    kind: ClaimKind,
    rows: list[tuple[tuple[Any, ...], int]],
    stamp: datetime,
) -> None:
    """Overwrite stored records: (values, id) pairs, imported at `stamp`."""
    if not rows:
        return
    table, columns = SHAPES[kind]
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
SHAPES: dict[ClaimKind, tuple[Table, tuple[str, ...]]] = {
    ClaimKind.account: (ACCOUNT, ACCOUNT_COLUMNS),
    ClaimKind.opportunity: (OPPORTUNITY, OPPORTUNITY_COLUMNS),
}
"""Each kind's table and the columns an `ImportBatch` row fills, in its order."""

for _record, _columns in ((Account, ACCOUNT_COLUMNS), (Opportunity, OPPORTUNITY_COLUMNS)):
    # `ImportBatch.rows` hold a record's fields in declaration order, then its analysed name
    if _columns != (*(f.name for f in fields(_record)), "name_forms"):
        raise RuntimeError(f"{_record.__name__} columns do not follow its fields")


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
