"""Global middleware: hand every listener the process's dependencies as `deps`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.bootstrap import Deps


def register_middleware(app: AsyncApp, deps: Deps) -> None:
    """Listeners declare `deps: Deps` and Bolt injects it from the context, its conflict rules
    up to date with the aliases admins added (in this process or another)."""

    @app.middleware
    async def inject_deps(
        context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        await deps.refresh_rules()
        context["deps"] = deps
        return await next()
