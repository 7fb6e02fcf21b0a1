"""The inline SQLite driver: sqlite3 behind the interface SQLAlchemy's aiosqlite dialect drives.

Every SQLite engine that `storage.db.make_engine` builds runs on it, handed to SQLAlchemy as
the `async_creator` (the URL and the dialect stay `sqlite+aiosqlite`; only the connection
under the dialect is ours). aiosqlite runs each cursor call on its own thread and wakes the
event loop when it is done; here each call runs at once on the calling thread, so a unit of
work never waits for a thread to be scheduled. The trade: a statement blocks the event loop
while it runs. That is right for an embedded database in one process (the engine keeps one
connection, so the process never waits for itself); a second process holding the write lock
for long stalls the loop up to the busy timeout, which is why batch jobs commit in small
transactions.

The private contract. SQLAlchemy's adapter (`sqlalchemy.dialects.sqlite.aiosqlite`,
`AsyncAdapt_aiosqlite_connection`) is written for an `aiosqlite.Connection` and reaches past
its public API, so `InlineConnection` imitates these private parts of it:
- `_tx.put_nowait((future, function))` and `_conn`: setting `isolation_level` queues a
  function on aiosqlite's worker thread and awaits the future (`_RunNow` runs it at once);
- `_connection`: `commit()` and `rollback()` are skipped unless it is truthy (open);
- `stop()`: the forced close when a connection is terminated.
It also relies on what the adapter awaits or reads (`cursor()`, `commit()`, `rollback()`,
`close()`, `create_function()`, `isolation_level`; a cursor's `__aenter__`, `execute`,
`executemany`, `fetchmany`, `fetchall`, `close`, `description`, `rowcount`,
`lastrowid`, `arraysize`), on sqlite3's exceptions being the ones the dialect catches
(aiosqlite re-exports sqlite3's classes), and on `driver_connection` being the
`InlineConnection` itself (`storage.db` calls `begin_immediate` on it).

Guarded by `sqlalchemy` and `aiosqlite` pinned to the minor in pyproject.toml, and by
tests/integration/test_sqlite_adapter.py, which exercises each point above and names the pin
to revisit when an upgrade breaks one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Self

STATEMENT_CACHE = 512
"""Prepared statements sqlite3 keeps per connection (its default: 128). The conflict lookup's
statements cost more to prepare than to run (`storage.conflicts.prepare_lookups`), and
statements with IN lists come in one text per list length, which could push them out."""


class InlineCursor:
    """An aiosqlite-shaped cursor whose coroutines finish without suspending."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Self:
        return self

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Self:
        self._cursor.execute(sql, () if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Self:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _RunNow:
    """Stands in for aiosqlite's request queue (`_tx`): runs the function, settles the future."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InlineConnection:
    """An aiosqlite-shaped connection over a plain sqlite3 connection (see the module)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # None once closed
        self._tx = _RunNow()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    def begin_immediate(self) -> None:
        """Open a transaction holding the write lock (see `storage.db`), synchronously."""
        self._conn.execute("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (also SQLAlchemy's forced terminate); closing twice does nothing."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def inline_creator(database: str, *, uri: bool = False) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine` that opens `database` inline."""

    async def connect() -> InlineConnection:
        return InlineConnection(
            sqlite3.connect(
                database, uri=uri, check_same_thread=False, cached_statements=STATEMENT_CACHE
            )
        )

    return connect
