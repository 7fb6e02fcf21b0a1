"""The `dibs` command line, run in-process on a temporary SQLite database.

Every mistake a user can make ends as one line on stderr and exit status 2, never a traceback.
No test here starts the server: each `serve` case must stop at its configuration check.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import shutil
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from bot.cli import main
from bot.settings import get_settings
from domain.actor import Actor, Caller
from domain.crm import Account
from domain.policy import DeskPolicy, ProgramPolicy
from domain.ports import UnitOfWork
from domain.services import (
    Decide,
    Decision,
    LinkPartner,
    ServiceContext,
    Services,
    SubmitRegistration,
)
from domain.slack_ids import SlackChannelId, SlackTeamId, SlackUserId
from storage.db import make_engine, make_session_factory
from storage.models import OutboxMessageRow, RegistrationRow
from storage.uow import uow_factory
from tests.builders import HOST_TEAM, NOW, some_details

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_POLICY = ROOT / "dibs.example.toml"
DESK = tomllib.loads(EXAMPLE_POLICY.read_text(encoding="utf-8"))["desk"]["channel"]
"""The desk channel of the policy file `migrated` puts in the working directory."""
ENV_NAMES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "DIBS_CONFIG",
    "DIBS_DATABASE_URL",
)
AUDIT_HEADER = [
    "registration",
    "at",
    "actor_team",
    "actor_user",
    "actor_enterprise",
    "action",
    "from_status",
    "to_status",
    "reason",
]
REP = Actor(team_id=SlackTeamId("T0ACME"), user_id=SlackUserId("U0REP"))
APPROVER = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0APPROVER"))


@dataclass
class Cli:
    """`dibs` in a clean working directory with its database at `url`."""

    url: str
    folder: Path
    monkeypatch: pytest.MonkeyPatch

    def __call__(self, *args: str) -> Result:
        get_settings.cache_clear()
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, result.stderr
        return result

    def setenv(self, name: str, value: str) -> None:
        self.monkeypatch.setenv(name, value)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'dibs.db'}"
    monkeypatch.setenv("DIBS_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    get_settings.cache_clear()
    try:
        yield Cli(url, tmp_path, monkeypatch)
    finally:
        get_settings.cache_clear()
        root.handlers[:] = handlers  # `main` points logging at the runner's closed stderr
        root.setLevel(level)


@pytest.fixture
def migrated(cli: Cli) -> Cli:
    """A database upgraded to head, and the example policy file as ./dibs.toml."""
    cli.ok("db", "upgrade")
    shutil.copy(EXAMPLE_POLICY, cli.folder / "dibs.toml")
    return cli


def one_error_line(result: Result) -> str:
    """The single line a failed command wrote to stderr."""
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def launchers_owed(url: str) -> list[tuple[int | None, str]]:
    """(partner id, key) of every launcher message the outbox still has to deliver."""

    async def read() -> list[tuple[int | None, str]]:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(OutboxMessageRow.partner_id, OutboxMessageRow.key).where(
                        OutboxMessageRow.kind == "launcher",
                        OutboxMessageRow.delivered_at.is_(None),
                    )
                )
                return [(partner_id, key) for partner_id, key in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def bound(new_uow: Callable[[], UnitOfWork], now: datetime) -> Services:
    """The use cases on a test database, at `now`, with the test desk."""
    desk = DeskPolicy(channel_id=DESK, approvers=frozenset({APPROVER.user_id}))
    context = ServiceContext(uow=new_uow, clock=lambda: now, desk=desk, program=ProgramPolicy())
    return Services.bind(context)


def submit_and_approve(url: str) -> None:
    """Acme registers a deal and the desk approves it, through the services the bot uses."""

    async def run() -> None:
        engine = make_engine(url)
        try:
            new_uow = uow_factory(make_session_factory(engine))
            services = bound(new_uow, NOW)
            await services.partners.link(
                LinkPartner(
                    name="Acme",
                    tier="Gold",
                    channel_id=SlackChannelId("C0ACME"),
                    slack_team_id=SlackTeamId("T0ACME"),
                )
            )
            outcome = await services.registrations.submit(
                SubmitRegistration(details=some_details()),
                Caller(REP, HOST_TEAM, SlackChannelId("C0ACME")),
            )
            registration = outcome.registration
            assert registration.id is not None
            await bound(new_uow, NOW + timedelta(hours=2)).decisions.decide(
                Decide(registration.id, registration.version, Decision.approve),
                Caller(APPROVER, HOST_TEAM),
            )
        finally:
            await engine.dispose()

    asyncio.run(run())


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def expected_audit(rows: Sequence[Sequence[str]]) -> None:
    """The audit export of `submit_and_approve`: header, then submit, review and approve."""
    assert list(rows[0]) == AUDIT_HEADER
    body = rows[1:]
    assert [row[0] for row in body] == ["AC-0001"] * 3
    assert [(row[3], row[5], row[6], row[7]) for row in body] == [
        ("U0REP", "submit", "", "submitted"),
        ("dibs", "review", "submitted", "under_review"),
        ("U0APPROVER", "approve", "under_review", "approved"),
    ]
    assert body[2][1] == (NOW + timedelta(hours=2)).isoformat()


class TestDbUpgrade:
    def test_creates_the_schema(self, cli: Cli) -> None:
        result = cli("db", "upgrade")

        assert result.exit_code == 0
        assert "database is up to date" in result.stdout
        assert cli.ok("partners", "list").stdout.startswith("no partners yet")

    def test_running_it_twice_is_fine(self, migrated: Cli) -> None:
        result = migrated("db", "upgrade")

        assert result.exit_code == 0
        assert "database is up to date" in result.stdout

    def test_an_unreachable_database_is_one_line_of_error(self, cli: Cli) -> None:
        cli.setenv("DIBS_DATABASE_URL", f"sqlite:///{cli.folder / 'no-such-dir' / 'dibs.db'}")

        line = one_error_line(cli("db", "upgrade"))

        assert line.startswith("dibs: error: database: unable to open database file")

    def test_an_unreachable_database_does_not_suggest_running_the_upgrade_again(
        self, cli: Cli
    ) -> None:
        cli.setenv("DIBS_DATABASE_URL", f"sqlite:///{cli.folder / 'no-such-dir' / 'dibs.db'}")

        line = one_error_line(cli("db", "upgrade"))

        assert "dibs db upgrade" not in line


class TestPartnersAdd:
    def test_prints_the_linked_partner(self, migrated: Cli) -> None:
        result = migrated(
            "partners",
            "add",
            "Acme",
            "--tier",
            "Gold",
            "--channel",
            "C0ACME",
            "--slack-team",
            "T0ACME",
        )

        assert result.exit_code == 0
        assert result.stdout.startswith("linked partner 1: Acme (Gold) to C0ACME")
        assert "its references read AC-0001, AC-0002, …" in result.stdout

    def test_stores_the_channel_manager_and_lists_it(self, migrated: Cli) -> None:
        result = migrated.ok(
            "partners", "add", "Acme", "--tier", "Gold", "--channel", "C0ACME", "--manager", "U0CM"
        )

        assert "channel manager U0CM" in result.stdout
        [_, row] = migrated.ok("partners", "list").stdout.splitlines()
        assert row.split("\t")[-1] == "U0CM"

    def test_linking_again_without_a_manager_keeps_the_manager(self, migrated: Cli) -> None:
        migrated.ok(
            "partners", "add", "Acme", "--tier", "Gold", "--channel", "C0ACME", "--manager", "U0CM"
        )
        migrated.ok("partners", "add", "Acme", "--tier", "Platinum", "--channel", "C0ACME")

        [_, row] = migrated.ok("partners", "list").stdout.splitlines()
        assert row.split("\t")[3] == "Platinum"
        assert row.split("\t")[-1] == "U0CM"

    def test_queues_the_launcher_for_the_bot_to_post(self, migrated: Cli) -> None:
        migrated.ok("partners", "add", "Acme", "--tier", "Gold", "--channel", "C0ACME")

        assert launchers_owed(migrated.url) == [(1, "partner:1")]

    @pytest.mark.parametrize(
        ("option", "value"),
        [
            ("--channel", "acme"),
            ("--channel", "#acme"),
            ("--channel", "U0ACME"),
            ("--slack-team", "X1"),
            ("--slack-team", "t0acme"),
            ("--slack-enterprise", "T0ACME"),
            ("--manager", "C0ACME"),
            ("--manager", "@ana"),
        ],
    )
    def test_a_bad_slack_id_is_a_usage_error_naming_the_option(
        self, migrated: Cli, option: str, value: str
    ) -> None:
        args = {"--channel": "C0ACME", option: value}

        result = migrated(
            "partners",
            "add",
            "Acme",
            "--tier",
            "Gold",
            *(part for pair in args.items() for part in pair),
        )

        assert result.exit_code == 2
        assert f"Invalid value for {option}" in result.stderr
        assert repr(value) in result.stderr
        assert "Traceback" not in result.stderr

    def test_a_bad_slack_id_links_nothing(self, migrated: Cli) -> None:
        migrated(
            "partners", "add", "Acme", "--tier", "Gold", "--channel", "C0ACME", "--slack-team", "X1"
        )

        assert migrated.ok("partners", "list").stdout.startswith("no partners yet")
        assert launchers_owed(migrated.url) == []

    def add(self, cli: Cli, name: str, channel: str, *code: str) -> Result:
        return cli("partners", "add", name, "--tier", "Gold", "--channel", channel, *code)

    def codes(self, cli: Cli) -> dict[str, str]:
        """Channel → code, from `partners list`."""
        rows = [line.split("\t") for line in cli.ok("partners", "list").stdout.splitlines()[1:]]
        return {row[4]: row[1] for row in rows}

    def test_code_sets_the_partners_code(self, migrated: Cli) -> None:
        result = self.add(migrated, "Northwind Traders", "C0NW", "--code", "nw")

        assert result.exit_code == 0
        assert "its references read NW-0001, NW-0002, …" in result.stdout
        assert self.codes(migrated) == {"C0NW": "NW"}

    def test_without_code_a_new_partner_gets_its_initials_made_unique(self, migrated: Cli) -> None:
        self.add(migrated, "Northwind Traders", "C0NW1", "--code", "NT")
        self.add(migrated, "Northwind Traders", "C0NW2")
        self.add(migrated, "Nimbus Tech", "C0NW3")

        assert self.codes(migrated) == {"C0NW1": "NT", "C0NW2": "NT2", "C0NW3": "NT3"}

    @pytest.mark.parametrize(
        ("code", "says"),
        [
            ("N", "dibs: error: N is not a partner code: use 2 to 6 letters or digits, "
                  "starting with a letter."),
            ("NORTHWIND", "dibs: error: NORTHWIND is not a partner code: use 2 to 6 letters or "
                          "digits, starting with a letter."),
            ("DR", "dibs: error: DR is reserved for the references given before partner codes; "
                   "pick another code."),
        ],
    )  # fmt: skip
    def test_a_malformed_code_is_one_line_and_links_nothing(
        self, migrated: Cli, code: str, says: str
    ) -> None:
        assert one_error_line(self.add(migrated, "Northwind", "C0NW", "--code", code)) == says
        assert migrated.ok("partners", "list").stdout.startswith("no partners yet")

    def test_a_code_another_partner_holds_is_refused_naming_that_partner(
        self, migrated: Cli
    ) -> None:
        self.add(migrated, "Northwind Traders", "C0NW", "--code", "NW")

        result = self.add(migrated, "Newell Wholesale", "C0NEWELL", "--code", "nw")

        assert one_error_line(result) == (
            "dibs: error: The code NW is taken by Northwind Traders; pick another."
        )
        assert self.codes(migrated) == {"C0NW": "NW"}

    def test_relinking_keeps_the_code_or_changes_it_for_future_registrations(
        self, migrated: Cli
    ) -> None:
        self.add(migrated, "Northwind Traders", "C0NW", "--code", "NW")
        self.add(migrated, "Northwind Traders Ltd", "C0NW")
        assert self.codes(migrated) == {"C0NW": "NW"}

        self.add(migrated, "Northwind Traders Ltd", "C0NW", "--code", "NWT")

        assert self.codes(migrated) == {"C0NW": "NWT"}

    def test_a_blank_name_is_one_line_of_error(self, migrated: Cli) -> None:
        result = migrated("partners", "add", "  ", "--tier", "Gold", "--channel", "C0ACME")

        assert one_error_line(result) == "dibs: error: Give the partner a name."

    def test_the_desk_channel_is_refused_in_one_line_and_links_nothing(self, migrated: Cli) -> None:
        result = migrated("partners", "add", "Acme", "--tier", "Gold", "--channel", DESK)

        line = one_error_line(result)
        assert line.startswith("dibs: error: That is the deal-desk channel ([desk] channel)")
        assert migrated.ok("partners", "list").stdout.startswith("no partners yet")
        assert launchers_owed(migrated.url) == []

    def test_the_desk_channel_named_by_dibs_config_is_refused(self, migrated: Cli) -> None:
        policy = migrated.folder / "policy.toml"
        policy.write_text(
            EXAMPLE_POLICY.read_text(encoding="utf-8").replace(DESK, "G0PRIVATEDESK"),
            encoding="utf-8",
        )
        migrated.setenv("DIBS_CONFIG", str(policy))

        refused = migrated(
            "partners", "add", "Acme", "--tier", "Gold", "--channel", "G0PRIVATEDESK"
        )
        linked = migrated("partners", "add", "Acme", "--tier", "Gold", "--channel", DESK)

        assert "deal-desk channel" in one_error_line(refused)
        assert linked.exit_code == 0  # the example's desk channel is just a channel here

    def test_without_a_policy_file_says_so_in_one_line_and_links_nothing(self, cli: Cli) -> None:
        cli.ok("db", "upgrade")

        result = cli("partners", "add", "Acme", "--tier", "Gold", "--channel", "C0ACME")

        line = one_error_line(result)
        assert line.startswith("dibs: error: no config file")
        assert "DIBS_CONFIG" in line
        assert "dibs.toml" in line
        assert launchers_owed(cli.url) == []


class TestPartnersList:
    def test_an_empty_database_gets_a_hint(self, migrated: Cli) -> None:
        result = migrated("partners", "list")

        assert result.exit_code == 0
        assert result.stdout == "no partners yet: dibs partners add NAME --tier TIER --channel C…\n"

    def test_lists_partners_as_a_tab_separated_table(self, migrated: Cli) -> None:
        migrated.ok(
            "partners",
            "add",
            "Acme Resellers",
            "--tier",
            "Gold",
            "--channel",
            "C0ACME",
            "--slack-team",
            "T0ACME",
        )
        migrated.ok(
            "partners",
            "add",
            "Globex",
            "--tier",
            "Silver",
            "--channel",
            "C0GLOBEX",
            "--slack-enterprise",
            "E0GLOBEX",
        )

        result = migrated("partners", "list")

        assert result.exit_code == 0
        assert result.stdout.splitlines() == [
            "id\tcode\tname\ttier\tchannel\tslack_team\tslack_enterprise\tmanager",
            "1\tAR\tAcme Resellers\tGold\tC0ACME\tT0ACME\t\t",
            "2\tGL\tGlobex\tSilver\tC0GLOBEX\t\tE0GLOBEX\t",
        ]

    def test_before_db_upgrade_says_to_run_it_without_a_traceback(self, cli: Cli) -> None:
        result = cli("partners", "list")

        line = one_error_line(result)
        assert line.startswith("dibs: error: database: ")
        assert line.endswith("(has `dibs db upgrade` been run?)")

    @pytest.mark.parametrize("url", ["not a url", "bogus://db/dibs"])
    def test_a_malformed_database_url_is_one_line_naming_dibs_database_url(
        self, cli: Cli, url: str
    ) -> None:
        cli.setenv("DIBS_DATABASE_URL", url)

        line = one_error_line(cli("partners", "list"))

        assert "DIBS_DATABASE_URL" in line


class TestShow:
    def test_shows_a_registration_by_its_reference_in_any_case(self, migrated: Cli) -> None:
        submit_and_approve(migrated.url)

        result = migrated.ok("show", " ac-1 ")

        lines = result.stdout.splitlines()
        assert lines[:5] == [
            "AC-0001 · Acme Corp",
            "partner: Acme (Gold), code AC",
            "status: Approved",
            "amount: USD 84,500",
            "expected close: 2025-06-30",
        ]
        assert lines[5].startswith(
            "Approved by U0APPROVER on 2025-03-03 11:30 UTC, protected until"
        )

    def test_a_legacy_reference_finds_the_registration_that_was_given_it(
        self, migrated: Cli
    ) -> None:
        submit_and_approve(migrated.url)
        give_legacy_reference(migrated.url, 1)

        assert migrated.ok("show", "DR-1").stdout.startswith("DR-0001 · Acme Corp\n")

    def test_an_unknown_reference_is_one_line_of_error(self, migrated: Cli) -> None:
        submit_and_approve(migrated.url)

        assert (
            one_error_line(migrated("show", "AC-0099")) == "dibs: error: No registration AC-0099."
        )
        assert (
            one_error_line(migrated("show", "DR-0001")) == "dibs: error: No registration DR-0001."
        )

    def test_text_that_is_no_reference_says_what_one_looks_like(self, migrated: Cli) -> None:
        assert one_error_line(migrated("show", "Acme")) == (
            "dibs: error: Acme is not a registration reference; they look like NW-0007."
        )


def give_legacy_reference(url: str, registration_id: int) -> None:
    """Make a registration one that predates partner codes (the migration gave it DR-…)."""

    async def run() -> None:
        engine = make_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    update(RegistrationRow)
                    .where(RegistrationRow.id == registration_id)
                    .values(reference=f"DR-{registration_id:04d}")
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


class TestExportAudit:
    def test_writes_every_audit_event_to_stdout(self, migrated: Cli) -> None:
        submit_and_approve(migrated.url)

        result = migrated("export", "audit", "--format", "csv")

        assert result.exit_code == 0
        expected_audit(csv_rows(result.stdout))

    def test_writes_to_a_file_and_says_how_many(self, migrated: Cli) -> None:
        submit_and_approve(migrated.url)
        target = migrated.folder / "audit.csv"

        result = migrated("export", "audit", "--output", str(target))

        assert result.exit_code == 0
        assert result.stdout == ""
        assert f"wrote 3 audit events to {target}" in result.stderr
        expected_audit(csv_rows(target.read_text(encoding="utf-8")))

    def test_an_empty_log_is_just_the_header(self, migrated: Cli) -> None:
        result = migrated("export", "audit")

        assert csv_rows(result.stdout) == [AUDIT_HEADER]

    def test_before_db_upgrade_is_one_line_of_error(self, cli: Cli) -> None:
        line = one_error_line(cli("export", "audit"))

        assert line.startswith("dibs: error: database: ")

    def test_a_failed_export_leaves_the_output_file_as_it_was(self, cli: Cli) -> None:
        target = cli.folder / "audit.csv"
        target.write_text("last week's export\n", encoding="utf-8")

        result = cli("export", "audit", "--output", str(target))

        assert result.exit_code == 2
        assert target.read_text(encoding="utf-8") == "last week's export\n"

    def test_only_csv_is_offered(self, migrated: Cli) -> None:
        result = migrated("export", "audit", "--format", "xlsx")

        assert result.exit_code == 2
        assert "--format" in result.stderr


class TestServe:
    """`serve` checks its configuration first; none of these gets as far as listening."""

    def valid_config(self, cli: Cli) -> Path:
        path = cli.folder / "policy.toml"
        shutil.copy(ROOT / "dibs.example.toml", path)
        return path

    def test_without_a_bot_token_names_slack_bot_token(self, cli: Cli) -> None:
        cli.setenv("DIBS_CONFIG", str(self.valid_config(cli)))
        cli.setenv("SLACK_SIGNING_SECRET", "shh")

        line = one_error_line(cli("serve"))

        assert line.startswith("dibs: error: SLACK_BOT_TOKEN")

    def test_over_http_without_a_signing_secret_names_it(self, cli: Cli) -> None:
        cli.setenv("DIBS_CONFIG", str(self.valid_config(cli)))
        cli.setenv("SLACK_BOT_TOKEN", "xoxb-1")

        line = one_error_line(cli("serve"))

        assert line.startswith("dibs: error: SLACK_SIGNING_SECRET")

    def test_without_a_config_file_names_dibs_config_and_dibs_toml(self, cli: Cli) -> None:
        cli.setenv("SLACK_BOT_TOKEN", "xoxb-1")
        cli.setenv("SLACK_SIGNING_SECRET", "shh")

        line = one_error_line(cli("serve"))

        assert line.startswith("dibs: error: ")
        assert "DIBS_CONFIG" in line
        assert "dibs.toml" in line

    def test_with_dibs_config_naming_a_missing_file_names_dibs_config(self, cli: Cli) -> None:
        cli.setenv("SLACK_BOT_TOKEN", "xoxb-1")
        cli.setenv("SLACK_SIGNING_SECRET", "shh")
        cli.setenv("DIBS_CONFIG", str(cli.folder / "missing.toml"))

        line = one_error_line(cli("serve"))

        assert line.startswith("dibs: error: DIBS_CONFIG")
        assert "missing.toml" in line

    def test_with_a_broken_config_names_the_file_and_key(self, cli: Cli) -> None:
        (cli.folder / "dibs.toml").write_text(
            '[desk]\nchannel = "desk"\napprovers = ["U0A1"]\n[program]\nproducts = ["X"]\n',
            encoding="utf-8",
        )
        cli.setenv("SLACK_BOT_TOKEN", "xoxb-1")
        cli.setenv("SLACK_SIGNING_SECRET", "shh")

        line = one_error_line(cli("serve"))

        assert line.startswith("dibs: error: dibs.toml: [desk.channel]")


class TestCheck:
    def test_prints_each_claim_with_its_signals_and_scores(self, migrated: Cli) -> None:
        async def seed() -> None:
            engine = make_engine(migrated.url)
            try:
                services = bound(uow_factory(make_session_factory(engine)), NOW)
                await services.partners.link(
                    LinkPartner(name="Acme", tier="Gold", channel_id=SlackChannelId("C0ACME"))
                )
                await services.registrations.submit(
                    SubmitRegistration(details=some_details()),
                    Caller(APPROVER, HOST_TEAM, SlackChannelId("C0ACME")),
                )
            finally:
                await engine.dispose()

        asyncio.run(seed())

        result = migrated.ok("check", "ACME Corporation", "--domain", "www.acme.com")

        assert result.stdout.splitlines() == [
            "1 conflict.",
            "- Registration AC-0001 for Acme Corp (acme.com, US): by Acme, In review",
            "  conflict (score 1.00): same domain 1.00: acme.com, name equal 1.00: acme",
        ]

    def test_a_lapsed_approval_is_no_claim_any_more(self, migrated: Cli) -> None:
        submit_and_approve(migrated.url)  # approved in 2025: protection ran out since

        result = migrated.ok("check", "Acme Corp", "--domain", "acme.com")

        assert result.stdout == "No existing claim found.\n"

    def test_finds_an_imported_account_by_email_domain(self, migrated: Cli) -> None:
        async def seed() -> None:
            engine = make_engine(migrated.url)
            try:
                async with uow_factory(make_session_factory(engine))() as uow:
                    await uow.crm.upsert_accounts(
                        [Account("0011", "Globex", domain="globex.com", owner_email="d@v.example")]
                    )
                    await uow.commit()
            finally:
                await engine.dispose()

        asyncio.run(seed())

        result = migrated.ok("check", "Globex Holdings", "--email", "hank@globex.com")

        assert "- Account 0011 Globex (globex.com): owner d@v.example" in result.stdout
        assert "same email domain 1.00: globex.com" in result.stdout

    def test_nobody_has_a_claim(self, migrated: Cli) -> None:
        assert migrated.ok("check", "Hooli").stdout == "No existing claim found.\n"

    def test_a_blank_name_is_one_error_line(self, migrated: Cli) -> None:
        assert "Name a company" in one_error_line(migrated("check", " "))


def import_account(url: str, account: Account) -> None:
    async def seed() -> None:
        engine = make_engine(url)
        try:
            async with uow_factory(make_session_factory(engine))() as uow:
                await uow.crm.upsert_accounts([account])
                await uow.commit()
        finally:
            await engine.dispose()

    asyncio.run(seed())


class TestAliases:
    def test_add_makes_the_next_check_find_the_other_name(self, migrated: Cli) -> None:
        import_account(migrated.url, Account("0011", "Raccoon Pharma Inc"))
        assert migrated.ok("check", "Umbrella Corp").stdout == "No existing claim found.\n"

        added = migrated.ok("aliases", "add", "Umbrella Corporation", "Raccoon Pharma")

        assert added.stdout == (
            "added alias 'Umbrella Corporation' = 'Raccoon Pharma'; 1 record re-keyed\n"
        )
        found = migrated.ok("check", "Umbrella Corp").stdout
        assert "- Account 0011 Raccoon Pharma Inc" in found
        assert "alias" in found

    def test_an_import_after_add_keys_accounts_with_the_alias(self, migrated: Cli) -> None:
        migrated.ok("aliases", "add", "Umbrella Corporation", "Raccoon Pharma")
        path = migrated.folder / "accounts.csv"
        path.write_text("external_id,name\n0011,Raccoon Pharma\n", encoding="utf-8")
        migrated.ok("import", "accounts", str(path))

        assert "- Account 0011 Raccoon Pharma" in migrated.ok("check", "Umbrella Corp").stdout

    def test_list_shows_what_was_added_by_whom(self, migrated: Cli) -> None:
        migrated.ok("aliases", "add", "Umbrella Corporation", "Raccoon Pharma")

        rows = list(csv.reader(io.StringIO(migrated.ok("aliases", "list").stdout), delimiter="\t"))

        assert rows[0] == ["name", "alias", "added_by", "added_at"]
        assert rows[1][:2] == ["Umbrella Corporation", "Raccoon Pharma"]
        assert rows[1][2].startswith("cli")

    def test_list_without_aliases_says_how_to_add_one(self, migrated: Cli) -> None:
        assert "dibs aliases add" in migrated.ok("aliases", "list").stdout

    def test_remove_undoes_add(self, migrated: Cli) -> None:
        import_account(migrated.url, Account("0011", "Raccoon Pharma Inc"))
        migrated.ok("aliases", "add", "Umbrella Corporation", "Raccoon Pharma")

        removed = migrated.ok("aliases", "remove", "Raccoon Pharma", "Umbrella Corporation")

        assert removed.stdout.endswith("; 1 record re-keyed\n")
        assert migrated.ok("check", "Umbrella Corp").stdout == "No existing claim found.\n"

    def test_names_already_known_as_one_company_add_nothing(self, migrated: Cli) -> None:
        result = migrated.ok("aliases", "add", "Meta Platforms", "Facebook")

        assert (
            result.stdout
            == "'Meta Platforms' and 'Facebook' already name one company; nothing to add\n"
        )
        assert "dibs aliases add" in migrated.ok("aliases", "list").stdout

    def test_removing_a_shipped_alias_is_one_error_line(self, migrated: Cli) -> None:
        line = one_error_line(migrated("aliases", "remove", "Meta Platforms", "Facebook"))
        assert "the shipped aliases cannot be removed" in line

    def test_a_name_without_letters_is_one_error_line(self, migrated: Cli) -> None:
        line = one_error_line(migrated("aliases", "add", "Umbrella", "&!?"))
        assert line == "dibs: error: '&!?' has no letters or digits to match on"
