"""Small SQL helpers shared by the repositories: dialect upserts, batching, asyncpg."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

T = TypeVar("T")

BATCH = 500
"""Rows per statement: far below SQLite's and asyncpg's bound-parameter limits."""


def dialect_insert(session: AsyncSession) -> type[postgresql.Insert] | type[sqlite.Insert]:
    """INSERT with ON CONFLICT support for the session's database."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.Insert
    if name == "sqlite":
        return sqlite.Insert
    raise NotImplementedError(f"no upsert for the {name} dialect")


def batches(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    """`items` in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def asyncpg_connection(connection: AsyncConnection) -> Any:
    """The asyncpg connection under `connection` (COPY, array parameters), inside the
    connection's transaction."""
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():  # asyncpg's transaction starts with the first statement
        await connection.exec_driver_sql("SELECT 1")
    return driver


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE/INSERT/DELETE touched (`session.execute` types it loosely)."""
    return cast(CursorResult[Any], result).rowcount
