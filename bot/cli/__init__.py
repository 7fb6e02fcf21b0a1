"""The `dibs` command: serve the bot and migrate the database; the other commands (partners,
aliases, check, show, export, import) live in the modules beside this one.

Every problem a user can cause (a missing token, a bad config key, bad input) ends as one
line on stderr and a non-zero exit, never a stack trace.
"""

from __future__ import annotations

import logging
import logging.config

import click

from bot.cli.aliases import aliases
from bot.cli.partners import partners
from bot.cli.records import check, export, show
from bot.cli.running import execute, read_settings
from bot.crm_import.cli import import_group
from bot.server import serve_forever
from storage.migrate import upgrade

logger = logging.getLogger(__name__)


def configure_logging(level: str = "INFO") -> None:
    """Plain, greppable log lines on stderr; ids only, never tokens or payloads."""
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
            "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
            "root": {"level": level, "handlers": ["stderr"]},
            "loggers": {"aiohttp.access": {"level": "WARNING"}},
        }
    )


@click.group()
@click.option("--log-level", default="INFO", show_default=True, help="Logging level.")
def main(log_level: str) -> None:
    """Dibs: partner deal registration in Slack."""
    configure_logging(log_level.upper())


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on.")
@click.option("--port", default=3000, show_default=True, type=int, help="HTTP port.")
def serve(host: str, port: int) -> None:
    """Answer Slack: HTTP (/slack/events, /healthz), or Socket Mode when SLACK_APP_TOKEN is set."""
    settings = read_settings()
    execute(lambda: serve_forever(settings, host=host, port=port))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration (creates the database if it is new)."""
    settings = read_settings()
    execute(lambda: upgrade(settings.database_url), database_hint="")
    click.echo("database is up to date")


for command in (partners, export, check, show, aliases, import_group):
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover
    main()
