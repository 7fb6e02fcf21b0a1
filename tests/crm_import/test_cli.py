"""`dibs import accounts|opportunities FILE`, end to end through click with the fake storage."""

from __future__ import annotations

import asyncio
import copy
import logging
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.exc import DBAPIError

import bot.crm_import.cli
import bot.crm_import.files
import bot.crm_import.pool
import domain.services.crm
from bot.cli import main
from bot.crm_import.headers import resolve_columns
from bot.crm_import.pool import Chunks, Row
from bot.settings import get_settings
from domain.conflicts import ClaimKind, ConflictRules, account_ref
from domain.crm import Account, Opportunity
from domain.matching import CompanyRef
from storage.company_keys import encode_keys
from storage.crm import SqlAlchemyCrmRepository
from storage.migrate import upgrade
from tests.crm_import.samples import DATA
from tests.fakes import Data, FakeStorage


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A throwaway database URL (never connected: the store is fake) and logging put back."""
    monkeypatch.setenv("DIBS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'dibs.db'}")
    get_settings.cache_clear()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level
    get_settings.cache_clear()


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> FakeStorage:
    """The fake storage the command imports into."""
    fake = FakeStorage()
    monkeypatch.setattr(bot.crm_import.cli, "make_uow_factory", lambda _engine: fake.uow)
    return fake


def records(data: Data) -> list[Account | Opportunity]:
    """The stored accounts and opportunities, oldest first."""
    return [*data.accounts.values(), *data.opportunities.values()]


def ids(data: Data) -> list[str]:
    return [r.external_id for r in records(data)]


def dibs(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def a_csv(tmp_path: Path, text: str, *, name: str = "input.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rows_file(tmp_path: Path, count: int, bad: Callable[[int], bool] = lambda _i: False) -> Path:
    """`count` accounts (A-1…), row i with an unreadable flag when `bad(i)`."""
    lines = ["external_id,name,domain,is_customer"]
    lines += [
        f"A-{i},Company {i},company{i}.com,{'maybe' if bad(i) else 'yes'}"
        for i in range(1, count + 1)
    ]
    return a_csv(tmp_path, "\n".join(lines) + "\n")


class TestDryRun:
    def test_counts_the_records_and_writes_nothing(self, storage: FakeStorage) -> None:
        result = dibs("import", "accounts", DATA / "salesforce_accounts.csv", "--dry-run")
        assert result.exit_code == 0, result.output
        assert result.stdout == "dry run: 3 accounts to import; nothing was changed\n"
        assert storage.data == Data()

    def test_shows_how_the_columns_were_read(self, storage: FakeStorage) -> None:
        result = dibs("import", "opportunities", DATA / "hubspot_deals.csv", "--dry-run")
        assert "Deal Name → name" in result.stderr
        assert "not imported: Close Date, Pipeline" in result.stderr

    def test_needs_no_storage(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def no_storage(_engine: object) -> None:
            raise AssertionError("a dry run opens no database")

        monkeypatch.setattr(bot.crm_import.cli, "make_engine", no_storage)
        monkeypatch.setattr(bot.crm_import.cli, "make_uow_factory", no_storage)
        result = dibs("import", "opportunities", DATA / "salesforce_opportunities.csv", "--dry-run")
        assert result.exit_code == 0, result.output
        assert "2 opportunities to import" in result.stdout

    def test_with_bad_rows_fails_as_the_import_would(
        self, tmp_path: Path, storage: FakeStorage
    ) -> None:
        result = dibs("import", "accounts", rows_file(tmp_path, 4, lambda i: i == 3), "--dry-run")
        assert result.exit_code == 2
        assert "dry run: 3 accounts to import, 1 bad row; nothing was changed" in result.stdout
        assert "line 4: is_customer: 'maybe' is not yes or no" in result.stderr


class TestImport:
    def test_upserts_every_record_of_each_sample(self, storage: FakeStorage) -> None:
        samples = [
            ("accounts", "accounts.csv", 3),
            ("accounts", "salesforce_accounts.csv", 3),
            ("accounts", "hubspot_companies.csv", 3),
            ("opportunities", "opportunities.csv", 2),
            ("opportunities", "salesforce_opportunities.csv", 2),
            ("opportunities", "hubspot_deals.csv", 2),
        ]
        for kind, name, count in samples:
            storage.data = Data()  # each sample into empty storage
            result = dibs("import", kind, DATA / name)
            assert result.exit_code == 0, (name, result.output)
            assert len(records(storage.data)) == count, name

    def test_reports_new_and_updated_records(self, storage: FakeStorage) -> None:
        dibs("import", "accounts", DATA / "accounts.csv")
        result = dibs("import", "accounts", DATA / "accounts.csv")
        assert result.stdout == "imported 3 accounts from accounts.csv: 0 new, 3 updated\n"

    def test_writes_in_batches_of_batch_size(
        self, tmp_path: Path, storage: FakeStorage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(domain.services.crm, "BATCH_SIZE", 1_000)
        stored = storage.watch(lambda data: len(data.accounts))
        result = dibs("import", "accounts", rows_file(tmp_path, 2_500))
        assert result.exit_code == 0, result.output
        assert stored == [None, 0, 1_000, 2_000, 2_500, 2_500]  # rules, count, batches, finish
        assert "imported 2,500 accounts from input.csv: 2,500 new, 0 updated" in result.stdout

    def test_without_crm_tables_ends_with_one_line(self) -> None:
        result = dibs("import", "accounts", DATA / "accounts.csv")  # an empty database
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-1].startswith("dibs: error: database: no such table")

    def test_a_database_error_says_how_far_it_got(
        self, tmp_path: Path, storage: FakeStorage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(domain.services.crm, "BATCH_SIZE", 1_000)
        reset = DBAPIError("INSERT …", {}, Exception("connection reset"))
        storage.fail_commit(reset, after=2)  # the second batch's (after the count's, the first's)
        result = dibs("import", "accounts", rows_file(tmp_path, 1_500))
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-1] == (
            "dibs: error: database: connection reset (1,000 accounts were imported before it; "
            "re-running the import is safe)"
        )
        assert len(storage.data.accounts) == 1_000

    def test_shows_a_progress_bar_for_large_files(
        self, tmp_path: Path, storage: FakeStorage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(bot.crm_import.files, "LARGE_FILE", 1)
        first = dibs("import", "accounts", rows_file(tmp_path, 10))
        again = dibs("import", "accounts", rows_file(tmp_path, 10))
        assert first.exit_code == again.exit_code == 0, first.output + again.output
        assert "importing input.csv" in first.stderr
        assert "checking input.csv" not in first.stderr  # a first import reads the file once
        assert "checking input.csv" in again.stderr
        assert "importing input.csv" in again.stderr


class TestBadRows:
    def test_are_listed_with_line_numbers_and_nothing_is_written(
        self, tmp_path: Path, storage: FakeStorage
    ) -> None:
        result = dibs("import", "accounts", rows_file(tmp_path, 5, lambda i: i in {2, 5}))
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-3:] == [
            "line 3: is_customer: 'maybe' is not yes or no",
            "line 6: is_customer: 'maybe' is not yes or no",
            "dibs: error: 2 bad rows in input.csv; nothing was imported "
            "(fix them, or add --skip-bad-rows to import the other 3)",
        ]
        assert storage.data == Data()

    def test_skip_bad_rows_imports_only_the_good_ones(
        self, tmp_path: Path, storage: FakeStorage
    ) -> None:
        path = rows_file(tmp_path, 5, lambda i: i in {2, 5})
        result = dibs("import", "accounts", path, "--skip-bad-rows")
        assert result.exit_code == 0, result.output
        assert ids(storage.data) == ["A-1", "A-3", "A-4"]
        assert result.stdout.endswith("3 new, 0 updated; skipped 2 bad rows\n")

    def test_a_first_import_deletes_what_it_wrote_before_a_bad_row(
        self, tmp_path: Path, storage: FakeStorage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(domain.services.crm, "BATCH_SIZE", 1_000)
        stored = storage.watch(ids)
        path = rows_file(tmp_path, 2_500, lambda i: i in {2_200, 2_400})
        result = dibs("import", "accounts", path)
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-3:] == [
            "line 2201: is_customer: 'maybe' is not yes or no",
            "line 2401: is_customer: 'maybe' is not yes or no",
            "dibs: error: 2 bad rows in input.csv; nothing was imported "
            "(fix them, or add --skip-bad-rows to import the other 2,498)",
        ]
        written = [f"A-{i}" for i in range(1, 2_001)]
        assert stored == [None, [], written[:1_000], written, [], []]  # then deleted
        assert storage.data == Data()

    def test_an_import_into_stored_records_checks_the_file_before_writing(
        self, tmp_path: Path, storage: FakeStorage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(domain.services.crm, "BATCH_SIZE", 1_000)
        dibs("import", "accounts", DATA / "accounts.csv")
        before = copy.deepcopy(storage.data)
        result = dibs("import", "accounts", rows_file(tmp_path, 2_500, lambda i: i == 2_400))
        assert result.exit_code == 2
        assert "1 bad row in input.csv; nothing was imported" in result.stderr
        assert len(before.accounts) == 3
        assert storage.data == before  # the first file's, as it stamped them; none deleted

    def test_the_listing_stops_at_fifty(self, tmp_path: Path, storage: FakeStorage) -> None:
        result = dibs("import", "accounts", rows_file(tmp_path, 70, lambda i: i > 10), "--dry-run")
        listed = [line for line in result.stderr.splitlines() if line.startswith("line ")]
        assert len(listed) == 50
        assert listed[0].startswith("line 12: ")
        assert "… and 10 more bad rows" in result.stderr

    def test_lines_count_the_lines_a_quoted_value_spans(
        self, tmp_path: Path, storage: FakeStorage
    ) -> None:
        text = 'name,is_named\n"Acme\nWest\nBranch",yes\nGlobex,perhaps\n'
        result = dibs("import", "accounts", a_csv(tmp_path, text), "--dry-run")
        assert "line 5: is_named: 'perhaps' is not yes or no" in result.stderr


class TestFileFormats:
    def test_reads_an_excel_file_with_a_byte_order_mark(
        self, tmp_path: Path, storage: FakeStorage
    ) -> None:
        path = a_csv(tmp_path, "\ufeffAccount Name,Website\r\nAcme,acme.com\r\n")
        result = dibs("import", "accounts", path)
        assert result.exit_code == 0, result.output
        assert records(storage.data)[0].name == "Acme"

    def test_detects_a_semicolon_delimiter(self, tmp_path: Path, storage: FakeStorage) -> None:
        path = a_csv(tmp_path, "name;domain;country\nAcme, Inc.;acme.com;DE\nGlobex;globex.de;DE\n")
        result = dibs("import", "accounts", path)
        assert result.exit_code == 0, result.output
        assert [r.name for r in records(storage.data)] == ["Acme, Inc.", "Globex"]

    def test_takes_the_delimiter_it_is_given(self, tmp_path: Path, storage: FakeStorage) -> None:
        path = a_csv(tmp_path, "name\tdomain\nAcme\tacme.com\n")
        result = dibs("import", "accounts", path, "--delimiter", "tab")
        assert result.exit_code == 0, result.output
        [stored] = records(storage.data)
        assert stored == Account(stored.external_id, "Acme", "acme.com")

    def test_refuses_a_delimiter_longer_than_one_character(self, storage: FakeStorage) -> None:
        result = dibs("import", "accounts", DATA / "accounts.csv", "--delimiter", ";;")
        assert result.exit_code == 2
        assert "one character" in result.stderr

    def test_a_file_that_is_not_utf8_is_one_line(
        self, tmp_path: Path, storage: FakeStorage
    ) -> None:
        path = a_csv(tmp_path, "name\nMüller GmbH\n", encoding="latin-1")
        result = dibs("import", "accounts", path)
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-1].endswith("is not UTF-8 text; save it as CSV UTF-8")
        assert storage.data == Data()

    def test_the_rows_of_a_file_are_estimated_from_its_first_lines(self, tmp_path: Path) -> None:
        (tmp_path / "large").mkdir()
        small, large = rows_file(tmp_path, 40), rows_file(tmp_path / "large", 20_000)
        assert bot.crm_import.files.open_csv(small).estimated_rows == 40
        assert (
            18_000 < bot.crm_import.files.open_csv(large).estimated_rows < 22_000
        )  # longer ids later

    def test_an_empty_file_is_refused(self, tmp_path: Path, storage: FakeStorage) -> None:
        result = dibs("import", "accounts", a_csv(tmp_path, ""))
        assert result.exit_code == 2
        assert "is empty: the first line must name the columns" in result.stderr

    def test_a_missing_file_is_a_usage_error(self, tmp_path: Path) -> None:
        result = dibs("import", "accounts", tmp_path / "nope.csv")
        assert result.exit_code == 2
        assert "does not exist" in result.stderr


class TestMapping:
    def test_map_reads_a_column_as_a_field(self, tmp_path: Path, storage: FakeStorage) -> None:
        path = a_csv(tmp_path, "Firma,Webseite\nAcme,acme.de\n")
        result = dibs("import", "accounts", path, "--map", "Firma=name", "--map", "Webseite=domain")
        assert result.exit_code == 0, result.output
        [stored] = records(storage.data)
        assert stored == Account(stored.external_id, "Acme", "acme.de")

    def test_a_file_without_a_name_column_names_the_fix(
        self, tmp_path: Path, storage: FakeStorage
    ) -> None:
        result = dibs("import", "accounts", a_csv(tmp_path, "Firma,Webseite\nAcme,acme.de\n"))
        assert result.exit_code == 2
        assert "--map COLUMN=name" in result.stderr
        assert "columns: Firma, Webseite" in result.stderr

    @pytest.mark.parametrize("value", ["Firma", "=name", "Firma="])
    def test_a_map_without_column_and_field_is_a_usage_error(
        self, tmp_path: Path, value: str
    ) -> None:
        result = dibs("import", "accounts", DATA / "accounts.csv", "--map", value)
        assert result.exit_code == 2
        assert "is not COLUMN=FIELD" in result.stderr

    def test_a_map_to_an_unknown_field_is_one_line(self, storage: FakeStorage) -> None:
        result = dibs("import", "accounts", DATA / "accounts.csv", "--map", "name=amount")
        assert result.exit_code == 2
        assert result.stderr.startswith("dibs: error: --map: accounts have no field 'amount'")


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file goes to two worker processes, in chunks of three rows."""
    monkeypatch.setattr(bot.crm_import.cli, "worker_count", lambda _size, *, large_file: 2)
    monkeypatch.setattr(bot.crm_import.pool, "CHUNK_ROWS", 3)


@pytest.mark.usefixtures("pooled")
class TestWorkerProcesses:
    def test_read_and_key_the_records_as_this_process_would(
        self, tmp_path: Path, storage: FakeStorage
    ) -> None:
        result = dibs("import", "accounts", rows_file(tmp_path, 10))
        assert result.exit_code == 0, result.output
        assert "2 processes" in result.stderr
        assert ids(storage.data) == [f"A-{i}" for i in range(1, 11)]
        rules, accounts = ConflictRules(), storage.data.accounts
        assert storage.data.keys == {
            (ClaimKind.account, i): frozenset(rules.keys(account_ref(a)))
            for i, a in accounts.items()
        }

    def test_list_bad_rows_in_file_order(self, tmp_path: Path, storage: FakeStorage) -> None:
        path = rows_file(tmp_path, 10, lambda i: i in {2, 9})
        result = dibs("import", "accounts", path, "--skip-bad-rows")
        assert result.exit_code == 0, result.output
        assert [line for line in result.stderr.splitlines() if line.startswith("line ")] == [
            "line 3: is_customer: 'maybe' is not yes or no",
            "line 10: is_customer: 'maybe' is not yes or no",
        ]
        assert len(storage.data.accounts) == 8

    def test_a_repeated_id_in_another_chunk_is_a_bad_row_and_skipped(
        self, tmp_path: Path, storage: FakeStorage
    ) -> None:
        text = "external_id,name\nA-1,Acme\nA-2,Globex\nA-3,Initech\nA-4,Hooli\nA-1,Umbrella\n"
        result = dibs("import", "accounts", a_csv(tmp_path, text), "--skip-bad-rows")
        assert result.exit_code == 0, result.output
        assert "line 6: external id 'A-1' also on line 2" in result.stderr
        assert [r.name for r in records(storage.data)] == ["Acme", "Globex", "Initech", "Hooli"]


class TestChunks:
    @pytest.mark.parametrize("workers", [1, 2])
    def test_key_a_chunk_only_when_asked_as_it_is_sent(self, workers: int) -> None:
        columns = resolve_columns(["name", "domain"], "accounts", {})
        rows: list[list[Row]] = [[(2, ["Acme", "acme.com"])], [(3, ["Globex", "globex.com"])]]
        asked = iter([True, False])
        rules, encode = ConflictRules(), SqlAlchemyCrmRepository.encode_keys
        with Chunks(columns, "accounts", rules, encode, workers=workers) as chunks:
            (seen_1, keyed), (seen_2, checked) = chunks.read(rows, lambda: next(asked))
        assert keyed is not None
        assert keyed.lines == [2]
        assert keyed.keys == [encode_keys(ConflictRules().keys(CompanyRef("Acme", "acme.com")))]
        assert checked is None
        assert seen_1 == [(2, keyed.rows[0][0], False)]  # no id of its own
        assert [item[0] for item in seen_2 if isinstance(item, tuple)] == [3]


class TestStatistics:
    def test_are_refreshed_once_after_an_import(self, tmp_path: Path, storage: FakeStorage) -> None:
        dibs("import", "accounts", rows_file(tmp_path, 2_500))
        assert storage.upkeep["refresh_statistics"] == 1

    def test_are_left_alone_when_nothing_was_written(
        self, tmp_path: Path, storage: FakeStorage
    ) -> None:
        dibs("import", "accounts", rows_file(tmp_path, 3, lambda _i: True), "--skip-bad-rows")
        assert storage.data == Data()
        assert storage.upkeep["refresh_statistics"] == 0


class TestWithStorage:
    def test_imports_into_the_database_and_updates_on_the_second_run(self, tmp_path: Path) -> None:
        asyncio.run(upgrade(f"sqlite+aiosqlite:///{tmp_path / 'dibs.db'}"))
        first = dibs("import", "accounts", DATA / "salesforce_accounts.csv")
        again = dibs("import", "accounts", DATA / "salesforce_accounts.csv")
        deals = dibs("import", "opportunities", DATA / "salesforce_opportunities.csv")
        assert first.stdout.endswith(": 3 new, 0 updated\n"), first.output
        assert again.stdout.endswith(": 0 new, 3 updated\n"), again.output
        assert deals.stdout.endswith(": 2 new, 0 updated\n"), deals.output

    def test_a_first_import_with_a_bad_row_leaves_nothing_behind(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(domain.services.crm, "BATCH_SIZE", 2)
        monkeypatch.setattr(domain.services.crm, "DEFER_INDEX_MIN", 2)
        database = tmp_path / "dibs.db"
        asyncio.run(upgrade(f"sqlite+aiosqlite:///{database}"))
        result = dibs("import", "accounts", rows_file(tmp_path, 7, lambda i: i == 6))
        assert result.exit_code == 2
        assert "1 bad row in input.csv; nothing was imported" in result.stderr
        with sqlite3.connect(database) as connection:
            counts = [
                connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("crm_account", "company_key")
            ]
            indexes = connection.execute("PRAGMA index_list(company_key)").fetchall()
        assert counts == [0, 0]
        assert "ix_company_key_key_owner_kind_owner_id" in {index[1] for index in indexes}

    def test_a_large_first_import_builds_the_key_index_at_the_end(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(domain.services.crm, "DEFER_INDEX_MIN", 2)
        database = tmp_path / "dibs.db"
        asyncio.run(upgrade(f"sqlite+aiosqlite:///{database}"))
        dropped: list[str] = []
        real = SqlAlchemyCrmRepository.defer_key_index

        async def defer(repository: SqlAlchemyCrmRepository) -> bool:
            dropped.append("key index")
            return await real(repository)

        monkeypatch.setattr(SqlAlchemyCrmRepository, "defer_key_index", defer)
        first = dibs("import", "accounts", DATA / "salesforce_accounts.csv")
        again = dibs("import", "accounts", DATA / "salesforce_accounts.csv")

        assert first.stdout.endswith(": 3 new, 0 updated\n"), first.output
        assert again.stdout.endswith(": 0 new, 3 updated\n"), again.output
        assert dropped == ["key index"]  # the second run doubles nothing
        with sqlite3.connect(database) as connection:
            [(indexed,)] = connection.execute(
                "SELECT count(*) FROM company_key INDEXED BY "
                "ix_company_key_key_owner_kind_owner_id WHERE key > ''"
            ).fetchall()
            [(stored,)] = connection.execute("SELECT count(*) FROM company_key").fetchall()
        assert indexed == stored > 3


def test_the_bot_starts_without_loading_the_import_command() -> None:
    """`dibs serve` puts back a key index a killed import left out through the use case
    (`services.crm.restore_key_index`), not through this command's module."""
    code = (
        "import sys, bot.app, bot.server\n"
        "print(sorted(m for m in sys.modules if m.startswith(('bot.crm_import', 'bot.cli'))))"
    )
    root = Path(__file__).resolve().parent.parent.parent
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert shown.stdout.strip() == "[]"
