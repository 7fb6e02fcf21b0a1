"""Run the bot until stopped: HTTP for production, Socket Mode when an app token is set."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import build_app, build_web_app, health_app, make_client
from bot.bootstrap import bootstrap, require_config
from bot.desk_channel import require_internal_desk
from bot.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

# Young-generation collections every 700 allocations ran several times per request and
# made the ack-time tail; 10,000 keeps memory bounded and the tail short (bench/).
GC_GEN0_THRESHOLD = 10_000


def tune_gc() -> None:
    """Move start-up objects out of the collector's sight and collect less eagerly."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


async def serve_forever(settings: Settings, *, host: str, port: int) -> None:
    """Validate settings and refuse a desk channel shared with another organisation, then
    serve until SIGINT/SIGTERM; in-flight work drains on the way out."""
    config = require_config(settings)
    settings.bot_token()
    app_token = settings.app_token()
    if app_token is None:
        settings.signing_secret()
    deps = bootstrap(settings, config)
    try:
        await require_internal_desk(make_client(deps), config.desk.channel_id)
    except BaseException:
        await deps.close()
        raise
    bolt = build_app(deps, socket_mode=app_token is not None)
    tune_gc()
    if app_token is None:
        web_app = build_web_app(deps, app=bolt)
        logger.info("serving Slack over HTTP on %s:%s (POST /slack/events)", host, port)
    else:
        web_app = health_app(deps)
        logger.info("serving Slack over Socket Mode; health on %s:%s/healthz", host, port)
    runner = web.AppRunner(web_app, shutdown_timeout=10)
    await runner.setup()
    socket_mode: AsyncSocketModeHandler | None = None
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            raise SettingsError(f"cannot listen on {host}:{port}: {error.strerror}") from None
        if app_token is not None:
            socket_mode = AsyncSocketModeHandler(bolt, app_token)
            await socket_mode.connect_async()  # type: ignore[no-untyped-call]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        logger.info("shutting down")
        if socket_mode is not None:
            await socket_mode.close_async()  # type: ignore[no-untyped-call]
        await runner.cleanup()
