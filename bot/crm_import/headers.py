"""Which column of a CRM export is which field: our own headers, Salesforce's and HubSpot's.

Headers match case-, space- and punctuation-insensitively (`Account Name`, `account_name` and
`ACCOUNTNAME` are one header). For each field the first alias below that a column carries wins;
`--map COLUMN=FIELD` (the `overrides`) wins over all of them; other columns are not imported.

Accounts (`name` required):
- external_id: External ID, Id, Account ID (Salesforce), Record ID, Company ID (HubSpot)
- name: Name, Account Name, Company name, Company
- domain: Domain, Website, Company Domain Name, Website URL; kept as the registrable domain
  (`https://www.shop.acme.co.uk/x` → `acme.co.uk`), empty when it is not a web address
- country: Country, Billing Country, Country/Region, Shipping Country; ISO-2 when recognisable
- owner_slack_id, owner_email: their own columns, or Owner Email (Salesforce)
- owner: Account Owner, Company owner, Owner: a Slack id or an e-mail address fills the field
  above; a display name identifies no Slack user and is dropped
- is_customer: its own yes/no column, or true when Type (`Customer - Direct`, Salesforce) or
  Lifecycle Stage (`customer`, HubSpot) starts with "customer"
- is_named: Is Named, Named Account, House Account (yes/no)

Opportunities (`name` or an account reference required):
- external_id: External ID, Id, Opportunity ID, Deal ID, Record ID
- account_external_id: Account ID (Salesforce), Associated Company IDs (HubSpot; the first id
  when there are several)
- account_name: Account Name, Associated Company, Company name
- name: Name, Opportunity Name, Deal Name; when empty, the account name, else the account id
- domain, stage (Stage, Deal Stage), amount, owner (Opportunity Owner, Deal owner),
  created_at (Created Date, Create Date), last_activity_at (Last Activity, Last Activity Date).
  Close Date has no place in the record and is not imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from domain.conflicts import ClaimKind
from domain.errors import InvalidInput

Kind = Literal["accounts", "opportunities"]
CLAIMS: dict[Kind, ClaimKind] = {
    "accounts": ClaimKind.account,
    "opportunities": ClaimKind.opportunity,
}
IGNORE = "ignore"

ALIASES: dict[Kind, dict[str, tuple[str, ...]]] = {
    "accounts": {
        "external_id": ("externalid", "id", "accountid", "recordid", "companyid"),
        "name": ("name", "accountname", "companyname", "company", "account"),
        "domain": ("domain", "website", "companydomainname", "websiteurl", "url"),
        "country": ("country", "billingcountry", "countryregion", "shippingcountry"),
        "owner_slack_id": ("ownerslackid", "slackid", "ownerslackuserid"),
        "owner_email": ("owneremail", "accountowneremail", "companyowneremail"),
        "owner": ("owner", "accountowner", "companyowner", "ownername"),
        "is_customer": ("iscustomer", "customer"),
        "is_named": ("isnamed", "named", "namedaccount", "isnamedaccount", "houseaccount"),
        "type": ("type", "accounttype"),
        "lifecycle_stage": ("lifecyclestage",),
    },
    "opportunities": {
        "external_id": ("externalid", "id", "opportunityid", "dealid", "recordid"),
        "account_external_id": (
            "accountexternalid",
            "accountid",
            "associatedcompanyids",
            "associatedcompanyidsprimary",
            "associatedcompanyid",
            "companyid",
        ),
        "account_name": ("accountname", "associatedcompany", "companyname", "company"),
        "name": ("name", "opportunityname", "dealname"),
        "domain": ("domain", "website", "accountwebsite", "companydomainname", "websiteurl"),
        "stage": ("stage", "dealstage", "opportunitystage", "stagename"),
        "amount": ("amount", "opportunityamount", "dealamount"),
        "owner_slack_id": ("ownerslackid", "slackid", "ownerslackuserid"),
        "owner_email": ("owneremail", "opportunityowneremail", "dealowneremail"),
        "owner": ("owner", "opportunityowner", "dealowner", "ownername"),
        "created_at": ("createdat", "createddate", "createdate", "created"),
        "last_activity_at": ("lastactivityat", "lastactivity", "lastactivitydate"),
    },
}
_NON_WORD = re.compile(r"[\W_]+")


def normal_header(text: str) -> str:
    """`Account Name`, `account_name`, ` ACCOUNT-NAME ` → `accountname`."""
    return _NON_WORD.sub("", text.casefold())


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which column (by index) holds which field, and the file's headers."""

    headers: tuple[str, ...]
    fields: dict[str, int] = field(default_factory=dict)

    def label(self, name: str) -> str:
        """The file's own header for a field, for messages."""
        return self.headers[self.fields[name]].strip() or name

    def used(self) -> list[tuple[str, str]]:
        """(header, field) pairs in column order."""
        return sorted(((self.label(f), f) for f in self.fields), key=lambda p: self.fields[p[1]])

    def unused(self) -> list[str]:
        """Headers of the columns that are not imported."""
        taken = set(self.fields.values())
        return [h for i, h in enumerate(self.headers) if i not in taken and h.strip()]


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that cannot be imported: its line in the file and why."""

    line: int
    reason: str


def resolve_columns(headers: Sequence[str], kind: Kind, overrides: Mapping[str, str]) -> ColumnMap:
    """Match the headers to fields; raise InvalidInput naming what is missing or unknown."""
    aliases = ALIASES[kind]
    normal = [normal_header(h) for h in headers]
    fields: dict[str, int] = {}
    claimed: set[int] = set()
    for column, wanted in overrides.items():
        index = _find_column(column, headers, normal)
        target = normal_header(wanted)
        name = next((f for f in (*aliases, IGNORE) if normal_header(f) == target), None)
        if name is None:
            known = ", ".join((*aliases, IGNORE))
            raise InvalidInput(f"--map: {kind} have no field {wanted!r}; fields: {known}")
        if name in fields or index in claimed:
            raise InvalidInput(f"--map: {column!r}={wanted!r} repeats a column or a field")
        claimed.add(index)
        if name != IGNORE:
            fields[name] = index
    for name, names in aliases.items():
        if name in fields:
            continue
        free = [(i, h) for i, h in enumerate(normal) if i not in claimed]
        found = next((i for a in names for i, h in free if h == a), None)
        if found is not None:
            fields[name] = found
            claimed.add(found)
    columns = ColumnMap(headers=tuple(headers), fields=fields)
    _require(columns, kind)
    return columns


def _find_column(column: str, headers: Sequence[str], normal: list[str]) -> int:
    if column in headers:
        return headers.index(column)
    if normal_header(column) in normal:
        return normal.index(normal_header(column))
    found = ", ".join(h for h in headers if h.strip())
    raise InvalidInput(f"--map: no column {column!r} in the file; its columns: {found}")


def _require(columns: ColumnMap, kind: Kind) -> None:
    needed = ("name",) if kind == "accounts" else ("name", "account_name", "account_external_id")
    if any(n in columns.fields for n in needed):
        return
    what = "a company name" if kind == "accounts" else "an opportunity name or an account"
    examples = "Name, Account Name, Company name" if kind == "accounts" else "Name, Account ID"
    found = ", ".join(h for h in columns.headers if h.strip()) or "none"
    raise InvalidInput(
        f"no column for {what} (such as {examples}; or --map COLUMN=name); columns: {found}"
    )


def read_map(values: Iterable[str]) -> dict[str, str]:
    """`--map COLUMN=FIELD` options as {column: field}; ValueError names a bad one."""
    mapping: dict[str, str] = {}
    for value in values:
        column, sep, name = (part.strip() for part in value.rpartition("="))
        if not sep or not column or not name:
            raise ValueError(f"{value!r} is not COLUMN=FIELD")
        if column in mapping:
            raise ValueError(f"column {column!r} is mapped twice")
        mapping[column] = name
    return mapping
