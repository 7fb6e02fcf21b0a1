"""The inline SQLite driver's contract (`storage.sqlite_inline`) and how engines choose it.

SQLAlchemy's aiosqlite adapter is written for `aiosqlite.Connection` and reaches into its
private parts; the inline driver imitates them. Each test below drives one point of that
contract through the real adapter, so an upgrade that moves one fails here and names the pins
to revisit.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import sqlite3
import threading
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import sqlalchemy
from packaging.requirements import Requirement
from packaging.version import Version
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import make_engine
from storage.sqlite_inline import InlineConnection
from tests.integration.conftest import PG_URL

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
PINNED = ("sqlalchemy", "aiosqlite")


def pins() -> dict[str, Requirement]:
    """The project's requirements on the libraries whose private contract the driver uses."""
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    requirements = [Requirement(line) for line in dependencies]
    return {r.name.lower(): r for r in requirements if r.name.lower() in PINNED}


def broken(point: str) -> str:
    shown = "; ".join(f"`{r}`" for r in pins().values())
    return (
        f"storage/sqlite_inline.py's contract broke ({point}) under SQLAlchemy "
        f"{sqlalchemy.__version__} and aiosqlite {aiosqlite.__version__}: revisit the pins "
        f"{shown} in pyproject.toml and adapt the driver to the new adapter"
    )


@contextlib.contextmanager
def contract(point: str) -> Iterator[None]:
    """Turn whatever the adapter raises into a failure that names the pins."""
    try:
        yield
    except Exception as error:
        pytest.fail(f"{broken(point)}\n{type(error).__name__}: {error}")


@pytest.fixture
async def inline(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'inline.db'}")
    with contract("connecting (isolation_level, create_function) and beginning"):
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"
            )
            await connection.exec_driver_sql("CREATE UNIQUE INDEX note_body ON note (body)")
    yield engine
    await engine.dispose()


async def driver_of(connection: AsyncConnection) -> InlineConnection:
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, InlineConnection), broken("driver_connection")
    return driver


def adapter_of(connection: Connection) -> Any:
    """SQLAlchemy's adapter around the driver (what the pool hands out as the DBAPI one)."""
    return connection.connection.dbapi_connection


@pytest.mark.parametrize("name", PINNED)
def test_the_libraries_are_pinned_to_the_installed_minor(name: str) -> None:
    requirement = pins().get(name)
    assert requirement is not None, f"pyproject.toml no longer requires {name}"
    installed = Version(importlib.metadata.version(name))
    next_minor = Version(f"{installed.major}.{installed.minor + 1}")
    assert installed in requirement.specifier, broken(f"{name} {installed} is outside the pin")
    assert next_minor not in requirement.specifier, f"`{requirement}` must stop before {next_minor}"


async def test_aiosqlite_still_has_the_private_parts_the_driver_imitates() -> None:
    """The adapter is written for these; if aiosqlite drops one, the adapter will follow."""
    connection = await aiosqlite.connect(":memory:")
    try:
        with contract("aiosqlite.Connection._tx, _conn, _connection, stop"):
            assert callable(connection._tx.put_nowait)
            assert isinstance(connection._conn, sqlite3.Connection)
            assert connection._connection is connection._conn
            assert callable(connection.stop)
    finally:
        await connection.close()
    assert connection._connection is None, broken("aiosqlite clears _connection on close")


async def test_the_engine_hands_out_the_inline_driver(inline: AsyncEngine) -> None:
    async with inline.connect() as connection:
        await driver_of(connection)
    assert inline.dialect.driver == "aiosqlite", broken("dialect")
    assert inline.dialect.has_terminate, broken("aiosqlite.Connection.stop (has_terminate)")


async def test_isolation_level_is_set_through_the_request_queue(inline: AsyncEngine) -> None:
    def set_and_read(connection: Connection) -> tuple[str | None, str | None]:
        adapter = adapter_of(connection)
        adapter.isolation_level = "IMMEDIATE"  # `_tx.put_nowait((future, fn))` on `_conn`
        changed = adapter.isolation_level
        adapter.isolation_level = None
        return changed, adapter.isolation_level

    async with inline.connect() as connection:
        driver = await driver_of(connection)
        with contract("isolation_level through _tx and _conn"):
            assert await connection.run_sync(set_and_read) == ("IMMEDIATE", None)
        assert driver._conn.isolation_level is None, broken("isolation_level")


async def test_a_transaction_holds_the_write_lock_from_its_begin(
    inline: AsyncEngine, tmp_path: Path
) -> None:
    async with inline.begin() as connection:
        driver = await driver_of(connection)
        assert driver._conn.in_transaction, broken("driver_connection.begin_immediate")
        other = sqlite3.connect(tmp_path / "inline.db", timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


async def test_commit_and_rollback_are_skipped_once_the_driver_is_closed(
    inline: AsyncEngine,
) -> None:
    def close_then_end(connection: Connection) -> None:
        adapter = adapter_of(connection)
        adapter.close()  # awaits the driver's close(), which clears `_connection`
        adapter.commit()  # on a closed sqlite3 connection these would raise
        adapter.rollback()

    async with inline.connect() as connection:
        driver = await driver_of(connection)
        with contract("commit/rollback gated on _connection"):
            await connection.run_sync(close_then_end)
        assert driver._connection is None, broken("close()")
        await connection.invalidate()


async def test_terminate_outside_the_loop_stops_the_driver(inline: AsyncEngine) -> None:
    async with inline.connect() as connection:
        driver = await driver_of(connection)
        adapter: Any = (await connection.get_raw_connection()).dbapi_connection
        with contract("terminate() -> stop()"):
            adapter.terminate()  # outside a greenlet, as the garbage collector's clean-up does
        assert driver._connection is None, broken("terminate() -> stop()")
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            driver._conn.execute("SELECT 1")
        await connection.invalidate()


async def test_the_dialect_registers_its_functions_through_the_driver(
    inline: AsyncEngine,
) -> None:
    async with inline.connect() as connection:
        with contract("create_function (REGEXP)"):
            assert (await connection.execute(text("SELECT 'abc' REGEXP 'b.'"))).scalar() == 1


async def test_statements_run_on_the_event_loop_thread(inline: AsyncEngine) -> None:
    def register(connection: Connection) -> None:
        adapter_of(connection).create_function("thread_id", 0, threading.get_ident)

    async with inline.connect() as connection:
        await connection.run_sync(register)
        thread = (await connection.execute(text("SELECT thread_id()"))).scalar()
    assert thread == threading.get_ident()


async def test_the_cursor_surface_the_adapter_uses(inline: AsyncEngine) -> None:
    async with inline.begin() as connection:
        with contract("cursor surface"):
            inserted = await connection.exec_driver_sql("INSERT INTO note (body) VALUES ('a')")
            assert inserted.lastrowid == 1
            await connection.exec_driver_sql(
                "INSERT INTO note (body) VALUES (?)", [("b",), ("c",), ("d",)]
            )  # executemany
            updated = await connection.exec_driver_sql("UPDATE note SET body = body || '!'")
            assert updated.rowcount == 4
            result = await connection.execute(text("SELECT id, body FROM note ORDER BY id"))
            assert list(result.keys()) == ["id", "body"]  # description
            assert result.fetchmany() == [(1, "a!")]  # arraysize
            assert result.fetchall() == [(2, "b!"), (3, "c!"), (4, "d!")]
            streamed = await connection.stream(
                text("SELECT body FROM note ORDER BY id"), execution_options={"yield_per": 3}
            )
            assert [row.body async for row in streamed] == ["a!", "b!", "c!", "d!"]


async def test_sqlite_errors_reach_sqlalchemy_as_its_own(inline: AsyncEngine) -> None:
    async with inline.begin() as connection:
        await connection.exec_driver_sql("INSERT INTO note (body) VALUES ('a')")
        with pytest.raises(IntegrityError, match="UNIQUE") as raised:
            await connection.exec_driver_sql("INSERT INTO note (body) VALUES ('a')")
        assert isinstance(raised.value.orig, sqlite3.IntegrityError), broken("exceptions")
        with pytest.raises(OperationalError, match="no such table"):
            await connection.exec_driver_sql("SELECT * FROM missing")


class TestChoosingTheDriver:
    @pytest.mark.parametrize("url", ["sqlite://", "sqlite:///dibs.db"])
    async def test_sqlite_refuses_connect_args_it_would_ignore(self, url: str) -> None:
        with pytest.raises(ValueError, match=r"no connect_args \(got timeout\)"):
            make_engine(url, connect_args={"timeout": 5})

    async def test_sqlite_takes_no_other_driver(self) -> None:
        with pytest.raises(ValueError, match="sqlite\\+pysqlite: SQLite runs on the inline"):
            make_engine("sqlite+pysqlite:///dibs.db")

    @pytest.mark.postgres
    async def test_postgres_passes_connect_args_to_asyncpg(self) -> None:
        engine = make_engine(
            PG_URL, connect_args={"server_settings": {"application_name": "dibs-adapter-test"}}
        )
        try:
            async with engine.connect() as connection:
                shown = await connection.exec_driver_sql("SHOW application_name")
                assert shown.scalar() == "dibs-adapter-test"
        finally:
            await engine.dispose()
