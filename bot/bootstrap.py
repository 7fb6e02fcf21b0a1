"""Wire the real pieces together once, at start-up: settings, policies, storage, clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import DibsConfig, load_config
from bot.settings import Settings, SettingsError
from domain.conflicts import ConflictRules
from domain.matching import Aliases, MatchRules
from domain.ports import UnitOfWork
from storage.db import make_engine, make_session_factory
from storage.uow import SqlAlchemyUnitOfWork

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    """What every handler and the outbox worker need, built once per process."""

    settings: Settings
    config: DibsConfig
    engine: AsyncEngine
    uow: Callable[[], UnitOfWork]
    clock: Clock = utc_now
    conflict_rules: ConflictRules = field(default_factory=ConflictRules)
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _http: aiohttp.ClientSession | None = None

    def kick_outbox(self) -> None:
        """Tell this process's outbox worker there is something to deliver now."""
        self.outbox_wakeup.set()

    def http_session(self) -> aiohttp.ClientSession:
        """One HTTP connection pool for every Slack call (a new one per call costs a
        connection set-up each time); created on first use inside the running loop."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._http

    async def close(self) -> None:
        """Release the HTTP pool and the database engine."""
        if self._http is not None:
            await self._http.close()
        await self.engine.dispose()


def require_config(settings: Settings) -> DibsConfig:
    """The policy file, which the bot cannot run without."""
    path = settings.resolved_config_path()
    if path is None:
        raise SettingsError(
            "no config file: set DIBS_CONFIG or create dibs.toml (copy dibs.example.toml)"
        )
    return load_config(path)


def make_uow_factory(
    engine: AsyncEngine, rules: ConflictRules | None = None
) -> Callable[[], UnitOfWork]:
    """Units of work on `engine`; `rules` decide the candidate keys stored with records."""
    session_factory = make_session_factory(engine)
    rules = rules or ConflictRules()
    return lambda: SqlAlchemyUnitOfWork(session_factory, conflict_rules=rules)


def bootstrap(settings: Settings, config: DibsConfig, *, clock: Clock = utc_now) -> Deps:
    """Build the dependencies; the engine connects lazily, nothing happens at import."""
    engine = make_engine(settings.database_url)
    rules = ConflictRules(match=MatchRules(), aliases=Aliases.default())
    return Deps(
        settings=settings,
        config=config,
        engine=engine,
        uow=make_uow_factory(engine, rules),
        clock=clock,
        conflict_rules=rules,
    )
