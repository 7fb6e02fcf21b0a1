"""CRM export headers: which column is which field (ours, Salesforce's, HubSpot's, --map)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot.crm_import.headers import Kind, normal_header, read_map, resolve_columns
from domain.errors import InvalidInput
from tests.crm_import.samples import ACCOUNT_HEADERS, OPPORTUNITY_HEADERS, headers_of


def fields_of(name: str, kind: Kind, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """field → header, as resolved for a sample file."""
    columns = resolve_columns(headers_of(name), kind, overrides or {})
    return {field: header for header, field in columns.used()}


class TestResolveColumns:
    def test_reads_our_own_headers(self) -> None:
        assert set(fields_of("accounts.csv", "accounts")) == set(ACCOUNT_HEADERS)
        assert set(fields_of("opportunities.csv", "opportunities")) == set(OPPORTUNITY_HEADERS)

    def test_any_subset_with_a_name_will_do(self) -> None:
        columns = resolve_columns(["name"], "accounts", {})
        assert columns.fields == {"name": 0}

    def test_matches_headers_ignoring_case_spaces_and_underscores(self) -> None:
        columns = resolve_columns([" Account_Name ", "OWNER EMAIL", "is-customer"], "accounts", {})
        assert columns.fields == {"name": 0, "owner_email": 1, "is_customer": 2}

    def test_reads_salesforce_account_exports(self) -> None:
        assert fields_of("salesforce_accounts.csv", "accounts") == {
            "external_id": "Account ID",
            "name": "Account Name",
            "type": "Type",
            "domain": "Website",
            "country": "Billing Country",
            "owner": "Account Owner",
            "owner_email": "Owner Email",
        }

    def test_reads_hubspot_company_exports(self) -> None:
        assert fields_of("hubspot_companies.csv", "accounts") == {
            "external_id": "Record ID",
            "name": "Company name",
            "domain": "Company Domain Name",
            "country": "Country/Region",
            "owner": "Company owner",
            "lifecycle_stage": "Lifecycle Stage",
            "type": "Type",
        }

    def test_reads_salesforce_opportunity_exports(self) -> None:
        assert fields_of("salesforce_opportunities.csv", "opportunities") == {
            "external_id": "Opportunity ID",
            "name": "Opportunity Name",
            "account_external_id": "Account ID",
            "account_name": "Account Name",
            "stage": "Stage",
            "amount": "Amount",
            "created_at": "Created Date",
            "last_activity_at": "Last Activity",
            "owner": "Opportunity Owner",
            "owner_email": "Owner Email",
        }

    def test_reads_hubspot_deal_exports(self) -> None:
        assert fields_of("hubspot_deals.csv", "opportunities") == {
            "external_id": "Record ID",
            "name": "Deal Name",
            "stage": "Deal Stage",
            "amount": "Amount",
            "created_at": "Create Date",
            "last_activity_at": "Last Activity Date",
            "owner": "Deal owner",
            "account_external_id": "Associated Company IDs",
        }

    def test_lists_the_columns_it_does_not_import(self) -> None:
        columns = resolve_columns(headers_of("salesforce_accounts.csv"), "accounts", {})
        assert columns.unused() == ["Industry", "Description"]

    def test_the_first_alias_wins_when_two_columns_could_be_the_domain(self) -> None:
        fields = fields_of("hubspot_companies.csv", "accounts")
        assert fields["domain"] == "Company Domain Name"

    def test_map_reads_a_column_as_a_field(self) -> None:
        fields = fields_of("salesforce_accounts.csv", "accounts", {"Industry": "is_named"})
        assert fields["is_named"] == "Industry"

    def test_map_moves_a_field_off_the_column_it_was_guessed_from(self) -> None:
        fields = fields_of("hubspot_companies.csv", "accounts", {"Website URL": "domain"})
        assert fields["domain"] == "Website URL"
        assert "Company Domain Name" not in fields.values()

    def test_a_field_whose_column_was_mapped_away_takes_its_next_alias(self) -> None:
        fields = fields_of("hubspot_companies.csv", "accounts", {"Company Domain Name": "ignore"})
        assert fields["domain"] == "Website URL"

    def test_map_matches_the_column_and_field_loosely(self) -> None:
        fields = fields_of("salesforce_accounts.csv", "accounts", {"industry": "Is Named"})
        assert fields["is_named"] == "Industry"

    def test_map_can_ignore_a_column(self) -> None:
        fields = fields_of("salesforce_accounts.csv", "accounts", {"Type": "ignore"})
        assert "type" not in fields

    def test_map_of_an_unknown_column_names_the_columns_there_are(self) -> None:
        with pytest.raises(InvalidInput, match=r"no column 'Revenue'.*Account Name"):
            resolve_columns(headers_of("salesforce_accounts.csv"), "accounts", {"Revenue": "name"})

    def test_map_to_an_unknown_field_names_the_fields_there_are(self) -> None:
        with pytest.raises(InvalidInput, match=r"no field 'amount'.*is_customer"):
            resolve_columns(["Name", "Amount"], "accounts", {"Amount": "amount"})

    def test_map_of_two_columns_to_one_field_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="repeats"):
            resolve_columns(["A", "B"], "accounts", {"A": "name", "B": "name"})

    def test_accounts_need_a_name_column(self) -> None:
        with pytest.raises(InvalidInput, match=r"no column for a company name.*Website, Country"):
            resolve_columns(["Website", "Country"], "accounts", {})

    def test_opportunities_need_a_name_or_an_account(self) -> None:
        with pytest.raises(InvalidInput, match="an opportunity name or an account"):
            resolve_columns(["Stage", "Amount"], "opportunities", {})
        assert resolve_columns(["Account ID"], "opportunities", {}).fields == {
            "account_external_id": 0
        }

    def test_headers_normalise_to_letters_and_digits(self) -> None:
        assert normal_header("Country/Region") == "countryregion"
        assert normal_header(" Account_Owner-Email ") == "accountowneremail"


class TestReadMap:
    def test_reads_column_equals_field_pairs(self) -> None:
        assert read_map(["Firma=name", " Web = domain "]) == {"Firma": "name", "Web": "domain"}

    def test_the_last_equals_sign_separates_the_field(self) -> None:
        assert read_map(["a=b=name"]) == {"a=b": "name"}

    @pytest.mark.parametrize("value", ["Firma", "=name", "Firma="])
    def test_needs_a_column_and_a_field(self, value: str) -> None:
        with pytest.raises(ValueError, match="is not COLUMN=FIELD"):
            read_map([value])

    def test_refuses_a_column_mapped_twice(self) -> None:
        with pytest.raises(ValueError, match="mapped twice"):
            read_map(["A=name", "A=domain"])
