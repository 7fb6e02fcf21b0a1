"""A CRM import's rows as its use case sees them: good records keyed in batches, bad rows by line.

Pure. A file's reader (`bot/crm_import`) turns each row into a record or a `RowError`;
`ImportBatch.keyed` gives good records what conflict lookups find them by; `Tally` counts the
rows, lists the bad ones and finds the external ids a file repeats.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence, Set
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from domain.conflicts import ClaimKind, ConflictRules, account_ref, opportunity_ref
from domain.crm import Account, Opportunity
from domain.errors import DomainError
from domain.matching.stored_forms import name_forms

MAX_LISTED = 50
"""Bad rows listed; the rest are counted."""

Record = Account | Opportunity
KeyEncoder = Callable[[Collection[str]], str]
"""A record's candidate keys as the one string storage takes (`CrmRepository.encode_keys`)."""


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that cannot be imported: its line in the file and why."""

    line: int
    reason: str


Seen = tuple[int, str, bool]
"""A good row as the file-wide check of ids needs it: (line, external id, whether the id is
the file's own rather than synthetic). A plain tuple: a chunk's thousand of them cross
between processes far cheaper than objects."""

ReadRows = list[Seen | RowError]
"""Each non-blank row of a chunk, in file order: good (`Seen`) or bad."""


@dataclass(frozen=True, slots=True)
class ImportBatch:
    """Good records of one kind, in file order, with what conflict lookups find them by.

    Columns, not objects, so that a chunk crosses between processes cheaply: record i was
    read from line `lines[i]`; `rows[i]` holds its field values in declaration order, then
    its analysed name (`name_forms`); `keys[i]` its candidate keys, encoded for storage.
    """

    kind: ClaimKind
    lines: list[int] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    @classmethod
    def keyed(
        cls,
        kind: ClaimKind,
        lines: list[int],
        records: Sequence[Record],
        rules: ConflictRules,
        encode: KeyEncoder,
    ) -> ImportBatch:
        """`records` (read from `lines`) with their keys under `rules`."""
        keys = (
            rules.keys(account_ref(r) if isinstance(r, Account) else opportunity_ref(r))
            for r in records
        )
        return cls.of(kind, records, keys, encode, lines=lines)

    @classmethod
    def of(
        cls,
        kind: ClaimKind,
        records: Sequence[Record],
        keys: Iterable[Collection[str]],
        encode: KeyEncoder,
        *,
        lines: list[int] | None = None,
    ) -> ImportBatch:
        """`records` with the given keys; `lines` default to their positions."""
        rows = [_account_row(r) if isinstance(r, Account) else _opportunity_row(r) for r in records]
        encoded = [encode(k) for k in keys]
        if len(encoded) != len(rows):
            raise ValueError(f"{len(encoded)} key sets for {len(rows)} records")
        return cls(kind, list(range(len(rows))) if lines is None else lines, rows, encoded)

    @classmethod
    def join(cls, kind: ClaimKind, parts: Iterable[ImportBatch]) -> ImportBatch:
        """The parts' records one after the other."""
        parts = list(parts)
        return cls(
            kind,
            list(chain.from_iterable(p.lines for p in parts)),
            list(chain.from_iterable(p.rows for p in parts)),
            list(chain.from_iterable(p.keys for p in parts)),
        )

    def __len__(self) -> int:
        return len(self.lines)

    def records(self) -> list[Account] | list[Opportunity]:
        """The records as objects."""
        if self.kind is ClaimKind.account:
            return [Account(*row[:-1]) for row in self.rows]
        return [Opportunity(*row[:-1]) for row in self.rows]

    def split(self, at: int) -> tuple[ImportBatch, ImportBatch]:
        """The first `at` records, and the others."""
        head = ImportBatch(self.kind, self.lines[:at], self.rows[:at], self.keys[:at])
        return head, ImportBatch(self.kind, self.lines[at:], self.rows[at:], self.keys[at:])

    def without(self, lines: Set[int]) -> ImportBatch:
        """These records but those from `lines`."""
        keep = [i for i, line in enumerate(self.lines) if line not in lines]
        if len(keep) == len(self.lines):
            return self
        return ImportBatch(
            self.kind,
            [self.lines[i] for i in keep],
            [self.rows[i] for i in keep],
            [self.keys[i] for i in keep],
        )


Chunk = tuple[ReadRows, ImportBatch | None]
"""A chunk of a file read: its rows, and its good records keyed (None when only checked)."""


def _account_row(a: Account) -> tuple[Any, ...]:
    return (
        *(a.external_id, a.name, a.domain, a.country, a.owner_slack_id, a.owner_email),
        *(a.is_customer, a.is_named, name_forms(a.name)),
    )


def _opportunity_row(o: Opportunity) -> tuple[Any, ...]:
    return (
        *(o.external_id, o.account_external_id, o.name, o.domain, o.stage, o.amount),
        *(o.owner_slack_id, o.owner_email, o.created_at, o.last_activity_at),
        name_forms(o.name),
    )


class ExternalIds:
    """The external ids one file has given so far: a repeated one makes its row bad."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def first_time(self, external_id: str, line: int, *, own_id: bool) -> RowError | None:
        """None the first time an id is seen; later, a RowError naming the first line.
        `own_id`: the id is the file's, not synthetic (made from the name and domain)."""
        first = self._seen.setdefault(external_id, line)
        if first == line:
            return None
        what = f"external id {external_id!r}" if own_id else "the same name and domain"
        if not own_id:
            what += " (no external id)"
        return RowError(line, f"{what} also on line {first}")


@dataclass(slots=True)
class Tally:
    """What reading the rows found: good records counted, bad rows listed (the first
    `MAX_LISTED`), and the lines whose external id repeats an earlier line's (not written)."""

    good: int = 0
    bad: int = 0
    listed: list[RowError] = field(default_factory=list)
    repeated: set[int] = field(default_factory=set)
    ids: ExternalIds = field(default_factory=ExternalIds)

    def add(self, rows: ReadRows) -> set[int]:
        """Count a chunk's rows (chunks in file order); the lines in it that repeat an id."""
        repeated: set[int] = set()
        for row in rows:
            if isinstance(row, tuple):
                line, external_id, own_id = row
                error = self.ids.first_time(external_id, line, own_id=own_id)
                if error is None:
                    self.good += 1
                    continue
                repeated.add(line)
            else:
                error = row
            self.bad += 1
            if len(self.listed) < MAX_LISTED:
                self.listed.append(error)
        self.repeated |= repeated
        return repeated


class BadRows(DomainError):
    """The file has bad rows and they may not be skipped: nothing was imported."""

    code = "bad_rows"

    def __init__(self, tally: Tally) -> None:
        rows = "bad row" if tally.bad == 1 else "bad rows"
        super().__init__(f"{tally.bad:,} {rows}; nothing was imported")
        self.tally = tally
