"""Messages the previous version queued (untyped payloads) are delivered after an upgrade."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, insert

from bot.bootstrap import utc_now
from storage.models import OutboxMessageRow
from tests.slack.conftest import ACME_CHANNEL, DESK, World

_OUTBOX = cast(Table, OutboxMessageRow.__table__)


def old_row(key: str, kind: str, notice: str | None, data: dict[str, str]) -> dict[str, Any]:
    """A message about registration 1 as the previous version queued it."""
    now = utc_now()
    return {
        "key": f"registration:1:{key}",
        "kind": kind,
        "registration_id": 1,
        "partner_id": None,
        "notice": notice,
        "data": data,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }


async def test_messages_queued_before_payloads_were_typed_still_go_out(world: World) -> None:
    await world.register()
    await world.delivered()
    review = await world.card(DESK)
    partner_card = await world.card(ACME_CHANNEL)
    working = {"by": "U0DIRECT", "note": "Demo <booked>", "link": "https://crm.example.com/1"}
    decided = {"decision": "approve", "reason": "", "owner_slack_id": "U0DIRECT",
               "owner_email": "", "role": "working"}  # fmt: skip

    async with world.deps.engine.begin() as connection:
        await connection.execute(
            insert(_OUTBOX),
            [
                old_row("desk", "desk_notice", "disputed", working),
                old_row("partner", "partner_notice", "received", {}),
                old_row("direct", "direct_notice", None, decided),
            ],
        )
    world.deps.kick_outbox()
    await world.delivered()

    rows = await world.outbox_rows()
    assert [r.failed_at for r in rows] == [None] * len(rows)
    [*_, disputed] = world.fake.thread(DESK, str(review["ts"]))
    assert disputed["text"].startswith(":raising_hand: <@U0DIRECT> is working ")
    assert disputed["text"].endswith(
        "disputes *AR-0001*:\n>Demo &lt;booked&gt; (<https://crm.example.com/1|evidence>)"
    )
    [*_, received] = world.fake.thread(ACME_CHANNEL, str(partner_card["ts"]))
    assert received["text"].startswith("We received *AR-0001* for ")
    [dm] = world.fake.messages_in("U0DIRECT")
    assert dm["text"].startswith(
        ":scales: The deal desk settled an overlap with a customer you said you are working: "
        "AR-0001 "
    )
    assert "*Approved*: the desk approved the partner's registration" in dm["text"]
