"""Deal amounts as people type them, and as the cards show them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.amounts import MAX_AMOUNT, format_amount, parse_amount
from domain.errors import InvalidInput


class TestParseAmount:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("84500", "84500"),
            ("84,500", "84500"),
            ("$84,500", "84500"),
            ("84500.50", "84500.50"),
            ("1,234,567.89", "1234567.89"),
            ("84.5k", "84500"),
            ("84.5K", "84500"),
            ("1.2m", "1200000"),
            ("1.2mm", "1200000"),
            ("2b", "2000000000"),
            (".5k", "500"),
            ("0.5", "0.50"),
        ],
    )
    def test_reads_the_ways_people_write_a_number(self, text: str, expected: str) -> None:
        assert parse_amount(text) == Decimal(expected)

    @pytest.mark.parametrize(
        ("text", "currency"),
        [
            ("USD 1,000", "USD"),
            ("usd1000", "USD"),
            ("1000 usd", "USD"),
            ("1,000USD", "USD"),
            ("EUR 1,000", "EUR"),
            ("€1,000", "EUR"),
            ("€ 1,000", "USD"),
            ("£1k", "GBP"),
            ("1000£", "GBP"),
            ("USD $1,000", "USD"),
        ],
    )
    def test_ignores_the_currency_code_and_currency_marks(self, text: str, currency: str) -> None:
        assert parse_amount(text, currency=currency) == Decimal(1000)

    @pytest.mark.parametrize("text", ["  84500  ", "$ 84,500", "84.5 k", "84 500", "84\u00a0500"])
    def test_ignores_spaces(self, text: str) -> None:
        assert parse_amount(text) == Decimal(84500)

    def test_always_has_two_decimal_places(self) -> None:
        assert str(parse_amount("84500")) == "84500.00"
        assert str(parse_amount("1.2m")) == "1200000.00"

    def test_rounds_to_the_cent(self) -> None:
        assert parse_amount("10.004") == Decimal("10.00")
        assert parse_amount("10.006") == Decimal("10.01")

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "   ",
            "lots",
            "$",
            "k",
            "1,00",
            "1,0000",
            "84,50,0",
            "1.2.3",
            "-5",
            "+5",
            "1e6",
            "84500x",
            "twelve k",
        ],
    )
    def test_refuses_what_is_not_an_amount(self, text: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            parse_amount(text)

        assert raised.value.field == "amount"

    def test_refuses_another_currency_code_than_the_programs(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            parse_amount("EUR 1,000", currency="USD")

        assert raised.value.field == "amount"

    @pytest.mark.parametrize("text", ["0", "0.00", "0k", "0.001"])
    def test_refuses_nothing(self, text: str) -> None:
        with pytest.raises(InvalidInput, match="more than zero") as raised:
            parse_amount(text)

        assert raised.value.field == "amount"

    @pytest.mark.parametrize("text", [str(MAX_AMOUNT), "1000b", "999999999999999999"])
    def test_refuses_absurdly_large_amounts(self, text: str) -> None:
        with pytest.raises(InvalidInput, match="too large") as raised:
            parse_amount(text)

        assert raised.value.field == "amount"

    def test_accepts_just_under_the_limit(self) -> None:
        assert parse_amount("999999999999.99") == MAX_AMOUNT - Decimal("0.01")

    def test_the_error_shows_an_example_the_user_can_copy(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            parse_amount("lots")

        assert "84,500" in raised.value.message
        assert raised.value.code == "invalid_input"


class TestFormatAmount:
    @pytest.mark.parametrize(
        ("amount", "currency", "text"),
        [
            (Decimal("84500.00"), "USD", "USD 84,500"),
            (Decimal(84500), "USD", "USD 84,500"),
            (Decimal("84500.50"), "EUR", "EUR 84,500.50"),
            (Decimal("1234567.89"), "GBP", "GBP 1,234,567.89"),
            (Decimal("999.00"), "USD", "USD 999"),
            (Decimal("0.50"), "USD", "USD 0.50"),
        ],
    )
    def test_groups_thousands_and_shows_cents_only_when_there_are_some(
        self, amount: Decimal, currency: str, text: str
    ) -> None:
        assert format_amount(amount, currency) == text

    @pytest.mark.parametrize("typed", ["84,500", "84.5k", "1,234,567.89", "0.5"])
    def test_what_is_shown_reads_back_as_the_same_amount(self, typed: str) -> None:
        amount = parse_amount(typed)

        assert parse_amount(format_amount(amount, "USD")) == amount
