"""`storage.db`: how engines are configured for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool

from storage.db import is_memory_sqlite, make_engine, make_session_factory
from storage.models import Base
from storage.sqlite_checkpoint import BACKSTOP_PAGES, SQLITE_DEFAULT_PAGES, wal_checkpoints
from storage.uow import uow_factory
from tests.builders import a_partner


async def pragma(engine: AsyncEngine, name: str) -> object:
    async with engine.connect() as connection:
        return (await connection.execute(text(f"PRAGMA {name}"))).scalar()


class TestSqlite:
    async def test_file_database_uses_wal_foreign_keys_and_a_busy_timeout(
        self, tmp_path: Path
    ) -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
        try:
            assert await pragma(engine, "journal_mode") == "wal"
            assert await pragma(engine, "foreign_keys") == 1
            assert await pragma(engine, "busy_timeout") == 10_000
        finally:
            await engine.dispose()

    async def test_memory_database_is_one_shared_connection(self) -> None:
        engine = make_engine("sqlite+aiosqlite:///:memory:")
        try:
            assert isinstance(engine.pool, StaticPool)
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            new_uow = uow_factory(make_session_factory(engine))
            partner = a_partner(id=None)
            async with new_uow() as uow:
                await uow.partners.add(partner)
                await uow.commit()
            async with new_uow() as uow:
                assert await uow.partners.list_all() == [partner]
            assert await pragma(engine, "foreign_keys") == 1
        finally:
            await engine.dispose()

    @pytest.mark.parametrize(
        ("url", "memory"),
        [
            ("sqlite+aiosqlite://", True),
            ("sqlite+aiosqlite:///:memory:", True),
            ("sqlite+aiosqlite:///dibs.db", False),
            ("postgresql+asyncpg://postgres@localhost/test", False),
        ],
    )
    def test_recognises_private_memory_databases(self, url: str, memory: bool) -> None:
        assert is_memory_sqlite(make_url(url)) is memory


class TestBackgroundCheckpoints:
    async def test_a_thread_copies_the_log_back_while_commits_leave_it_alone(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "app.db"
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            async with engine.begin() as connection:
                await connection.exec_driver_sql("CREATE TABLE note (body TEXT)")
            async with wal_checkpoints(engine, interval=0.01) as stats:
                assert stats is not None
                assert await pragma(engine, "wal_autocheckpoint") == BACKSTOP_PAGES
                before = path.stat().st_size
                for _ in range(25):  # ~30 pages: far below any automatic checkpoint
                    async with engine.begin() as connection:
                        await connection.exec_driver_sql(
                            "INSERT INTO note VALUES (?)", ("x" * 5000,)
                        )
                passes = stats.passes
                async with asyncio.timeout(5):
                    while stats.passes < passes + 2:
                        await asyncio.sleep(0.01)
                assert stats.behind == 0
                # The rows reached the database file itself, not only the log.
                assert path.stat().st_size >= before + 25 * 5000
            assert await pragma(engine, "wal_autocheckpoint") == SQLITE_DEFAULT_PAGES
        finally:
            await engine.dispose()

    @pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "postgresql+asyncpg://u@h/db"])
    async def test_nothing_to_do_without_a_sqlite_file(self, url: str) -> None:
        engine = make_engine(url)
        try:
            async with wal_checkpoints(engine) as stats:
                assert stats is None
        finally:
            await engine.dispose()


async def test_naive_datetimes_are_refused(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        with pytest.raises(StatementError, match="naive datetime"):
            await connection.execute(
                Base.metadata.tables["slack_event_receipt"]
                .insert()
                .values(event_id="Ev1", received_at=datetime(2025, 1, 1))
            )


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://postgres@localhost/test", "postgresql+asyncpg"),
        ("postgres://postgres@localhost/test", "postgresql+asyncpg"),
        ("sqlite:///dibs.db", "sqlite+aiosqlite"),
        ("postgresql+asyncpg://postgres@localhost/test", "postgresql+asyncpg"),
    ],
)
async def test_plain_urls_get_the_async_driver(url: str, driver: str) -> None:
    engine = make_engine(url)
    try:
        assert engine.url.drivername == driver
    finally:
        await engine.dispose()


async def test_postgres_engine_has_a_bounded_pool() -> None:
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    try:
        assert isinstance(engine.pool, AsyncAdaptedQueuePool)
        assert engine.pool.size() == 5
    finally:
        await engine.dispose()
