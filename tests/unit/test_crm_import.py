"""An import's records in columns (`ImportBatch`) and its rows counted (`Tally`)."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from domain.conflicts import ClaimKind, ConflictRules, account_ref
from domain.crm import Account, Opportunity, is_customer_label
from domain.crm_import import MAX_LISTED, BadRows, ImportBatch, RowError, Tally
from domain.matching import name_forms


def encode(keys: Collection[str]) -> str:
    return repr(sorted(keys))


ACME = Account("A-1", "Acme Corp", domain="acme.com", is_customer=True)
GLOBEX = Account("A-2", "Globex")


class TestImportBatch:
    def test_keeps_each_record_with_its_analysed_name_and_keys(self) -> None:
        rules = ConflictRules()
        batch = ImportBatch.keyed(ClaimKind.account, [7, 9], [ACME, GLOBEX], rules, encode)
        assert batch.records() == [ACME, GLOBEX]
        assert batch.lines == [7, 9]
        assert [row[-1] for row in batch.rows] == [name_forms("Acme Corp"), name_forms("Globex")]
        assert batch.keys == [encode(rules.keys(account_ref(r))) for r in (ACME, GLOBEX)]

    def test_gives_opportunities_back_as_opportunities(self) -> None:
        deal = Opportunity("O-1", "A-1", "Acme - 500 seats", stage="Proposal")
        batch = ImportBatch.of(ClaimKind.opportunity, [deal], [{"n:acme"}], encode)
        assert batch.records() == [deal]
        assert batch.lines == [0]

    def test_refuses_keys_that_do_not_pair_with_the_records(self) -> None:
        with pytest.raises(ValueError, match="1 key sets for 2 records"):
            ImportBatch.of(ClaimKind.account, [ACME, GLOBEX], [set()], encode)

    def test_splits_joins_and_leaves_out_lines(self) -> None:
        records = [Account(f"A-{n}", f"Company {n}") for n in range(5)]
        batch = ImportBatch.of(ClaimKind.account, records, [set()] * 5, encode)
        head, rest = batch.split(2)
        assert (len(head), len(rest)) == (2, 3)
        assert ImportBatch.join(ClaimKind.account, [head, rest]) == batch
        assert batch.without({1, 3}).records() == [records[0], records[2], records[4]]
        assert batch.without({42}) is batch


class TestTally:
    def test_counts_good_rows_and_lists_bad_ones(self) -> None:
        tally = Tally()
        repeated = tally.add([(2, "A-1", True), RowError(3, "name is empty"), (4, "A-2", True)])
        assert (tally.good, tally.bad, repeated) == (2, 1, set())
        assert tally.listed == [RowError(3, "name is empty")]

    def test_a_repeated_id_is_a_bad_row_naming_the_first_line_across_chunks(self) -> None:
        tally = Tally()
        tally.add([(2, "A-1", True), (3, "dibs:0a1b", False)])
        repeated = tally.add([(9, "A-1", True), (10, "dibs:0a1b", False)])
        assert repeated == tally.repeated == {9, 10}
        assert [e.reason for e in tally.listed] == [
            "external id 'A-1' also on line 2",
            "the same name and domain (no external id) also on line 3",
        ]

    def test_lists_only_the_first_bad_rows(self) -> None:
        tally = Tally()
        tally.add([RowError(line, "bad") for line in range(MAX_LISTED + 5)])
        assert (tally.bad, len(tally.listed)) == (MAX_LISTED + 5, MAX_LISTED)

    def test_bad_rows_say_how_many(self) -> None:
        tally = Tally()
        tally.add([RowError(2, "bad")])
        assert BadRows(tally).message == "1 bad row; nothing was imported"


@pytest.mark.parametrize(
    ("label", "customer"),
    [("Customer - Direct", True), ("customer", True), (" CUSTOMER ", True), ("Prospect", False)],
)
def test_a_customer_label_starts_with_customer(label: str, customer: bool) -> None:
    assert is_customer_label(label) is customer
