"""Build the Bolt app and the HTTP server around it. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import Deps
from bot.errors import register_error_handler
from bot.handlers import register_handlers
from bot.middleware import register_middleware
from bot.outbox import OutboxTuning, OutboxWorker
from bot.slack_http import events_app
from domain.conflicts import warm_up
from storage.candidate_lookup import prepare_lookups
from storage.sqlite_checkpoint import wal_checkpoints

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def make_client(deps: Deps, *, retry_rate_limits: bool = True) -> AsyncWebClient:
    """A Web API client for our bot token, pointed at SLACK_API_URL."""
    client = AsyncWebClient(
        token=deps.settings.bot_token(),
        base_url=deps.settings.api_url,
        session=deps.http_session(),
        logger=_api_logger(),
    )
    if retry_rate_limits:
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


def _api_logger() -> logging.Logger:
    """The Web API client's logger, with its level set.

    slack_sdk formats a debug line with every request's whole JSON and every response
    whenever its logger's own level is NOTSET (`level <= DEBUG`), whatever the handlers
    would keep, on every call, for nothing. An explicit level (the effective one, so
    DEBUG logging still shows them) skips that.
    """
    api = logging.getLogger("slack_sdk.web")
    if api.level == logging.NOTSET:
        api.setLevel(api.getEffectiveLevel())
    return api


def build_app(deps: Deps, *, socket_mode: bool = False) -> AsyncApp:
    """The Bolt app with middleware, the error handler and every feature's listeners.

    In Socket Mode Slack sends payloads over the WebSocket our app token opened, unsigned,
    so there is no signing secret to require and no signature to check.
    """
    app = AsyncApp(
        client=make_client(deps),
        signing_secret="" if socket_mode else deps.settings.signing_secret(),
        request_verification_enabled=not socket_mode,
        process_before_response=False,
    )
    register_middleware(app, deps)
    register_error_handler(app)
    register_handlers(app)
    return app


DEPS = web.AppKey("deps", Deps)


def build_web_app(
    deps: Deps, *, app: AsyncApp | None = None, tuning: OutboxTuning | None = None
) -> web.Application:
    """`POST /slack/events` and `GET /healthz`, with the outbox worker running alongside."""
    web_app = events_app(app or build_app(deps), EVENTS_PATH)
    _add_health_and_worker(web_app, deps, tuning)
    return web_app


def health_app(deps: Deps, *, tuning: OutboxTuning | None = None) -> web.Application:
    """Only `GET /healthz` and the outbox worker (Socket Mode carries the Slack traffic)."""
    web_app = web.Application()
    _add_health_and_worker(web_app, deps, tuning)
    return web_app


def _add_health_and_worker(
    web_app: web.Application, deps: Deps, tuning: OutboxTuning | None
) -> None:
    web_app.router.add_get("/healthz", _healthz)
    web_app[DEPS] = deps

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        await deps.services.crm.restore_key_index()
        await prepare_lookups(deps.engine)
        warm_up(deps.conflict_rules)
        async with wal_checkpoints(deps.engine), worker_running(deps, tuning):
            yield
        await deps.close()

    web_app.cleanup_ctx.append(lifecycle)


@contextlib.asynccontextmanager
async def worker_running(deps: Deps, tuning: OutboxTuning | None = None) -> AsyncIterator[None]:
    """Run this process's outbox worker for the duration of the block."""
    worker = OutboxWorker(deps, make_client(deps, retry_rate_limits=False), tuning=tuning)
    task = asyncio.create_task(worker.run(), name="dibs-outbox")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _healthz(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    try:
        pending = await deps.services.deliveries.pending()
    except Exception:
        logger.exception("health check: database unreachable")
        return web.json_response({"ok": False, "database": "unreachable"}, status=503)
    return web.json_response({"ok": True, "outbox_pending": pending})
