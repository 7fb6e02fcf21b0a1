"""Writing the candidate key index (`company_key`) for registrations, accounts, opportunities."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, cast

from sqlalchemy import Table, delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.conflicts import ClaimKind
from storage.models import CompanyKeyRow
from storage.sql import batches

KEY = cast(Table, CompanyKeyRow.__table__)
KEY_LENGTH = 64
_COLUMNS = ("owner_kind", "owner_id", "key")


async def replace_keys(
    session: AsyncSession,
    kind: ClaimKind,
    keys_by_owner: Mapping[int, Collection[str]],
    *,
    fresh: bool = False,
) -> None:
    """Make each owner's keys exactly the given ones (`fresh`: the owners have none yet)."""
    owners = list(keys_by_owner)
    if owners and not fresh:
        for chunk in batches(owners):
            await session.execute(
                delete(KEY).where(KEY.c.owner_kind == kind.value, KEY.c.owner_id.in_(chunk))
            )
    rows = [
        {"owner_kind": kind.value, "owner_id": owner, "key": key}
        for owner, keys in keys_by_owner.items()
        for key in sorted({k[:KEY_LENGTH] for k in keys})
    ]
    for batch in batches(rows):
        await session.execute(insert(KEY), list(batch))


async def delete_keys(session: AsyncSession, kind: ClaimKind, owners: Collection[int]) -> None:
    """Drop every key of these owners."""
    for chunk in batches(list(owners)):
        await session.execute(
            delete(KEY).where(KEY.c.owner_kind == kind.value, KEY.c.owner_id.in_(chunk))
        )


async def insert_keys(
    session: AsyncSession, kind: ClaimKind, keys_by_owner: Mapping[int, Collection[str]]
) -> None:
    """Add keys for owners that have none, in bulk: COPY on PostgreSQL, else executemany.

    Written below the ORM (plain tuples of strings and ints) because a CRM import writes
    ten-odd keys per record, millions per file, and per-row statement handling would cost
    more than the database does.
    """
    rows = _rows(kind, keys_by_owner)
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await _copy(connection, rows)
        return
    await connection.exec_driver_sql(
        "INSERT INTO company_key (owner_kind, owner_id, key) VALUES (?, ?, ?)", rows
    )


async def _copy(connection: AsyncConnection, rows: list[tuple[str, int, str]]) -> None:
    """COPY the rows in with asyncpg, inside the session's transaction."""
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():  # asyncpg's transaction starts with the first statement
        await connection.exec_driver_sql("SELECT 1")
    await driver.copy_records_to_table("company_key", records=rows, columns=_COLUMNS)


def _rows(
    kind: ClaimKind, keys_by_owner: Mapping[int, Collection[str]]
) -> list[tuple[str, int, str]]:
    value = kind.value  # an enum member's .value is a descriptor call: not once per key
    return [
        (value, owner, key)
        for owner, keys in keys_by_owner.items()
        for key in sorted({k[:KEY_LENGTH] for k in keys})
    ]
