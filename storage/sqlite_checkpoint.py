"""Checkpointing a SQLite file's write-ahead log on a worker thread, off the event loop.

SQLite copies the log back into the database file inside whichever commit pushes it past
`wal_autocheckpoint` pages; with the inline driver that commit runs on the event loop, and every
request in flight waits for the copy and its fsync. While `wal_checkpoints` runs, a thread with
its own connection checkpoints every `interval` seconds instead (PASSIVE: it never blocks the
writer or readers; the sqlite3 module releases the GIL while SQLite works), and the app's
connections keep only a distant automatic checkpoint as a backstop, should the thread fall
behind. The trade: now and then a commit waits for a lock the checkpoint holds while it fsyncs
the database file, instead of commits doing the whole checkpoint themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import SQLITE_BUSY_TIMEOUT_MS, execute_on_connect, is_memory_sqlite

logger = logging.getLogger(__name__)

BACKSTOP_PAGES = 10_000
"""The app connections' own automatic checkpoint while the thread runs (~40 MB of log)."""
SQLITE_DEFAULT_PAGES = 1_000


@dataclass(slots=True)
class CheckpointStats:
    """What the background checkpoints did: passes run; frames the last pass left in the log
    because a reader still needed them (0: caught up)."""

    passes: int = 0
    behind: int = 0


@contextlib.asynccontextmanager
async def wal_checkpoints(
    engine: AsyncEngine, *, interval: float = 0.25
) -> AsyncIterator[CheckpointStats | None]:
    """Checkpoint the engine's SQLite file on a thread while the block runs.

    Yields the running tally, or None for engines with nothing to do (PostgreSQL, a
    private in-memory SQLite database).
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or is_memory_sqlite(url) or url.database is None:
        yield None
        return
    database = url.database
    uri = database.startswith("file:")
    listener = execute_on_connect(engine, f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
    await _set_autocheckpoint(engine, BACKSTOP_PAGES)
    # One thread owns the connection and runs its calls in order: closing it while a
    # checkpoint runs on another thread (as a cancelled `to_thread` leaves it) would crash.
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dibs-checkpoint")
    loop = asyncio.get_running_loop()
    connection = await loop.run_in_executor(thread, _connect, database, uri)
    stats = CheckpointStats()
    stop = asyncio.Event()
    task = asyncio.create_task(_checkpoint_until(stop, thread, connection, stats, interval))
    try:
        yield stats
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        thread.submit(connection.close)
        thread.shutdown(wait=False)
        event.remove(engine.sync_engine, "connect", listener)
        await _set_autocheckpoint(engine, SQLITE_DEFAULT_PAGES)


async def _checkpoint_until(
    stop: asyncio.Event,
    thread: ThreadPoolExecutor,
    connection: sqlite3.Connection,
    stats: CheckpointStats,
    interval: float,
) -> None:
    """Checkpoint every `interval` seconds, and once more when `stop` is set."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await stop.wait()
        try:
            stats.behind = await loop.run_in_executor(thread, _checkpoint, connection)
            stats.passes += 1
        except sqlite3.Error:
            # The backstop keeps the log bounded meanwhile; the next pass tries again.
            logger.exception("background WAL checkpoint failed")


def _connect(database: str, uri: bool) -> sqlite3.Connection:
    connection = sqlite3.connect(database, uri=uri, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    return connection


def _checkpoint(connection: sqlite3.Connection) -> int:
    """One PASSIVE checkpoint; how many log frames it could not copy back yet."""
    _busy, log, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return max(0, int(log) - int(copied))


async def _set_autocheckpoint(engine: AsyncEngine, pages: int) -> None:
    """Set the automatic checkpoint of the pooled connection (SQLite files keep one)."""
    async with engine.connect() as connection:
        await connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {pages}")
