"""Alembic environment: async engine via `run_sync`, batch mode for SQLite, our metadata.

The database URL is `sqlalchemy.url` if the config sets it, else `DIBS_DATABASE_URL`, else
the local SQLite file. `storage.migrate` passes an open connection instead.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from storage.db import make_engine
from storage.models import Base, UtcDateTime

DEFAULT_URL = "sqlite+aiosqlite:///dibs.db"

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    """Where to migrate: the config's URL, then the environment, then ./dibs.db."""
    configured = None
    if config.file_config.has_section(config.config_ini_section):  # none with pyproject only
        configured = config.get_main_option("sqlalchemy.url")
    return configured or os.environ.get("DIBS_DATABASE_URL") or DEFAULT_URL


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Write our UTC timestamp type as the plain column type it stores."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


COMPARE_OPTIONS: dict[str, Any] = {
    "target_metadata": target_metadata,
    "render_as_batch": True,
    "compare_type": True,
    "render_item": render_item,
}


def run_migrations_offline() -> None:
    """Emit the SQL instead of running it (`alembic upgrade head --sql`)."""
    context.configure(
        url=database_url(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **COMPARE_OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on an open (sync-facing) connection."""
    context.configure(connection=connection, **COMPARE_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    """Open our own engine (same pragmas as the app) and migrate through `run_sync`."""
    engine = make_engine(database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Migrate on the connection handed over by `storage.migrate`, or on a new engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
