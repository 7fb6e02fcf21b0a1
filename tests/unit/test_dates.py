"""Calendar arithmetic for dates people pick in their own (unknown) time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.dates import add_years, todays_dates


class TestTodaysDates:
    def test_at_noon_utc_the_day_before_has_ended_everywhere(self) -> None:
        assert todays_dates(datetime(2025, 3, 3, 12, 0, tzinfo=UTC)) == (
            date(2025, 3, 3),
            date(2025, 3, 4),
        )

    def test_just_before_noon_utc_three_dates_are_today_somewhere(self) -> None:
        earliest, latest = todays_dates(datetime(2025, 3, 3, 11, 59, tzinfo=UTC))
        assert (earliest, latest) == (date(2025, 3, 2), date(2025, 3, 4))

    def test_the_time_zone_of_now_does_not_matter(self) -> None:
        utc = datetime(2025, 3, 4, 3, 0, tzinfo=UTC)
        pacific = utc.astimezone(timezone(timedelta(hours=-8)))
        assert todays_dates(pacific) == todays_dates(utc)

    def test_a_naive_now_is_utc(self) -> None:
        assert todays_dates(datetime(2025, 3, 4, 3, 0)) == todays_dates(
            datetime(2025, 3, 4, 3, 0, tzinfo=UTC)
        )


class TestAddYears:
    @pytest.mark.parametrize(
        ("day", "years", "expected"),
        [
            (date(2025, 3, 3), 2, date(2027, 3, 3)),
            (date(2026, 3, 1), 2, date(2028, 3, 1)),
            (date(2027, 2, 28), 2, date(2029, 2, 28)),
            (date(2028, 2, 29), 2, date(2030, 2, 28)),
            (date(2028, 2, 29), 4, date(2032, 2, 29)),
        ],
    )
    def test_same_day_later_and_a_leap_day_falls_back_to_the_28th(
        self, day: date, years: int, expected: date
    ) -> None:
        assert add_years(day, years) == expected
