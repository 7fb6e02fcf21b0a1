"""CRM CSV rows to `Account` and `Opportunity` records: which column is which, and each row read.

Pure: rows come in as sequences of strings, records and `RowError`s go out.

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

Synthetic ids: a record without an external id gets `dibs:` + 20 hex digits of the SHA-256 of
its normalised name (folded tokens) and registrable domain (opportunities: name, account id,
domain), so re-importing the same file updates instead of duplicating.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from domain.crm import Account, Opportunity
from domain.crm_values import (
    is_customer_type,
    read_amount,
    read_country,
    read_datetime,
    read_email,
    read_flag,
    read_owner,
    read_slack_user,
)
from domain.errors import InvalidInput
from domain.matching.domains import registrable_domain
from domain.matching.folding import tokens

Kind = Literal["accounts", "opportunities"]
T = TypeVar("T")
MAX_VALUE = 300
IGNORE = "ignore"

_OWNER = ("owner_slack_id", "owner_email", "owner")
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


def synthetic_id(name: str, *keys: str | None) -> str:
    """A stable id from a name (folded tokens: case and punctuation do not count) and keys."""
    parts = [" ".join(tokens(name)) or name.strip().casefold()]
    parts += [(key or "").strip().casefold() for key in keys]
    return "dibs:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


class RowParser:
    """Reads rows one at a time; remembers external ids so a repeated one is an error.

    `read` judges one row on its own (it keeps no state, so processes can share the rows
    of a file); `first_time` is the file-wide check that an external id is not repeated.
    `parse` is both.
    """

    def __init__(self, columns: ColumnMap, kind: Kind) -> None:
        self.columns = columns
        self.kind: Kind = kind
        self._seen: dict[str, int] = {}

    def parse(self, row: Sequence[str], line: int) -> Account | Opportunity | RowError | None:
        """The record in `row`, a RowError, or None for a blank row."""
        record = self.read(row, line)
        if record is None or isinstance(record, RowError):
            return record
        repeated = self.first_time(record.external_id, line, own_id=self.has_own_id(row))
        return record if repeated is None else repeated

    def read(self, row: Sequence[str], line: int) -> Account | Opportunity | RowError | None:
        """`parse` without the check for repeated ids."""
        return self._read(row, line, whole=True)

    def check(self, row: Sequence[str], line: int) -> str | RowError | None:
        """The external id of the record in `row`, its RowError, or None for a blank row.

        What `read` finds, for less work: the website (the dearest cell to read) is read
        only for a record without an id of its own, whose synthetic id depends on it.
        """
        record = self._read(row, line, whole=False)
        return record if record is None or isinstance(record, RowError) else record.external_id

    def _read(
        self, row: Sequence[str], line: int, *, whole: bool
    ) -> Account | Opportunity | RowError | None:
        if not any(cell.strip() for cell in row):
            return None
        width = len(self.columns.headers)
        if any(cell.strip() for cell in row[width:]):
            return RowError(line, f"{len(row)} cells but {width} columns (an unquoted delimiter?)")
        cells = _Cells(self.columns, row, whole=whole)
        record = self._account(cells) if self.kind == "accounts" else self._opportunity(cells)
        if cells.problems or record is None:
            return RowError(line, "; ".join(cells.problems))
        return record

    def has_own_id(self, row: Sequence[str]) -> bool:
        """Whether the row's record has its external id from the file (not a synthetic one)."""
        index = self.columns.fields.get("external_id")
        return index is not None and index < len(row) and bool(row[index].strip())

    def first_time(self, external_id: str, line: int, *, own_id: bool) -> RowError | None:
        """None the first time an external id is seen; later, a RowError naming that line."""
        first = self._seen.setdefault(external_id, line)
        if first == line:
            return None
        what = f"external id {external_id!r}" if own_id else "the same name and domain"
        if not own_id:
            what += " (no external id)"
        return RowError(line, f"{what} also on line {first}")

    def _account(self, cells: _Cells) -> Account | None:
        name = cells.text("name")
        if not name and "name" not in cells.problems_for:
            cells.fail("name", "is empty")
        domain = cells.domain()
        slack_id, email = cells.owner()
        customer = (
            bool(cells.read("is_customer", read_flag))
            or is_customer_type(cells.text("type"))
            or is_customer_type(cells.text("lifecycle_stage"))
        )
        if cells.problems:
            return None
        return Account(
            external_id=cells.text("external_id") or synthetic_id(name, domain),
            name=name,
            domain=domain,
            country=cells.read("country", read_country),
            owner_slack_id=slack_id,
            owner_email=email,
            is_customer=customer,
            is_named=bool(cells.read("is_named", read_flag)),
        )

    def _opportunity(self, cells: _Cells) -> Opportunity | None:
        account_id = re.split(r"[;,]", cells.text("account_external_id"))[0].strip() or None
        name = cells.text("name") or cells.text("account_name") or account_id
        if not name:
            cells.fail("name", "is empty, and so is the account")
        domain = cells.domain()
        slack_id, email = cells.owner()
        amount = cells.read("amount", read_amount)
        created = cells.read("created_at", read_datetime)
        active = cells.read("last_activity_at", read_datetime)
        if cells.problems or name is None:
            return None
        return Opportunity(
            external_id=cells.text("external_id") or synthetic_id(name, account_id, domain),
            account_external_id=account_id,
            name=name,
            domain=domain,
            stage=cells.text("stage") or None,
            amount=amount,
            owner_slack_id=slack_id,
            owner_email=email,
            created_at=created,
            last_activity_at=active,
        )


class _Cells:
    """The mapped cells of one row, trimmed, with the problems found while reading them."""

    def __init__(self, columns: ColumnMap, row: Sequence[str], *, whole: bool = True) -> None:
        self.columns = columns
        self.whole = whole
        self.values = {
            name: row[i].strip() if i < len(row) else "" for name, i in columns.fields.items()
        }
        self.problems: list[str] = []
        self.problems_for: set[str] = set()
        for name, value in self.values.items():
            if len(value) > MAX_VALUE:
                self.fail(name, f"is longer than {MAX_VALUE} characters ({len(value)})")

    def fail(self, name: str, reason: str) -> None:
        label = self.columns.label(name) if name in self.columns.fields else name
        joined = f"{label} {reason}" if reason.startswith("is ") else f"{label}: {reason}"
        self.problems.append(joined)
        self.problems_for.add(name)

    def text(self, name: str) -> str:
        return "" if name in self.problems_for else self.values.get(name, "")

    def read(self, name: str, reader: Callable[[str], T]) -> T | None:
        value = self.text(name)
        if not value:
            return None
        try:
            return reader(value)
        except ValueError as error:
            self.fail(name, str(error))
            return None

    def domain(self) -> str | None:
        """The registrable domain of the website; when not `whole`, only for a synthetic id."""
        text = self.text("domain")
        if not text or not (self.whole or not self.text("external_id")):
            return None
        return registrable_domain(text)

    def owner(self) -> tuple[str | None, str | None]:
        slack_id = self.read("owner_slack_id", read_slack_user)
        email = self.read("owner_email", read_email)
        either = read_owner(self.text("owner"))
        return slack_id or either[0], email or either[1]


def parse_rows(
    rows: Iterable[Sequence[str]], columns: ColumnMap, kind: Kind, *, first_line: int = 2
) -> Iterator[Account | Opportunity | RowError]:
    """Records and row errors, one per non-blank row; row i is on line `first_line + i`."""
    parser = RowParser(columns, kind)
    for offset, row in enumerate(rows):
        result = parser.parse(row, first_line + offset)
        if result is not None:
            yield result
