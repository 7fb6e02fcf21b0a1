"""Engine and session factory, built at start-up by whoever wires the app (never at import)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from storage.sqlite_inline import InlineConnection, inline_creator

SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(
    url: str, *, echo: bool = False, connect_args: dict[str, Any] | None = None
) -> AsyncEngine:
    """An async engine for `url` (SQLite or PostgreSQL), configured for this app's workload.

    SQLite always runs on the inline driver (`storage.sqlite_inline`), which takes no
    `connect_args` (ValueError): the engine sets the busy timeout, journal and transaction
    mode itself. For PostgreSQL they go to asyncpg as they are, e.g. `server_settings`.
    """
    parsed = with_async_driver(make_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.drivername != "sqlite+aiosqlite":
            raise ValueError(
                f"{parsed.drivername}: SQLite runs on the inline driver; "
                "write sqlite:///FILE (or sqlite+aiosqlite:///FILE)"
            )
        if connect_args:
            raise ValueError(
                f"the inline SQLite driver takes no connect_args (got {', '.join(connect_args)}):"
                " it sets the busy timeout, journal and transaction mode itself"
            )
        return _sqlite_engine(parsed, echo=echo)
    return _create_async_engine(
        parsed,
        echo=echo,
        connect_args=connect_args or {},
        pool_size=5,
        max_overflow=10,
        pool_timeout=30,
        pool_recycle=1800,
        pool_pre_ping=True,
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose loaded values stay readable after commit (no implicit async refresh)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def with_async_driver(url: URL) -> URL:
    """`postgresql://…` and `sqlite:///…` as people write them, with the async driver we ship."""
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg")
    if url.drivername == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    return url


def is_memory_sqlite(url: URL) -> bool:
    """Whether `url` names a private in-memory SQLite database."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _sqlite_engine(url: URL, *, echo: bool) -> AsyncEngine:
    """SQLAlchemy's aiosqlite dialect over the inline driver, one connection per process."""
    memory = is_memory_sqlite(url)
    database = url.database or ":memory:"
    options: dict[str, Any] = {
        "echo": echo,
        "async_creator": inline_creator(database, uri=database.startswith("file:")),
    }
    if memory:
        options["poolclass"] = StaticPool  # one connection, or every checkout sees a new DB
    else:
        # One connection per process: SQLite takes one writer at a time anyway, and waiting
        # in the pool's FIFO queue is fair and prompt, where SQLite's busy handler sleeps in
        # growing steps (up to 100 ms) and turns contention into long ack-time tails.
        options.update(pool_size=1, max_overflow=0, pool_timeout=30)
    engine = _create_async_engine(url, **options)
    _install_sqlite_hooks(engine, wal=not memory)
    return engine


def execute_on_connect(engine: AsyncEngine, *statements: str) -> Callable[..., None]:
    """Run `statements` on every connection `engine` opens from now on; returns the listener
    (for `sqlalchemy.event.remove`)."""

    def listener(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
        finally:
            cursor.close()

    event.listen(engine.sync_engine, "connect", listener)
    return listener


def _install_sqlite_hooks(engine: AsyncEngine, *, wal: bool) -> None:
    """Foreign keys on, WAL and a busy timeout for files, and BEGIN IMMEDIATE transactions.

    sqlite3 would only BEGIN at the first write, so two transactions that both read and
    then write fail with "database is locked" instead of waiting. Taking the write lock
    at BEGIN serialises writers through the busy timeout, so a transaction that reads a
    version and then writes is never based on a stale read.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Straight to sqlite3: every transaction begins, and a statement sent through
        # SQLAlchemy's async layer costs far more CPU than SQLite needs to run it.
        cast(InlineConnection, connection.connection.driver_connection).begin_immediate()
