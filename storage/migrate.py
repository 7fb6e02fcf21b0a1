"""Run Alembic migrations from code (start-up, CLI, tests), from any working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for our migrations folder (found next to this module, installed or not)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, *, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (default: the latest)."""
    engine = make_engine(url)
    try:
        await upgrade_engine(engine, revision=revision)
    finally:
        await engine.dispose()


async def upgrade_engine(engine: AsyncEngine, *, revision: str = "head") -> None:
    """Like `upgrade`, on an engine the caller built (and disposes of)."""
    async with engine.connect() as connection:
        await connection.run_sync(_upgrade_on, revision)
        await connection.commit()


def _upgrade_on(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
