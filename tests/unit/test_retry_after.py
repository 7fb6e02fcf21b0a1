"""How long a rate-limited delivery waits: what a 429's Retry-After header asks for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.outbox import MAX_RETRY_AFTER_SECONDS, retry_after

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
FALLBACK = 7.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 30 ", 30.0),
        ("2.5", 2.5),
        ("0", 0.0),
        ("-4", 0.0),
        ("Sat, 28 Nov 2026 08:00:30 GMT", 30.0),
        ("Sat, 28 Nov 2026 07:59:00 GMT", 0.0),
        ("1e30", MAX_RETRY_AFTER_SECONDS),
    ],
)
def test_the_wait_the_header_asks_for_is_kept(header: str, seconds: float) -> None:
    assert retry_after(header, fallback=FALLBACK, now=NOW) == seconds


@pytest.mark.parametrize("header", [None, "", "soon", "nan", "inf", "Sat, 28 Nov 2026 08:00:30"])
def test_a_missing_or_unreadable_header_falls_back_to_the_backoff(header: str | None) -> None:
    assert retry_after(header, fallback=FALLBACK, now=NOW) == FALLBACK
