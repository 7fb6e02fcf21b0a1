"""Events Slack may deliver more than once, remembered so each is handled once."""

from __future__ import annotations

from domain.services.context import ServiceContext


class Receipts:
    """Events API deliveries seen before."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def first_time(self, event_id: str) -> bool:
        """Remember an Events API delivery; False when Slack already delivered it (a retry)."""
        async with self._ctx.uow() as uow:
            first = await uow.receipts.first_time(event_id, now=self._ctx.clock())
            await uow.commit()
        return first
