"""Alembic: `upgrade head` on an empty database builds exactly what `storage.models` declares."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.conflicts import ConflictRules
from domain.matching import CompanyRef
from storage.db import make_engine, make_session_factory
from storage.migrate import alembic_config, upgrade, upgrade_engine
from storage.models import Base
from storage.uow import uow_factory
from tests.builders import NOW, a_registration
from tests.integration.conftest import PgSchema, drop_schema, new_pg_schema, run_in_thread


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PgSchema | str]:
    """An empty database: a SQLite URL, or a fresh PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
        return
    schema = new_pg_schema("dibs_migrate")
    yield schema
    run_in_thread(lambda: drop_schema(schema.url, schema.name))


def engine_for(database: PgSchema | str) -> AsyncEngine:
    return make_engine(database) if isinstance(database, str) else database.engine()


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


class TestMigrations:
    async def test_upgrade_head_matches_the_models(self, empty_database: PgSchema | str) -> None:
        engine = engine_for(empty_database)
        try:
            await upgrade_engine(engine)
            async with engine.connect() as connection:
                diff = await connection.run_sync(differences)
                tables = await connection.run_sync(table_names)
        finally:
            await engine.dispose()

        assert diff == []
        assert tables == {*Base.metadata.tables, "alembic_version"}

    async def test_upgrade_twice_is_harmless(self, empty_database: PgSchema | str) -> None:
        engine = engine_for(empty_database)
        try:
            await upgrade_engine(engine)
            await upgrade_engine(engine)
            async with engine.connect() as connection:
                diff = await connection.run_sync(differences)
        finally:
            await engine.dispose()

        assert diff == []

    async def test_downgrade_to_base_removes_every_table(
        self, empty_database: PgSchema | str
    ) -> None:
        engine = engine_for(empty_database)
        try:
            await upgrade_engine(engine)
            async with engine.connect() as connection:
                await connection.run_sync(downgrade_to_base)
                await connection.commit()
                tables = await connection.run_sync(table_names)
        finally:
            await engine.dispose()

        assert tables <= {"alembic_version"}


async def add_accounts(engine: AsyncEngine, keys: dict[int, tuple[str, set[str]]]) -> None:
    """Accounts as an older revision stored them: id → (name, its company keys then)."""
    async with engine.begin() as connection:
        for account_id, (name, stored) in keys.items():
            await connection.execute(
                text(
                    "INSERT INTO crm_account (id, external_id, name, is_customer, is_named, "
                    "imported_at) VALUES (:id, :x, :name, false, false, :at)"
                ),
                {"id": account_id, "x": f"00{account_id}", "name": name, "at": NOW},
            )
            for key in stored:
                await connection.execute(
                    text("INSERT INTO company_key VALUES ('account', :id, :key)"),
                    {"id": account_id, "key": key},
                )


async def keys_by_owner(engine: AsyncEngine, owners: Iterable[int]) -> dict[int, set[str]]:
    """The company keys stored for each of `owners` (empty when it has none)."""
    stored: dict[int, set[str]] = {owner: set() for owner in owners}
    async with engine.connect() as connection:
        for owner_id, key in await connection.execute(
            text("SELECT owner_id, key FROM company_key")
        ):
            stored.setdefault(owner_id, set()).add(key)
    return stored


async def test_upgrade_by_url_works_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'by-url.db'}"

    await upgrade(url)

    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_upgrade_rebuilds_candidate_keys_written_by_the_old_scheme(
    empty_database: PgSchema | str,
) -> None:
    engine = engine_for(empty_database)
    names = {1: "IBM", 2: "International Business Machines", 3: "Umbrella Corporation"}
    try:
        await upgrade_engine(engine, revision="c0f1d35c0de4")
        await add_accounts(engine, {i: (name, {"i:stale"}) for i, name in names.items()})
        await upgrade_engine(engine)
        stored = await keys_by_owner(engine, names)
    finally:
        await engine.dispose()

    rules = ConflictRules()
    assert stored == {i: set(rules.keys(CompanyRef(name))) for i, name in names.items()}
    assert "s:ibm" in stored[1]
    assert "i:ibm" in stored[2]


async def test_typo_blocks_v3_rebuilds_t_keys_and_its_downgrade_restores_them(
    empty_database: PgSchema | str,
) -> None:
    engine = engine_for(empty_database)
    names = {1: "Madasena Global", 2: "Vodafone Group Plc", 3: "IBM"}
    old = {1: {"t:globalma", "t:madasena"}, 2: {"t:groupvod"}, 3: set[str]()}

    try:
        await upgrade_engine(engine, revision="5e1f0a11a5e5")
        await add_accounts(engine, {i: (name, {"n:kept", *old[i]}) for i, name in names.items()})
        await upgrade_engine(engine)
        upgraded = await keys_by_owner(engine, names)
        async with engine.connect() as connection:
            await connection.run_sync(downgrade_to, "5e1f0a11a5e5")
            await connection.commit()
        downgraded = await keys_by_owner(engine, names)
    finally:
        await engine.dispose()

    rules = ConflictRules()
    for account_id, name in names.items():
        blocks = {k for k in rules.keys(CompanyRef(name)) if k.startswith("t:")}
        assert upgraded[account_id] == {"n:kept"} | blocks
    assert "t:globalma" not in upgraded[1]
    assert "t:groupvod" in upgraded[2]
    assert old[1] <= downgraded[1]
    assert "t:globalm" in downgraded[1]  # a deletion of the old block, gone in v3
    assert downgraded[3] == {"n:kept"}


async def test_company_key_keeps_its_rows_without_rowid_and_back(
    empty_database: PgSchema | str,
) -> None:
    engine = engine_for(empty_database)
    rows = {("account", 1, "d:acme.com"), ("account", 1, "n:acme"), ("registration", 7, "n:x")}
    insert = text("INSERT INTO company_key VALUES (:kind, :owner, :key)")
    read = text("SELECT owner_kind, owner_id, key FROM company_key")
    try:
        await upgrade_engine(engine, revision="5e1f0a11a5e5")
        async with engine.begin() as connection:
            for kind, owner, key in rows:
                await connection.execute(insert, {"kind": kind, "owner": owner, "key": key})
        await upgrade_engine(engine)
        async with engine.connect() as connection:
            upgraded = {tuple(row) for row in await connection.execute(read)}
            await connection.run_sync(downgrade_to, "5e1f0a11a5e5")
            await connection.commit()
            downgraded = {tuple(row) for row in await connection.execute(read)}
    finally:
        await engine.dispose()

    assert upgraded == downgraded == rows


BEFORE_REFERENCES = "b4d2f7a91c3e"


async def add_old_registrations(engine: AsyncEngine) -> None:
    """Three partners (two with the same initials) and registrations 1-3 with an audit event
    each, as the revision before partner references stored them (ids from the database, so
    PostgreSQL's sequences move on as they did)."""
    partners = {1: "Acme Resellers", 2: "Globex Corporation", 3: "Apex Retail"}
    async with engine.begin() as connection:
        for partner_id, name in partners.items():
            await connection.execute(
                text(
                    "INSERT INTO partner (name, tier, channel_id, created_at) "
                    "VALUES (:name, 'Gold', :channel, :at)"
                ),
                {"name": name, "channel": f"C0P{partner_id}", "at": NOW},
            )
        for registration_id, partner_id in {1: 1, 2: 2, 3: 1}.items():
            await connection.execute(
                text(
                    "INSERT INTO registration (partner_id, company, website, country, "
                    "amount, currency, close_date, products, submitted_by_team_id, "
                    "submitted_by_user_id, status, created_at, updated_at, decision_due_at, "
                    "version) VALUES (:partner, 'Initech', 'initech.com', 'US', 100, "
                    "'USD', :close, '[]', 'T0P', 'U0REP', 'under_review', :at, :at, :at, 1)"
                ),
                {"partner": partner_id, "close": NOW.date(), "at": NOW},
            )
            await connection.execute(
                text(
                    "INSERT INTO audit_event (registration_id, at, actor_team_id, actor_user_id, "
                    "action, to_status) VALUES (:id, :at, 'T0P', 'U0REP', 'submit', 'submitted')"
                ),
                {"id": registration_id, "at": NOW},
            )


async def test_partner_references_keep_old_references_and_start_each_partner_at_one(
    empty_database: PgSchema | str,
) -> None:
    engine = engine_for(empty_database)
    try:
        await upgrade_engine(engine, revision=BEFORE_REFERENCES)
        await add_old_registrations(engine)
        await upgrade_engine(engine)
        async with engine.connect() as connection:
            partners = (
                await connection.execute(
                    text("SELECT id, code, last_reference_number FROM partner ORDER BY id")
                )
            ).all()
            references = (
                await connection.execute(text("SELECT id, reference FROM registration ORDER BY id"))
            ).all()
            events = (await connection.execute(text("SELECT count(*) FROM audit_event"))).scalar()
        new_uow = uow_factory(make_session_factory(engine))
        async with new_uow() as uow:
            legacy = await uow.registrations.get_by_reference("DR-3")
            fresh = a_registration(1, id=None)
            await uow.registrations.add(fresh)
            await uow.commit()
    finally:
        await engine.dispose()

    assert [tuple(row) for row in partners] == [(1, "AR", 0), (2, "GC", 0), (3, "AR2", 0)]
    assert [tuple(row) for row in references] == [(1, "DR-0001"), (2, "DR-0002"), (3, "DR-0003")]
    assert events == 3
    assert legacy is not None
    assert (legacy.id, legacy.reference) == (3, "DR-0003")
    assert fresh.reference == "AR-0001"


async def test_partner_references_downgrade_keeps_the_registrations(
    empty_database: PgSchema | str,
) -> None:
    engine = engine_for(empty_database)
    try:
        await upgrade_engine(engine, revision=BEFORE_REFERENCES)
        await add_old_registrations(engine)
        await upgrade_engine(engine)
        async with engine.connect() as connection:
            await connection.run_sync(downgrade_to, BEFORE_REFERENCES)
            await connection.commit()
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("registration")}
            )
            count = (await connection.execute(text("SELECT count(*) FROM registration"))).scalar()
    finally:
        await engine.dispose()

    assert "reference" not in columns
    assert count == 3


def test_there_is_one_head_revision() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def downgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def downgrade_to_base(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")
