"""Storage tests run on SQLite and on PostgreSQL (marked `postgres`).

SQLite: a fresh database file per test (a file, not `:memory:`, as the app uses). Its units of
work take turns on the engine's one connection (`BEGIN IMMEDIATE`), so a SQLite "race" is an
ordering, checked both ways; transactions that truly overlap are PostgreSQL's. PostgreSQL:
one schema per test session, `dibs_test_<random>`, reached through `search_path`, emptied
after each test and dropped at the end, so concurrent runs never clash. If PostgreSQL cannot
be reached the postgres tests fail (CI starts it); set DIBS_SKIP_POSTGRES=1 to skip them
instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.partner import Partner
from storage.db import make_engine, make_session_factory
from storage.models import Base
from storage.uow import SqlAlchemyUnitOfWork, uow_factory
from tests.builders import PARTNER_TEAM, a_partner, a_registration

PG_URL = os.environ.get("DIBS_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SKIP_POSTGRES = os.environ.get("DIBS_SKIP_POSTGRES") == "1"
PG_CONNECT_TIMEOUT = 5

T = TypeVar("T")
NewUow = Callable[[], SqlAlchemyUnitOfWork]


@dataclass(frozen=True, slots=True)
class PgSchema:
    """A private schema on the test server; engines reach it through `search_path`."""

    url: str
    name: str

    @property
    def connect_args(self) -> dict[str, Any]:
        return {"server_settings": {"search_path": self.name}, "timeout": PG_CONNECT_TIMEOUT}

    def engine(self) -> AsyncEngine:
        return make_engine(self.url, connect_args=self.connect_args)


def run_in_thread(coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on its own loop, away from pytest-asyncio's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine()).result()


async def create_schema(url: str, name: str) -> None:
    """Create an empty schema (`name` is generated here, never user input)."""
    engine = make_engine(url, connect_args={"timeout": PG_CONNECT_TIMEOUT})
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{name}"'))
    finally:
        await engine.dispose()


async def drop_schema(url: str, name: str) -> None:
    """Drop the schema and everything in it."""
    engine = make_engine(url, connect_args={"timeout": PG_CONNECT_TIMEOUT})
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    finally:
        await engine.dispose()


def new_pg_schema(prefix: str = "dibs_test") -> PgSchema:
    """Create a fresh schema, or fail (or skip, if asked to) when the server is unreachable."""
    if SKIP_POSTGRES:
        pytest.skip("DIBS_SKIP_POSTGRES=1")
    schema = PgSchema(PG_URL, f"{prefix}_{secrets.token_hex(4)}")
    try:
        run_in_thread(lambda: create_schema(schema.url, schema.name))
    except Exception as error:  # any cause: refused, timeout, auth, missing database
        shown = make_url(PG_URL).render_as_string(hide_password=True)
        pytest.fail(
            f"PostgreSQL is not reachable at {shown} ({type(error).__name__}: {error}). "
            "Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main "
            "start), point DIBS_TEST_PG_URL at a server, or set DIBS_SKIP_POSTGRES=1.",
            pytrace=False,
        )
    return schema


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[PgSchema]:
    """The test session's PostgreSQL schema, with the tables created once."""
    schema = new_pg_schema()

    async def create_tables() -> None:
        engine = schema.engine()
        try:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
        finally:
            await engine.dispose()

    try:
        run_in_thread(create_tables)
        yield schema
    finally:
        run_in_thread(lambda: drop_schema(schema.url, schema.name))


@dataclass(frozen=True, slots=True)
class Backend:
    """The database a test runs on; `pg` is set for PostgreSQL."""

    name: str
    pg: PgSchema | None = None


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Which database the test runs on (PostgreSQL is set up before any event loop runs)."""
    if request.param == "postgres":
        return Backend("postgres", request.getfixturevalue("pg_schema"))
    return Backend("sqlite")


@pytest.fixture
async def engine(backend: Backend, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database with every table."""
    if backend.pg is None:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'dibs.db'}")
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        yield engine
        await engine.dispose()
        return
    engine = backend.pg.engine()
    try:
        yield engine
    finally:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


@pytest.fixture
def new_uow(session_factory: async_sessionmaker[AsyncSession]) -> NewUow:
    """Makes independent units of work (what the bot's `uow_factory` does)."""
    return uow_factory(session_factory)


@pytest.fixture
def uow(new_uow: NewUow) -> SqlAlchemyUnitOfWork:
    return new_uow()


@pytest.fixture
async def partner(new_uow: NewUow) -> Partner:
    """A stored partner."""
    stored = a_partner(id=None, slack_team_id=PARTNER_TEAM)
    async with new_uow() as uow:
        await uow.partners.add(stored)
        await uow.commit()
    return stored


@pytest.fixture
async def registration_id(new_uow: NewUow, partner: Partner) -> int:
    """The id of a stored registration of `partner`."""
    assert partner.id is not None
    registration = a_registration(partner.id, id=None)
    async with new_uow() as uow:
        await uow.registrations.add(registration)
        await uow.commit()
    assert registration.id is not None
    return registration.id
