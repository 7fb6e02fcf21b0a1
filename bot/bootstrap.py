"""Wire the real pieces together once, at start-up: settings, policies, storage, clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import DibsConfig, load_config
from bot.desk_channel import DeskWatch
from bot.settings import Settings, SettingsError
from domain.company_aliases import RulesSnapshot
from domain.conflicts import ConflictRules
from domain.matching import Aliases, MatchRules
from domain.ports import UnitOfWork
from domain.services import ServiceContext, Services
from storage.db import make_engine, make_session_factory
from storage.uow import SessionSource, SqlAlchemyUnitOfWork, uow_factory

Clock = Callable[[], datetime]
RULES_MAX_AGE = 2.0
"""An alias added by any process counts from checks this many seconds later at most."""


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
    """The rules of the last refresh: `base_rules` plus the admins' aliases."""
    base_rules: ConflictRules = field(default_factory=ConflictRules)
    """The rules from code and the shipped alias file, before the admins' aliases."""
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    rules_max_age: float = RULES_MAX_AGE
    """Seconds the admins' aliases are trusted before `refresh_rules` asks the database."""
    services: Services = field(init=False)
    """Every use case, bound to this process's storage, clock, policies and rules."""
    desk_watch: DeskWatch = field(default_factory=DeskWatch)
    """Whether the desk channel is internal, as this process last checked (bot/desk_channel)."""
    _http: aiohttp.ClientSession | None = None
    _rules: RulesSnapshot | None = None
    _rules_checked: float = float("-inf")

    async def refresh_rules(self) -> ConflictRules:
        """Pick up aliases added or removed by any process: at most once per `rules_max_age`
        seconds one small query, and `conflict_rules` is rebuilt only when they changed.
        (Asking on every request cost each submission a transaction of its own.)"""
        now = time.monotonic()
        if now - self._rules_checked < self.rules_max_age:
            return self.conflict_rules
        self._rules = await self.services.aliases.current_rules(known=self._rules)
        self._rules_checked = now
        self.conflict_rules = self._rules.rules
        return self.conflict_rules

    def __post_init__(self) -> None:
        context = ServiceContext(
            uow=self.uow,
            clock=self.clock,
            desk=self.config.desk,
            program=self.config.program,
            privacy=self.config.privacy,
            rules=lambda: self.conflict_rules,
        )
        self.services = Services.bind(context, base_rules=self.base_rules)

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
    """Units of work on `engine` (the CLI's); `rules` decide the keys stored with records."""
    return uow_factory(make_session_factory(engine), conflict_rules=rules)


def bootstrap(settings: Settings, config: DibsConfig, *, clock: Clock = utc_now) -> Deps:
    """Build the dependencies; the engine connects lazily, nothing happens at import."""
    engine = make_engine(settings.database_url)
    rules = ConflictRules(match=MatchRules(), aliases=Aliases.default())
    sessions = SessionSource(make_session_factory(engine))

    def new_uow() -> UnitOfWork:
        """Keys are stored under the rules of the moment, the admins' aliases included; a
        commit that queued messages wakes this process's outbox worker."""
        return SqlAlchemyUnitOfWork(
            sessions, conflict_rules=deps.conflict_rules, on_commit=deps.kick_outbox
        )

    deps = Deps(
        settings=settings,
        config=config,
        engine=engine,
        uow=new_uow,
        clock=clock,
        conflict_rules=rules,
        base_rules=rules,
    )
    return deps
