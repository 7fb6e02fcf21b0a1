"""Calendar arithmetic for dates people pick in their own time zone. No clock: callers pass
`now`, an aware datetime (a naive one is taken as UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

WESTMOST_OFFSET = timedelta(hours=-12)
"""UTC-12 (Baker Island): the last place on earth where a day is still today."""
EASTMOST_OFFSET = timedelta(hours=14)
"""UTC+14 (Kiribati's Line Islands): the first place on earth where a day is already today."""


def todays_dates(now: datetime) -> tuple[date, date]:
    """The earliest and the latest date that is today somewhere on earth at `now`.

    A Slack date picker gives a calendar date in the picker's own time zone, which the app
    does not know: any date in this range is someone's today.
    """
    utc = now.astimezone(UTC) if now.tzinfo is not None else now
    return (utc + WESTMOST_OFFSET).date(), (utc + EASTMOST_OFFSET).date()


def add_years(day: date, years: int) -> date:
    """The same day `years` calendar years later; 29 February becomes 28 February in a
    common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
