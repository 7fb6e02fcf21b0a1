"""The CRM import use case on a fake store: batches and their transactions, first imports,
bad rows, and the rules records are keyed under."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

import domain.services.crm
from domain.company_aliases import CompanyAlias
from domain.conflicts import ClaimKind, ConflictRules, account_ref
from domain.crm import Account, UpsertCounts
from domain.crm_import import BadRows, Chunk, ImportBatch, ReadRows, RowError, Tally
from domain.policy import DeskPolicy, ProgramPolicy
from domain.ports import UnitOfWork
from domain.services import CrmImports, ServiceContext
from domain.services.crm import Pass, Phase
from domain.slack_ids import SlackChannelId, SlackUserId
from storage.company_keys import encode_keys
from tests.fakes import Data, FakeStorage

T0 = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
Row = Account | RowError


class ListSource:
    """Chunks of records and bad rows, read as `domain.services.crm.RowSource` reads a file;
    each row is on the line after the one before, from line 2."""

    name = "rows.csv"

    def __init__(self, *chunks: Sequence[Row]) -> None:
        self.chunks = chunks
        self.estimated_rows = sum(map(len, chunks))
        self.passes: list[Pass] = []
        self.rules: list[ConflictRules | None] = []

    @contextlib.contextmanager
    def reading(self, rules: ConflictRules | None) -> Iterator[ListSource]:
        self.rules.append(rules)
        yield self

    def read(self, step: Pass, *, keyed: Callable[[], bool]) -> Generator[Chunk, None, None]:
        self.passes.append(step)
        line = 2
        for chunk in self.chunks:
            rows: ReadRows = []
            lines: list[int] = []
            records: list[Account] = []
            for row in chunk:
                if isinstance(row, RowError):
                    rows.append(RowError(line, row.reason))
                else:
                    rows.append((line, row.external_id, True))
                    lines.append(line)
                    records.append(row)
                line += 1
            rules = self.rules[-1]
            if keyed() and rules is not None:
                yield rows, ImportBatch.keyed(ClaimKind.account, lines, records, rules, encode_keys)
            else:
                yield rows, None


class Progress:
    def __init__(self) -> None:
        self.phases: list[Phase] = []
        self.written_so_far: list[int] = []
        self.tallies: list[Tally] = []

    def phase(self, phase: Phase) -> None:
        self.phases.append(phase)

    def written(self, records: int) -> None:
        self.written_so_far.append(records)

    def checked(self, tally: Tally) -> None:
        self.tallies.append(tally)


def imports(uow: Callable[[], UnitOfWork]) -> CrmImports:
    context = ServiceContext(
        uow=uow,
        clock=lambda: T0,
        desk=DeskPolicy(
            channel_id=SlackChannelId("C0DESK"), approvers=frozenset({SlackUserId("U0DESK")})
        ),
        program=ProgramPolicy(),
    )
    return CrmImports(context, ConflictRules())


def accounts(*numbers: int) -> list[Account]:
    return [Account(f"A-{n}", f"Company {n}") for n in numbers]


async def stored_before(*records: Account) -> FakeStorage:
    """Storage holding `records`, from an import a day before this one."""
    storage = FakeStorage()
    async with storage.uow() as uow:
        await uow.crm.upsert_accounts(records, now=T0 - timedelta(days=1))
        await uow.commit()
    return storage


def ids(data: Data, *, at: datetime | None = None) -> list[str]:
    """The external ids of the stored accounts (those the import begun `at` wrote), oldest
    first."""
    stamps = data.imported_at
    return [
        a.external_id
        for i, a in data.accounts.items()
        if at is None or stamps[ClaimKind.account, i] == at
    ]


BAD = RowError(0, "is_customer: 'maybe' is not yes or no")


async def test_writes_each_batch_in_a_transaction_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(domain.services.crm, "BATCH_SIZE", 2)
    storage = FakeStorage()
    stored = storage.watch(lambda data: len(data.accounts))

    outcome = await imports(storage.uow).run(
        ListSource(accounts(0, 1, 2), accounts(3, 4)),
        ClaimKind.account,
        skip_bad_rows=False,
        progress=Progress(),
    )

    assert outcome.counts == UpsertCounts(inserted=5)
    assert ids(storage.data) == [f"A-{i}" for i in range(5)]
    assert stored == [
        None,  # the admins' aliases, for the rules (nothing committed)
        0,  # how many are stored
        *(2, 4, 5),  # a batch each
        5,  # the planner's statistics
    ]
    assert storage.upkeep["refresh_statistics"] == 1


async def test_a_dry_run_opens_no_unit_of_work() -> None:
    def no_uow() -> UnitOfWork:
        raise AssertionError("no unit of work is opened")

    source = ListSource(accounts(1, 2), [BAD])
    progress = Progress()

    tally = await imports(no_uow).check(source, skip_bad_rows=True, progress=progress)

    assert (tally.good, tally.bad) == (2, 1)
    assert source.rules == [None]  # nothing keyed
    assert progress.tallies == [tally]


async def test_a_first_import_stops_writing_at_a_bad_row_and_deletes_what_it_wrote(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(domain.services.crm, "BATCH_SIZE", 2)
    storage = FakeStorage()
    stored = storage.watch(ids)
    source = ListSource(accounts(1, 2, 3), [BAD, *accounts(4)], [BAD])
    progress = Progress()

    with pytest.raises(BadRows) as raised:
        await imports(storage.uow).run(
            source, ClaimKind.account, skip_bad_rows=False, progress=progress
        )

    assert stored == [None, [], ["A-1", "A-2"], [], []]  # the first batch, then deleted
    assert storage.data == Data()
    assert source.passes == ["importing"]  # read once
    assert [e.line for e in raised.value.tally.listed] == [5, 7]
    assert raised.value.tally.good == 4
    assert progress.tallies == [raised.value.tally]
    assert storage.upkeep["refresh_statistics"] == 0


async def test_into_stored_records_every_row_is_checked_before_any_is_written() -> None:
    storage = await stored_before(*accounts(0))
    before = copy.deepcopy(storage.data)
    source = ListSource(accounts(1, 2), [BAD])

    with pytest.raises(BadRows):
        await imports(storage.uow).run(
            source, ClaimKind.account, skip_bad_rows=False, progress=Progress()
        )

    assert source.passes == ["checking"]
    assert storage.data == before


async def test_skipping_bad_rows_writes_the_others_but_a_repeated_id() -> None:
    storage = await stored_before(*accounts(0))
    source = ListSource(accounts(1, 2), [BAD, *accounts(1, 3)])
    progress = Progress()

    outcome = await imports(storage.uow).run(
        source, ClaimKind.account, skip_bad_rows=True, progress=progress
    )

    assert source.passes == ["checking", "importing"]
    assert ids(storage.data, at=T0) == ["A-1", "A-2", "A-3"]
    assert (outcome.written, outcome.tally.good, outcome.tally.bad) == (3, 3, 2)
    assert [e.reason for e in outcome.tally.listed] == [
        BAD.reason,
        "external id 'A-1' also on line 2",
    ]
    assert progress.phases == ["checking", "writing", "indexing"]
    assert progress.written_so_far == [3]


async def test_keys_the_records_under_the_admins_aliases() -> None:
    storage = FakeStorage()
    alias = CompanyAlias(name="Company 1", alias="Initrode", added_by="U0ADMIN", added_at=T0)
    async with storage.uow() as uow:
        await uow.aliases.add(alias)
        await uow.commit()
    source = ListSource(accounts(1))

    await imports(storage.uow).run(
        source, ClaimKind.account, skip_bad_rows=False, progress=Progress()
    )

    [rules] = source.rules
    assert rules is not None
    [(account_id, record)] = storage.data.accounts.items()
    keys = rules.keys(account_ref(record))
    assert keys != ConflictRules().keys(account_ref(record))
    assert storage.data.keys == {(ClaimKind.account, account_id): frozenset(keys)}
