"""CRM export rows to `Account` and `Opportunity` records, or the reason a row is bad.

Rows come in as sequences of strings (the cells), with the columns mapped (`headers`);
records and `RowError`s go out. A record without an external id gets a synthetic one
(`domain.crm.synthetic_id`) from its name and registrable domain (opportunities: name,
account id, domain), so importing the same file again updates instead of duplicating.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from bot.crm_import.headers import ColumnMap, Kind
from bot.crm_import.values import (
    read_amount,
    read_country,
    read_datetime,
    read_email,
    read_flag,
    read_owner,
    read_slack_user,
)
from domain.crm import Account, Opportunity, is_customer_label, synthetic_id
from domain.crm_import import ExternalIds, RowError
from domain.matching.domains import registrable_domain

T = TypeVar("T")
MAX_VALUE = 300


class RowParser:
    """Reads rows one at a time.

    `read` judges one row on its own (it keeps no state, so processes can share the rows
    of a file); `parse` also remembers the external ids it read, so a repeated one is an
    error (`domain.crm_import.ExternalIds`).
    """

    def __init__(self, columns: ColumnMap, kind: Kind) -> None:
        self.columns = columns
        self.kind: Kind = kind
        self._ids = ExternalIds()

    def parse(self, row: Sequence[str], line: int) -> Account | Opportunity | RowError | None:
        """The record in `row`, a RowError, or None for a blank row."""
        record = self.read(row, line)
        if record is None or isinstance(record, RowError):
            return record
        own_id = self.has_own_id(row)
        repeated = self._ids.first_time(record.external_id, line, own_id=own_id)
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

    def _account(self, cells: _Cells) -> Account | None:
        name = cells.text("name")
        if not name and "name" not in cells.problems_for:
            cells.fail("name", "is empty")
        domain = cells.domain()
        slack_id, email = cells.owner()
        customer = (
            bool(cells.read("is_customer", read_flag))
            or is_customer_label(cells.text("type"))
            or is_customer_label(cells.text("lifecycle_stage"))
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
