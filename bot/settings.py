"""Process settings from the environment (and `.env`): tokens, URLs, where the config lives."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///dibs.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_CONFIG_PATH = Path("dibs.toml")


class SettingsError(Exception):
    """A required setting is missing or wrong; the message names it."""


class Settings(BaseSettings):
    """Everything Dibs reads from the environment. Tokens are secrets and never logged."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, alias="SLACK_API_URL")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="DIBS_DATABASE_URL")
    config_path: Path | None = Field(default=None, alias="DIBS_CONFIG")

    @property
    def api_url(self) -> str:
        """The Web API base URL with the trailing slash urljoin needs."""
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"

    def bot_token(self) -> str:
        return _required(self.slack_bot_token, "SLACK_BOT_TOKEN")

    def signing_secret(self) -> str:
        return _required(self.slack_signing_secret, "SLACK_SIGNING_SECRET")

    def app_token(self) -> str | None:
        return self.slack_app_token.get_secret_value() if self.slack_app_token else None

    def resolved_config_path(self) -> Path | None:
        """DIBS_CONFIG when set (it must exist), else dibs.toml when present."""
        if self.config_path is not None:
            if not self.config_path.is_file():
                raise SettingsError(f"DIBS_CONFIG: no such file: {self.config_path}")
            return self.config_path
        return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


def _required(value: SecretStr | None, name: str) -> str:
    if value is None or not value.get_secret_value().strip():
        raise SettingsError(f"{name} is not set (see README: Configuration)")
    return value.get_secret_value().strip()


@lru_cache
def get_settings() -> Settings:
    """The settings, read once per process (tests call `get_settings.cache_clear()`)."""
    return Settings()
