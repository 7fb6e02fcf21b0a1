"""The CRM repository: accounts and opportunities upserted by external id, keys replaced."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.conflicts import ClaimKind, ConflictRules, account_ref
from domain.crm import Account, Opportunity, UpsertCounts
from domain.crm_import import ImportBatch
from domain.matching import name_forms
from storage.company_keys import KEY_LENGTH, encode_keys
from storage.crm import SqlAlchemyCrmRepository, tune_for_bulk_load
from storage.db import make_engine
from storage.models import Base, CompanyKeyRow, CrmAccountRow, CrmOpportunityRow
from tests.builders import NOW, services
from tests.integration.conftest import Backend, NewUow

RULES = ConflictRules()
Sessions = async_sessionmaker[AsyncSession]


async def stored_keys(sessions: Sessions, kind: ClaimKind) -> dict[int, set[str]]:
    """Every owner's keys of one kind, as stored."""
    async with sessions() as session:
        rows = await session.execute(
            select(CompanyKeyRow.owner_id, CompanyKeyRow.key).where(
                CompanyKeyRow.owner_kind == kind.value
            )
        )
    keys: dict[int, set[str]] = {}
    for owner_id, key in rows:
        keys.setdefault(owner_id, set()).add(key)
    return keys


async def accounts_by_external_id(sessions: Sessions) -> dict[str, CrmAccountRow]:
    async with sessions() as session:
        return {row.external_id: row for row in await session.scalars(select(CrmAccountRow))}


class TestUpsertAccounts:
    async def test_inserts_new_accounts_and_indexes_their_keys(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        acme = Account("0011", "Acme Corp", domain="acme.com", country="US", is_customer=True)
        async with new_uow() as uow:
            counts = await uow.crm.upsert_accounts([acme, Account("0012", "Globex")], now=NOW)
            await uow.commit()

        assert counts == UpsertCounts(inserted=2, updated=0)
        rows = await accounts_by_external_id(session_factory)
        assert rows["0011"].is_customer
        assert rows["0011"].imported_at == NOW
        keys = await stored_keys(session_factory, ClaimKind.account)
        assert keys[rows["0011"].id] == set(RULES.keys(account_ref(acme)))
        assert "d:acme.com" in keys[rows["0011"].id]

    async def test_updates_by_external_id_and_replaces_the_keys(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        async with new_uow() as uow:
            await uow.crm.upsert_accounts([Account("0011", "Acme Corp", domain="acme.com")])
            await uow.commit()
        renamed = Account(
            "0011", "Initech", domain="initech.com", is_named=True, owner_slack_id="U0D"
        )

        async with new_uow() as uow:
            counts = await uow.crm.upsert_accounts(
                [renamed, Account("0013", "Hooli")], now=NOW + timedelta(days=1)
            )
            await uow.commit()

        assert counts == UpsertCounts(inserted=1, updated=1)
        rows = await accounts_by_external_id(session_factory)
        assert (rows["0011"].name, rows["0011"].is_named, rows["0011"].owner_slack_id) == (
            "Initech",
            True,
            "U0D",
        )
        assert rows["0011"].imported_at == NOW + timedelta(days=1)
        keys = await stored_keys(session_factory, ClaimKind.account)
        assert "d:initech.com" in keys[rows["0011"].id]
        assert not any("acme" in key for key in keys[rows["0011"].id])
        # the analysed name a lookup reads back follows the rename too
        assert rows["0011"].name_forms == name_forms("Initech")
        assert rows["0013"].name_forms == name_forms("Hooli")

    async def test_the_last_of_duplicate_external_ids_wins(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        async with new_uow() as uow:
            counts = await uow.crm.upsert_accounts(
                [Account("0011", "Acme"), Account("0011", "Acme Corp")]
            )
            await uow.commit()

        assert counts == UpsertCounts(inserted=1, updated=0)
        assert (await accounts_by_external_id(session_factory))["0011"].name == "Acme Corp"

    async def test_a_large_batch_goes_in_several_statements(self, new_uow: NewUow) -> None:
        accounts = [Account(f"A{n:05d}", f"Company {n}") for n in range(1_203)]
        async with new_uow() as uow:
            counts = await uow.crm.upsert_accounts(accounts)
            assert await uow.crm.count_accounts() == 1_203
            await uow.commit()

        assert counts == UpsertCounts(inserted=1_203)

    async def test_nothing_to_upsert_is_no_work(self, new_uow: NewUow) -> None:
        async with new_uow() as uow:
            assert await uow.crm.upsert_accounts([]) == UpsertCounts()
            assert await uow.crm.count_accounts() == 0

    async def test_rolled_back_upsert_leaves_nothing(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        async with new_uow() as uow:
            await uow.crm.upsert_accounts([Account("0011", "Acme", domain="acme.com")])

        assert await accounts_by_external_id(session_factory) == {}
        assert await stored_keys(session_factory, ClaimKind.account) == {}

    async def test_stores_the_keys_it_is_given(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        keys = [frozenset({"n:acme", "d:acme.com"}), frozenset({"n:globex"})]
        async with new_uow() as uow:
            await uow.crm.upsert_accounts(
                [Account("0011", "Acme"), Account("0012", "Globex")], keys=keys
            )
            await uow.commit()

        rows = await accounts_by_external_id(session_factory)
        assert await stored_keys(session_factory, ClaimKind.account) == {
            rows["0011"].id: {"n:acme", "d:acme.com"},
            rows["0012"].id: {"n:globex"},
        }

    async def test_given_keys_replace_those_of_a_known_account(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        async with new_uow() as uow:
            await uow.crm.upsert_accounts([Account("0011", "Acme", domain="acme.com")])
            await uow.commit()

        async with new_uow() as uow:
            counts = await uow.crm.upsert_accounts(
                [Account("0011", "Initech")], keys=[frozenset({"n:initech"})]
            )
            await uow.commit()

        assert counts == UpsertCounts(updated=1)
        assert list((await stored_keys(session_factory, ClaimKind.account)).values()) == [
            {"n:initech"}
        ]

    async def test_refuses_keys_that_do_not_pair_with_the_records(self, new_uow: NewUow) -> None:
        async with new_uow() as uow:
            with pytest.raises(ValueError, match="1 key sets for 2 records"):
                await uow.crm.upsert_accounts(
                    [Account("0011", "Acme"), Account("0012", "Globex")], keys=[frozenset()]
                )


class TestRefreshStatistics:
    async def test_gives_the_planner_the_imported_table_sizes(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        async with new_uow() as uow:
            await uow.crm.upsert_accounts([Account(f"A{n}", f"Company {n}") for n in range(30)])
            await uow.crm.refresh_statistics()
            await uow.commit()

        async with session_factory() as session:
            if session.get_bind().dialect.name == "sqlite":
                seen = await session.scalar(
                    text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'crm_account'")
                )
                assert seen
            else:
                tuples = await session.scalar(
                    text(
                        "SELECT reltuples FROM pg_class WHERE relname = 'crm_account' "
                        "AND relnamespace = current_schema()::regnamespace"
                    )
                )
                assert tuples == 30


class TestUpsertOpportunities:
    async def test_inserts_then_updates_by_external_id(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        first = Opportunity(
            "0061",
            "0011",
            "Acme",
            domain="acme.com",
            stage="Proposal",
            amount=Decimal("120000.00"),
            owner_email="dana@vendor.example",
            created_at=NOW,
            last_activity_at=NOW,
        )
        async with new_uow() as uow:
            assert await uow.crm.upsert_opportunities([first]) == UpsertCounts(inserted=1)
            await uow.commit()
        moved = Opportunity("0061", "0011", "Acme", domain="acme.co.uk", stage="Negotiation")

        async with new_uow() as uow:
            assert await uow.crm.upsert_opportunities([moved]) == UpsertCounts(updated=1)
            await uow.commit()

        async with session_factory() as session:
            row = await session.scalar(select(CrmOpportunityRow))
        assert row is not None
        assert (row.stage, row.domain, row.account_external_id) == (
            "Negotiation",
            "acme.co.uk",
            "0011",
        )
        assert row.amount is None
        assert row.name_forms == name_forms("Acme")
        keys = await stored_keys(session_factory, ClaimKind.opportunity)
        assert "d:acme.co.uk" in keys[row.id]
        assert "d:acme.com" not in keys[row.id]


class TestTuneForBulkLoad:
    async def test_sets_up_each_new_connection_for_an_import(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        expected: object
        if backend.pg is None:
            engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'bulk.db'}")
            question, expected = "PRAGMA cache_size", -256 * 1024
        else:
            engine = backend.pg.engine()
            question, expected = "SHOW synchronous_commit", "off"
        tune_for_bulk_load(engine)
        try:
            async with engine.connect() as connection:
                assert (await connection.exec_driver_sql(question)).scalar() == expected
        finally:
            await engine.dispose()


class TestBulkUpsert:
    async def test_a_first_import_writes_records_and_keys_without_reading_ids(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        acme = Account("0011", "Acme Corp", domain="acme.com", is_customer=True)
        batch = ImportBatch.of(
            ClaimKind.account,
            [acme, Account("0012", "Globex")],
            [RULES.keys(account_ref(acme)), []],
            encode_keys,
        )
        async with new_uow() as uow:
            assert await uow.crm.count(ClaimKind.account) == 0
            counts = await uow.crm.upsert_batch(batch, imported_at=NOW, first_import=True)
            await uow.commit()

        assert counts == UpsertCounts(inserted=2)
        rows = await accounts_by_external_id(session_factory)
        assert (rows["0011"].is_customer, rows["0011"].imported_at) == (True, NOW)
        keys = await stored_keys(session_factory, ClaimKind.account)
        assert keys == {rows["0011"].id: set(RULES.keys(account_ref(acme)))}

    async def test_keys_json_must_escape_are_stored_as_they_are(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        odd = [{"n:plain"}, {'n:quo"te', "n:x"}, {"n:back\\slash"}, {"n:tab\there"}, {"n:ü\u2028"}]
        batch = ImportBatch.of(
            ClaimKind.account, [Account(f"00{n}", "Odd") for n in range(len(odd))], odd, encode_keys
        )
        async with new_uow() as uow:
            await uow.crm.upsert_batch(batch, imported_at=NOW)
            await uow.commit()

        stored = await stored_keys(session_factory, ClaimKind.account)
        assert sorted(map(sorted, stored.values())) == sorted(map(sorted, odd))

    async def test_new_records_take_ids_after_the_stored_ones(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        async with new_uow() as uow:
            await uow.crm.upsert_accounts([Account("0011", "Acme"), Account("0012", "Globex")])
            await uow.commit()
        async with new_uow() as uow:
            await uow.crm.upsert_accounts([Account("0013", "Initech"), Account("0011", "Acme")])
            await uow.commit()

        rows = await accounts_by_external_id(session_factory)
        assert rows["0013"].id > max(rows["0011"].id, rows["0012"].id)

    async def test_stores_times_and_amounts_as_queries_compare_them(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        deal = Opportunity("0061", "0011", "Acme", amount=Decimal("84500.00"), created_at=NOW)
        async with new_uow() as uow:
            await uow.crm.upsert_opportunities([deal], now=NOW)
            await uow.commit()

        table = CrmOpportunityRow.__table__
        async with session_factory() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(table)
                .where(
                    CrmOpportunityRow.imported_at == NOW,
                    CrmOpportunityRow.created_at <= NOW,
                    CrmOpportunityRow.created_at >= NOW,
                    CrmOpportunityRow.amount == Decimal("84500.00"),
                )
            )
        assert found == 1


class TestDiscardImported:
    async def test_deletes_the_records_imported_at_that_time_and_their_keys(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        kept = [Account("0011", "Acme", domain="acme.com")]
        undone = [Account("0012", "Globex", domain="globex.com"), Account("0013", "Initech")]
        later = NOW + timedelta(minutes=5)
        async with new_uow() as uow:
            await uow.crm.upsert_accounts(kept, now=NOW)
            await uow.crm.upsert_opportunities([Opportunity("0061", "0012", "Globex")], now=later)
            await uow.commit()
        for account in undone:  # an import's batches: one transaction each, one time
            async with new_uow() as uow:
                await uow.crm.upsert_accounts([account], now=later)
                await uow.commit()

        async with new_uow() as uow:
            await uow.crm.discard_imported(ClaimKind.account, later)
            await uow.commit()

        rows = await accounts_by_external_id(session_factory)
        assert list(rows) == ["0011"]
        keys = await stored_keys(session_factory, ClaimKind.account)
        assert keys == {rows["0011"].id: set(RULES.keys(account_ref(kept[0])))}
        assert len(await stored_keys(session_factory, ClaimKind.opportunity)) == 1


class TestKeyIndex:
    async def test_can_be_set_aside_on_sqlite_and_is_put_back(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        async with new_uow() as uow:
            deferred = await uow.crm.defer_key_index()
            await uow.crm.upsert_accounts([Account("0011", "Acme", domain="acme.com")])
            await uow.crm.ensure_key_index()
            await uow.crm.ensure_key_index()  # already there: nothing to do
            await uow.commit()

        async with session_factory() as session:
            dialect = session.get_bind().dialect.name
            indexes = await session.run_sync(
                lambda s: inspect(s.connection()).get_indexes("company_key")
            )
        assert deferred == (dialect == "sqlite")
        assert [i["column_names"] for i in indexes] == [["key", "owner_kind", "owner_id"]]
        [keys] = (await stored_keys(session_factory, ClaimKind.account)).values()
        assert "d:acme.com" in keys

    async def test_is_built_with_small_sort_runs_then_the_bulk_settings_return(
        self, tmp_path: Path
    ) -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'bulk.db'}")
        tune_for_bulk_load(engine)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        seen: list[tuple[str, object]] = []

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _watch(connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
            if statement.startswith("CREATE INDEX"):
                seen.append(("cache", connection.exec_driver_sql("PRAGMA cache_size").scalar()))
                seen.append(("threads", connection.exec_driver_sql("PRAGMA threads").scalar()))

        try:
            async with AsyncSession(engine) as session:
                repository = SqlAlchemyCrmRepository(session, RULES)
                assert await repository.defer_key_index()
                await repository.ensure_key_index()
                connection = await session.connection()
                after = [
                    (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                    for name in ("cache_size", "threads")
                ]
                await session.commit()
        finally:
            await engine.dispose()
        assert seen == [("cache", -16 * 1024), ("threads", 2)]
        assert after == [-256 * 1024, 2]

    async def test_a_killed_import_leaves_it_out_until_the_bot_starts(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        async with new_uow() as uow:  # an import that set it aside, then died
            await uow.crm.defer_key_index()
            await uow.commit()

        await services(new_uow).crm.restore_key_index()  # what the app does as it starts

        async with session_factory() as session:
            indexes = await session.run_sync(
                lambda s: inspect(s.connection()).get_indexes("company_key")
            )
        assert [i["column_names"] for i in indexes] == [["key", "owner_kind", "owner_id"]]


@given(st.lists(st.text(st.sampled_from('ab:"\\\t\x00\x7fü\u2028'), max_size=6)))
def test_encoded_keys_are_the_json_of_the_sorted_distinct_keys(keys: list[str]) -> None:
    stored = sorted({key[:KEY_LENGTH] for key in keys})
    assert encode_keys(keys) == json.dumps(stored, ensure_ascii=False)
