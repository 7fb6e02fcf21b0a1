"""Delivers the Slack messages that committed transactions owe (the outbox).

`worker` leases, retries and records; `courier` is what deliverers share; `cards`,
`notices` and `evidence` hold a deliverer per kind of message (`worker.DELIVERERS`).
"""

from __future__ import annotations

from bot.outbox.worker import (
    DELIVERERS,
    DESK_SIDE,
    MAX_RETRY_AFTER_SECONDS,
    PERMANENT_ERRORS,
    OutboxTuning,
    OutboxWorker,
    retry_after,
)

__all__ = [
    "DELIVERERS",
    "DESK_SIDE",
    "MAX_RETRY_AFTER_SECONDS",
    "PERMANENT_ERRORS",
    "OutboxTuning",
    "OutboxWorker",
    "retry_after",
]
