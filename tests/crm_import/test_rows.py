"""CRM export rows: how each row becomes a record or an error."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.crm_import.headers import Kind, resolve_columns
from bot.crm_import.rows import RowParser, parse_rows
from domain.crm import Account, Opportunity, synthetic_id
from domain.crm_import import RowError
from tests.crm_import.samples import ACCOUNT_HEADERS, DATA, OPPORTUNITY_HEADERS


def parse(
    kind: Kind,
    *rows: Mapping[str, str] | Sequence[str],
    headers: Sequence[str] | None = None,
) -> list[Account | Opportunity | RowError]:
    """Rows given as {header: value} (others empty) or as raw cells, parsed from line 2."""
    headers = headers or (ACCOUNT_HEADERS if kind == "accounts" else OPPORTUNITY_HEADERS)
    columns = resolve_columns(headers, kind, {})
    cells = [[r.get(h, "") for h in headers] if isinstance(r, Mapping) else r for r in rows]
    return list(parse_rows(cells, columns, kind))


def an_account(**cells: str) -> Account:
    [record] = parse("accounts", {"name": "Acme", **cells})
    assert isinstance(record, Account), record
    return record


def an_opportunity(**cells: str) -> Opportunity:
    [record] = parse("opportunities", {"name": "Acme - 500 seats", **cells})
    assert isinstance(record, Opportunity), record
    return record


def the_error(kind: Kind, **cells: str) -> RowError:
    [record] = parse(kind, cells)
    assert isinstance(record, RowError), record
    return record


class TestAccountRows:
    def test_reads_every_field_of_our_format(self) -> None:
        assert an_account(
            external_id="A-1",
            name=" Acme, Inc. ",
            domain="https://www.shop.acme.co.uk/about",
            country="uk",
            owner_slack_id="U012AB3CD",
            owner_email="Jane.Doe@Vendor.example",
            is_customer="yes",
            is_named="x",
        ) == Account(
            external_id="A-1",
            name="Acme, Inc.",
            domain="acme.co.uk",
            country="GB",
            owner_slack_id="U012AB3CD",
            owner_email="jane.doe@vendor.example",
            is_customer=True,
            is_named=True,
        )

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("yes", True),
            ("Y", True),
            ("TRUE", True),
            ("1", True),
            ("x", True),
            ("X", True),
            ("no", False),
            ("false", False),
            ("0", False),
            ("", False),
            ("N", False),
        ],
    )
    def test_reads_yes_no_flags(self, text: str, expected: bool) -> None:
        assert an_account(is_customer=text).is_customer is expected

    @pytest.mark.parametrize(
        ("text", "code"),
        [
            ("US", "US"),
            ("de", "DE"),
            ("UK", "GB"),
            ("United States", "US"),
            ("USA", "US"),
            ("Germany", "DE"),
            ("United Kingdom", "GB"),
            (" Österreich ", "AT"),
        ],
    )
    def test_reads_countries_as_iso_codes_when_it_can(self, text: str, code: str) -> None:
        assert an_account(country=text).country == code

    def test_keeps_an_unknown_country_as_given(self) -> None:
        assert an_account(country="  Ruritania ").country == "Ruritania"

    def test_drops_a_website_that_is_not_a_web_address(self) -> None:
        assert an_account(domain="n/a").domain is None

    def test_salesforce_customer_types_mean_a_customer(self) -> None:
        headers = ("Account Name", "Type")
        rows = [
            ("Acme", "Customer - Direct"),
            ("Globex", "Customer - Channel"),
            ("Hooli", "Prospect"),
        ]
        records = parse("accounts", *rows, headers=headers)
        assert [r.is_customer for r in records if isinstance(r, Account)] == [True, True, False]

    def test_hubspot_customer_lifecycle_stage_means_a_customer(self) -> None:
        headers = ("Company name", "Lifecycle Stage")
        records = parse("accounts", ("Acme", "customer"), ("Hooli", "lead"), headers=headers)
        assert [r.is_customer for r in records if isinstance(r, Account)] == [True, False]

    def test_an_owner_column_fills_the_slack_id_or_the_email_and_drops_a_name(self) -> None:
        headers = ("Account Name", "Account Owner")
        rows = [("A", "U012AB3CD"), ("B", "Jane@Vendor.example"), ("C", "Jane Doe")]
        owners = [
            (r.owner_slack_id, r.owner_email)
            for r in parse("accounts", *rows, headers=headers)
            if isinstance(r, Account)
        ]
        assert owners == [("U012AB3CD", None), (None, "jane@vendor.example"), (None, None)]

    def test_reads_the_salesforce_sample(self) -> None:
        headers, *rows = list(csv.reader((DATA / "salesforce_accounts.csv").open(newline="")))
        acme, globex, soylent = parse("accounts", *rows, headers=headers)
        assert acme == Account(
            external_id="0015g00000XyZ1AAA",
            name="Acme, Inc.",
            domain="acme.com",
            country="US",
            owner_email="jane.doe@vendor.example",
            is_customer=True,
        )
        assert isinstance(globex, Account)
        assert (globex.country, globex.is_customer) == ("DE", False)
        assert isinstance(soylent, Account)
        assert soylent.is_customer


class TestOpportunityRows:
    def test_reads_every_field_of_our_format(self) -> None:
        assert an_opportunity(
            external_id="O-1",
            account_external_id="A-1",
            account_name="Acme",
            domain="acme.com",
            stage="Negotiation",
            amount="$84,500",
            owner_slack_id="U012AB3CD",
            owner_email="jane@vendor.example",
            created_at="2024-03-01",
            last_activity_at="2024-05-02T10:00:00Z",
        ) == Opportunity(
            external_id="O-1",
            account_external_id="A-1",
            name="Acme - 500 seats",
            domain="acme.com",
            stage="Negotiation",
            amount=Decimal("84500.00"),
            owner_slack_id="U012AB3CD",
            owner_email="jane@vendor.example",
            created_at=datetime(2024, 3, 1, tzinfo=UTC),
            last_activity_at=datetime(2024, 5, 2, 10, tzinfo=UTC),
        )

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("84500", "84500"), ("84,500.50", "84500.50"), ("$1.2m", "1200000"), ("120k", "120000")],
    )
    def test_reads_amounts(self, text: str, expected: str) -> None:
        assert an_opportunity(amount=text).amount == Decimal(expected)

    @pytest.mark.parametrize("text", ["", "0", "0.00", "$0"])
    def test_an_empty_or_zero_amount_is_no_amount(self, text: str) -> None:
        assert an_opportunity(amount=text).amount is None

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),
            ("2024-03-01T10:00:00Z", datetime(2024, 3, 1, 10, tzinfo=UTC)),
            ("2024-03-01T12:00:00+02:00", datetime(2024, 3, 1, 10, tzinfo=UTC)),
            ("2024-03-01 10:00", datetime(2024, 3, 1, 10, tzinfo=UTC)),
            ("2024-03-01 10:00:00 UTC", datetime(2024, 3, 1, 10, tzinfo=UTC)),
            ("03/01/2024", datetime(2024, 3, 1, tzinfo=UTC)),
            ("3/1/2024 1:05 PM", datetime(2024, 3, 1, 13, 5, tzinfo=UTC)),
            ("25/12/2024", datetime(2024, 12, 25, tzinfo=UTC)),
            ("01.03.2024 14:30", datetime(2024, 3, 1, 14, 30, tzinfo=UTC)),
        ],
    )
    def test_reads_iso_us_and_eu_dates_as_utc(self, text: str, expected: datetime) -> None:
        assert an_opportunity(created_at=text).created_at == expected

    def test_takes_the_first_of_several_associated_companies(self) -> None:
        assert an_opportunity(account_external_id="987;654").account_external_id == "987"

    def test_without_a_name_is_named_after_its_account(self) -> None:
        [by_name, by_id] = parse(
            "opportunities",
            {"account_name": "Acme"},
            {"account_external_id": "A-1"},
        )
        assert isinstance(by_name, Opportunity)
        assert isinstance(by_id, Opportunity)
        assert (by_name.name, by_id.name) == ("Acme", "A-1")

    def test_reads_the_hubspot_sample(self) -> None:
        headers, *rows = list(csv.reader((DATA / "hubspot_deals.csv").open(newline="")))
        acme, umbrella = parse("opportunities", *rows, headers=headers)
        assert isinstance(acme, Opportunity)
        assert acme.owner_email == "jane.doe@vendor.example"
        assert acme.created_at == datetime(2024, 3, 1, 10, tzinfo=UTC)
        assert isinstance(umbrella, Opportunity)
        assert (umbrella.account_external_id, umbrella.owner_email) == ("9876543211", None)
        assert umbrella.amount == Decimal("12000.50")


class TestRowErrors:
    def test_an_account_without_a_name(self) -> None:
        assert the_error("accounts", external_id="A-1") == RowError(2, "name is empty")

    def test_names_the_column_as_the_file_does(self) -> None:
        [error] = parse("accounts", ("", "acme.com"), headers=("Account Name", "Website"))
        assert error == RowError(2, "Account Name is empty")

    def test_an_opportunity_without_a_name_or_account(self) -> None:
        error = the_error("opportunities", stage="Discovery")
        assert error == RowError(2, "name is empty, and so is the account")

    def test_a_flag_that_is_not_yes_or_no(self) -> None:
        error = the_error("accounts", name="Acme", is_named="maybe")
        assert error == RowError(2, "is_named: 'maybe' is not yes or no")

    def test_an_unreadable_amount(self) -> None:
        error = the_error("opportunities", name="Deal", amount="lots")
        assert error.reason == "amount: 'lots' is not an amount (such as 84500 or 84,500.00)"

    def test_a_negative_amount(self) -> None:
        assert "is not an amount" in the_error("opportunities", name="Deal", amount="-5").reason

    @pytest.mark.parametrize("text", ["yesterday", "2024-02-30", "13/13/2024", "2024-13-01"])
    def test_an_unreadable_date(self, text: str) -> None:
        error = the_error("opportunities", name="Deal", last_activity_at=text)
        assert error.reason == f"last_activity_at: {text!r} is not a date (such as 2024-03-01)"

    def test_an_email_that_is_not_one(self) -> None:
        error = the_error("accounts", name="Acme", owner_email="jane at vendor")
        assert error.reason == "owner_email: 'jane at vendor' is not an e-mail address"

    def test_a_slack_id_that_is_not_one(self) -> None:
        error = the_error("accounts", name="Acme", owner_slack_id="jane")
        assert error.reason == "owner_slack_id: 'jane' is not a Slack user id (U…)"

    def test_an_over_long_value(self) -> None:
        error = the_error("accounts", name="A" * 301)
        assert error == RowError(2, "name is longer than 300 characters (301)")

    def test_a_300_character_value_is_fine(self) -> None:
        assert an_account(name="A" * 300).name == "A" * 300

    def test_more_cells_than_columns(self) -> None:
        [error] = parse("accounts", ("Acme", "Inc.", "acme.com"), headers=("name", "domain"))
        assert error == RowError(2, "3 cells but 2 columns (an unquoted delimiter?)")

    def test_empty_trailing_cells_and_short_rows_are_fine(self) -> None:
        records = parse(
            "accounts", ("Acme", "acme.com", "", ""), ("Globex",), headers=("name", "domain")
        )
        assert [r.name for r in records if isinstance(r, Account)] == ["Acme", "Globex"]

    def test_lists_every_problem_of_a_row(self) -> None:
        error = the_error("opportunities", name="Deal", amount="lots", created_at="soon")
        assert error.reason.count("; ") == 1

    def test_a_repeated_external_id_points_at_the_first(self) -> None:
        records = parse(
            "accounts",
            {"external_id": "A-1", "name": "Acme"},
            {"external_id": "A-1", "name": "Acme"},
        )
        assert records[1] == RowError(3, "external id 'A-1' also on line 2")

    def test_a_repeated_name_and_domain_without_ids_points_at_the_first(self) -> None:
        records = parse("accounts", {"name": "Acme"}, {"name": "Globex"}, {"name": "ACME"})
        assert records[2] == RowError(4, "the same name and domain (no external id) also on line 2")

    def test_counts_lines_from_the_given_first_line(self) -> None:
        columns = resolve_columns(["name"], "accounts", {})
        rows = [[""], ["Acme"], ["x" * 301]]
        records = list(parse_rows(rows, columns, "accounts", first_line=10))
        assert records[1] == RowError(12, "name is longer than 300 characters (301)")


class TestBlankRows:
    def test_blank_rows_are_skipped_but_still_counted_as_lines(self) -> None:
        records = parse("accounts", (), ("", " ", ""), {"name": "Acme"}, {"external_id": "A-2"})
        assert records[0] == an_account()
        assert records[1] == RowError(5, "name is empty")


class TestSyntheticIds:
    def test_an_account_without_an_id_gets_a_stable_one(self) -> None:
        first = an_account(name="Acme, Inc.", domain="https://www.acme.com")
        again = an_account(name="ACME Inc", domain="acme.com")
        assert first.external_id == again.external_id
        assert first.external_id.startswith("dibs:")
        assert len(first.external_id) == len("dibs:") + 20

    def test_differs_by_name_and_by_domain(self) -> None:
        acme = an_account(domain="acme.com").external_id
        assert an_account(name="Acme Labs", domain="acme.com").external_id != acme
        assert an_account(domain="acme.de").external_id != acme

    def test_is_the_same_on_every_run(self) -> None:
        assert synthetic_id("Acme", "acme.com") == synthetic_id("acme", "acme.com")
        assert synthetic_id("Acme", "acme.com") == "dibs:36b2f991618050c14c51"

    def test_an_opportunity_without_an_id_gets_one_from_account_name_and_domain(self) -> None:
        one = an_opportunity(account_external_id="A-1").external_id
        assert one == an_opportunity(account_external_id="A-1").external_id
        assert one != an_opportunity(account_external_id="A-2").external_id


class TestCheck:
    """`RowParser.check`, the first pass's cheaper read, finds what `read` finds."""

    @pytest.mark.parametrize(
        ("kind", "cells"),
        [
            ("accounts", {"external_id": "A-1", "name": "Acme", "domain": "https://acme.com/"}),
            ("accounts", {"name": "Acme", "domain": "https://www.acme.co.uk/x"}),
            ("accounts", {"name": "Acme", "is_named": "maybe", "domain": "acme.com"}),
            ("accounts", {"external_id": "A-1", "domain": "acme.com"}),
            ("accounts", {}),
            ("opportunities", {"name": "Deal", "account_external_id": "A-1", "domain": "a.io"}),
            ("opportunities", {"external_id": "O-1", "name": "Deal", "amount": "lots"}),
        ],
    )
    def test_gives_the_external_id_or_the_error_that_read_gives(
        self, kind: Kind, cells: Mapping[str, str]
    ) -> None:
        headers = ACCOUNT_HEADERS if kind == "accounts" else OPPORTUNITY_HEADERS
        parser = RowParser(resolve_columns(headers, kind, {}), kind)
        row = [cells.get(h, "") for h in headers]
        read = parser.read(row, 7)
        expected = read.external_id if isinstance(read, Account | Opportunity) else read
        assert parser.check(row, 7) == expected
