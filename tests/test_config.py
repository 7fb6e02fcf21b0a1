"""The TOML policy file and the environment: what loads, and how each mistake is named."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import load_config
from bot.settings import DEFAULT_DATABASE_URL, DEFAULT_SLACK_API_URL, Settings, SettingsError
from domain.policy import DeskPolicy, PrivacyPolicy
from domain.slack_ids import SlackChannelId, SlackUserId

ROOT = Path(__file__).resolve().parent.parent

DESK = """
[desk]
channel = "C0DESK"
approvers = ["U0APPROVER", "W0GRIDUSER"]
admins = ["U0ADMIN"]
"""
PROGRAM = """
[program]
products = ["Platform", "Analytics"]
"""


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dibs.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    """The one-line message load_config gives for `text`."""
    with pytest.raises(SettingsError) as raised:
        load_config(config_file(tmp_path, text))
    message = str(raised.value)
    assert "\n" not in message
    return message


class TestLoadConfig:
    def test_the_example_file_at_the_repo_root_loads(self) -> None:
        config = load_config(ROOT / "dibs.example.toml")

        assert config.desk.channel_id == "C0123DESK"
        assert config.desk.approvers == frozenset({"U0123APPROVER"})
        assert config.program.products == ("Platform", "Analytics", "Support")

    def test_reads_the_desk(self, tmp_path: Path) -> None:
        config = load_config(config_file(tmp_path, DESK + PROGRAM))

        assert config.desk == DeskPolicy(
            channel_id=SlackChannelId("C0DESK"),
            approvers=frozenset({SlackUserId("U0APPROVER"), SlackUserId("W0GRIDUSER")}),
            admins=frozenset({SlackUserId("U0ADMIN")}),
        )

    def test_reads_the_program(self, tmp_path: Path) -> None:
        text = (
            DESK + "review_sla_hours = 24\n" + PROGRAM + 'currency = "EUR"\nprotection_days = 120\n'
        )

        program = load_config(config_file(tmp_path, text)).program

        assert program.currency == "EUR"
        assert program.products == ("Platform", "Analytics")
        assert program.protection == timedelta(days=120)
        assert program.review_sla == timedelta(hours=24)

    def test_defaults_fill_what_the_file_leaves_out(self, tmp_path: Path) -> None:
        text = '[desk]\nchannel = "C0DESK"\napprovers = ["U0A1"]\n' + PROGRAM

        config = load_config(config_file(tmp_path, text))

        assert config.program.protection_days == 90
        assert config.program.review_sla_hours == 48
        assert config.program.currency == "USD"
        assert config.desk.admins == frozenset()

    def test_product_names_are_trimmed(self, tmp_path: Path) -> None:
        text = DESK + '[program]\nproducts = [" Platform ", "Edge"]\n'

        assert load_config(config_file(tmp_path, text)).program.products == ("Platform", "Edge")

    def test_a_missing_desk_channel_is_named(self, tmp_path: Path) -> None:
        text = '[desk]\napprovers = ["U0APPROVER"]\n' + PROGRAM

        message = load_error(tmp_path, text)

        assert "desk.channel" in message
        assert str(tmp_path / "dibs.toml") in message

    def test_a_desk_channel_that_is_not_a_channel_id_is_named(self, tmp_path: Path) -> None:
        text = '[desk]\nchannel = "#deal-desk"\napprovers = ["U0APPROVER"]\n' + PROGRAM

        assert "desk.channel" in load_error(tmp_path, text)

    def test_a_bad_approver_id_names_the_key_and_the_value(self, tmp_path: Path) -> None:
        text = '[desk]\nchannel = "C0DESK"\napprovers = ["U0APPROVER", "@alice"]\n' + PROGRAM

        message = load_error(tmp_path, text)

        assert "desk.approvers" in message
        assert "'@alice'" in message

    def test_a_bad_admin_id_names_the_key_and_the_value(self, tmp_path: Path) -> None:
        text = '[desk]\nchannel = "C0DESK"\napprovers = ["U0A1"]\nadmins = ["bob"]\n' + PROGRAM

        message = load_error(tmp_path, text)

        assert "desk.admins" in message
        assert "'bob'" in message

    def test_a_desk_without_approvers_is_refused(self, tmp_path: Path) -> None:
        text = '[desk]\nchannel = "C0DESK"\napprovers = []\n' + PROGRAM

        assert "desk.approvers" in load_error(tmp_path, text)

    def test_empty_products_are_refused(self, tmp_path: Path) -> None:
        assert "program.products" in load_error(tmp_path, DESK + "[program]\nproducts = []\n")

    def test_duplicate_products_are_refused(self, tmp_path: Path) -> None:
        text = DESK + '[program]\nproducts = ["Platform", " Platform"]\n'

        message = load_error(tmp_path, text)

        assert "program.products" in message
        assert "unique" in message

    def test_a_blank_product_is_refused(self, tmp_path: Path) -> None:
        text = DESK + '[program]\nproducts = ["Platform", "  "]\n'

        assert "program.products" in load_error(tmp_path, text)

    @pytest.mark.parametrize("currency", ["usd", "US", "DOLLARS", "$"])
    def test_a_currency_that_is_not_an_iso_code_is_refused(
        self, tmp_path: Path, currency: str
    ) -> None:
        text = DESK + PROGRAM + f'currency = "{currency}"\n'

        assert "program.currency" in load_error(tmp_path, text)

    def test_invalid_toml_names_the_file(self, tmp_path: Path) -> None:
        message = load_error(tmp_path, '[desk\nchannel = "C0DESK"\n')

        assert str(tmp_path / "dibs.toml") in message
        assert "not valid TOML" in message

    def test_an_unreadable_file_names_the_file(self, tmp_path: Path) -> None:
        missing = tmp_path / "nowhere.toml"

        with pytest.raises(SettingsError, match=re.escape("nowhere.toml: cannot read")):
            load_config(missing)

    def test_a_misspelt_required_key_is_named(self, tmp_path: Path) -> None:
        text = '[desk]\nchannel = "C0DESK"\naprovers = ["U0APPROVER"]\n' + PROGRAM

        message = load_error(tmp_path, text)

        assert "aprovers" in message
        assert "did you mean 'approvers'" in message

    def test_a_misspelt_optional_key_is_named(self, tmp_path: Path) -> None:
        text = DESK + PROGRAM + "protection_dayz = 30\n"

        assert "program.protection_dayz" in load_error(tmp_path, text)

    def test_an_unknown_section_is_refused(self, tmp_path: Path) -> None:
        text = DESK + PROGRAM + "[tiers]\ngold = 120\n"

        assert "tiers" in load_error(tmp_path, text)

    def test_without_a_privacy_table_partners_see_no_overlaps(self, tmp_path: Path) -> None:
        config = load_config(config_file(tmp_path, DESK + PROGRAM))

        assert config.privacy == PrivacyPolicy(partners_see_overlaps=False)

    @pytest.mark.parametrize("value", [True, False])
    def test_reads_the_privacy_switch(self, tmp_path: Path, value: bool) -> None:
        text = DESK + PROGRAM + f"[privacy]\npartners_see_overlaps = {str(value).lower()}\n"

        assert load_config(config_file(tmp_path, text)).privacy.partners_see_overlaps is value

    def test_the_example_file_keeps_overlaps_private(self) -> None:
        assert load_config(ROOT / "dibs.example.toml").privacy == PrivacyPolicy()

    def test_a_misspelt_privacy_key_is_named_with_a_hint(self, tmp_path: Path) -> None:
        text = DESK + PROGRAM + "[privacy]\npartners_see_overlap = true\n"

        message = load_error(tmp_path, text)

        assert "[privacy.partners_see_overlap]" in message
        assert "did you mean 'partners_see_overlaps'" in message

    @pytest.mark.parametrize("value", ['"yes"', "1", '"true"'])
    def test_a_privacy_switch_that_is_not_true_or_false_is_refused(
        self, tmp_path: Path, value: str
    ) -> None:
        text = DESK + PROGRAM + f"[privacy]\npartners_see_overlaps = {value}\n"

        assert "privacy.partners_see_overlaps" in load_error(tmp_path, text)

    @pytest.mark.parametrize("days", [0, -1, 3651])
    def test_a_protection_window_out_of_range_is_refused(self, tmp_path: Path, days: int) -> None:
        text = DESK + PROGRAM + f"protection_days = {days}\n"

        assert "program.protection_days" in load_error(tmp_path, text)


SETTINGS_ENV = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DIBS_DATABASE_URL",
    "DIBS_CONFIG",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No Dibs or Slack variables and no `.env` in the working directory."""
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


class TestSettings:
    def test_reads_the_slack_and_dibs_variables(self, clean_env: pytest.MonkeyPatch) -> None:
        clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-1")
        clean_env.setenv("SLACK_SIGNING_SECRET", "shh")
        clean_env.setenv("SLACK_APP_TOKEN", "xapp-1")
        clean_env.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
        clean_env.setenv("DIBS_DATABASE_URL", "postgresql://db/dibs")
        clean_env.setenv("DIBS_CONFIG", "/etc/dibs.toml")

        settings = Settings()

        assert settings.bot_token() == "xoxb-1"
        assert settings.signing_secret() == "shh"
        assert settings.app_token() == "xapp-1"
        assert settings.api_url == "http://127.0.0.1:9/api/"
        assert settings.database_url == "postgresql://db/dibs"
        assert settings.config_path == Path("/etc/dibs.toml")

    def test_defaults_without_any_variable(self, clean_env: pytest.MonkeyPatch) -> None:
        settings = Settings()

        assert settings.database_url == DEFAULT_DATABASE_URL
        assert settings.api_url == DEFAULT_SLACK_API_URL
        assert settings.app_token() is None
        assert settings.config_path is None

    def test_reads_a_dot_env_file_in_the_working_directory(
        self, clean_env: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-file\n", encoding="utf-8")

        assert Settings().bot_token() == "xoxb-from-file"

    def test_tokens_are_not_shown_when_settings_are_printed(
        self, clean_env: pytest.MonkeyPatch
    ) -> None:
        clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")

        assert "xoxb-very-secret" not in repr(Settings())

    def test_api_url_gets_the_trailing_slash_urljoin_needs(
        self, clean_env: pytest.MonkeyPatch
    ) -> None:
        clean_env.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")

        assert Settings().api_url == "http://127.0.0.1:9/api/"

    @pytest.mark.parametrize("value", [None, "", "   "])
    def test_bot_token_unset_or_blank_names_slack_bot_token(
        self, clean_env: pytest.MonkeyPatch, value: str | None
    ) -> None:
        if value is not None:
            clean_env.setenv("SLACK_BOT_TOKEN", value)

        with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
            Settings().bot_token()

    def test_bot_token_is_trimmed(self, clean_env: pytest.MonkeyPatch) -> None:
        clean_env.setenv("SLACK_BOT_TOKEN", " xoxb-1\n")

        assert Settings().bot_token() == "xoxb-1"

    def test_signing_secret_unset_names_slack_signing_secret(
        self, clean_env: pytest.MonkeyPatch
    ) -> None:
        with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
            Settings().signing_secret()
