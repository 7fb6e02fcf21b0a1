"""The CRM's records and the admins' aliases in memory."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from domain.company_aliases import AliasRevision, CompanyAlias, NamedOwner
from domain.conflicts import ClaimKind, account_ref, opportunity_ref
from domain.crm import Account, Opportunity, UpsertCounts
from domain.crm_import import ImportBatch
from domain.matching import CandidateKeys
from storage.company_keys import encode_keys
from tests.builders import NOW
from tests.fakes.data import KEY_LENGTH, Transaction, claim_details


class FakeCrm:
    """The CRM port: records by external id (the last of duplicates wins), stamped with the
    import that wrote them, their keys in the fake's index."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    @staticmethod
    def encode_keys(keys: Collection[str], /) -> str:
        """Storage's own encoding, so a batch carries what the database would take."""
        return encode_keys(keys)

    async def count(self, kind: ClaimKind) -> int:
        return len(self._table(kind))

    async def count_accounts(self) -> int:
        return len(self._tx.data.accounts)

    async def upsert_accounts(
        self,
        accounts: Sequence[Account],
        *,
        now: datetime | None = None,
        keys: Sequence[CandidateKeys] | None = None,
    ) -> UpsertCounts:
        rules = self._tx.storage.rules
        found = keys or [rules.keys(account_ref(a)) for a in accounts]
        return self._store(ClaimKind.account, accounts, found, now or NOW)

    async def upsert_opportunities(
        self,
        opportunities: Sequence[Opportunity],
        *,
        now: datetime | None = None,
        keys: Sequence[CandidateKeys] | None = None,
    ) -> UpsertCounts:
        rules = self._tx.storage.rules
        found = keys or [rules.keys(opportunity_ref(o)) for o in opportunities]
        return self._store(ClaimKind.opportunity, opportunities, found, now or NOW)

    async def upsert_batch(
        self, batch: ImportBatch, *, imported_at: datetime, first_import: bool = False
    ) -> UpsertCounts:
        records: Sequence[Account | Opportunity] = batch.records()
        ids = {r.external_id for r in records}
        if len(ids) != len(records):
            raise ValueError("an external id repeats within the batch")
        if first_import and any(r.external_id in ids for r in self._table(batch.kind).values()):
            raise ValueError("a first import met a stored external id")
        keys = [json.loads(k) for k in batch.keys]
        return self._store(batch.kind, records, keys, imported_at)

    async def discard_imported(self, kind: ClaimKind, imported_at: datetime) -> None:
        for (stamped, owner_id), at in list(self._tx.data.imported_at.items()):
            if stamped is kind and at == imported_at:
                self._tx.drop(_TABLES[kind], owner_id)
                self._tx.drop("imported_at", (kind, owner_id))
                self._tx.index(kind, owner_id, ())

    async def defer_key_index(self) -> bool:
        self._tx.storage.upkeep["defer_key_index"] += 1
        return False  # an index in memory costs nothing to keep up

    async def ensure_key_index(self) -> None:
        self._tx.storage.upkeep["ensure_key_index"] += 1

    async def refresh_statistics(self) -> None:
        self._tx.storage.upkeep["refresh_statistics"] += 1

    def _table(self, kind: ClaimKind) -> Mapping[int, Account | Opportunity]:
        table: Mapping[int, Account | Opportunity] = getattr(self._tx.data, _TABLES[kind])
        return table

    def _store(
        self,
        kind: ClaimKind,
        records: Sequence[Account | Opportunity],
        keys: Sequence[Collection[str]],
        imported_at: datetime,
    ) -> UpsertCounts:
        known = {record.external_id: i for i, record in self._table(kind).items()}
        last = {record.external_id: n for n, record in enumerate(records)}  # the last wins
        inserted = 0
        for external_id, n in last.items():
            if external_id not in known:
                known[external_id] = self._tx.storage.next_id(kind.value)
                inserted += 1
            owner_id = known[external_id]
            self._tx.put(_TABLES[kind], owner_id, records[n])
            self._tx.put("imported_at", (kind, owner_id), imported_at)
            self._tx.index(kind, owner_id, keys[n])
        return UpsertCounts(inserted=inserted, updated=len(last) - inserted)


_TABLES = {ClaimKind.account: "accounts", ClaimKind.opportunity: "opportunities"}


class FakeAliases:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def list_all(self) -> list[CompanyAlias]:
        found = self._tx.data.aliases
        return [found[i] for i in sorted(found)]

    async def add(self, alias: CompanyAlias) -> CompanyAlias:
        added = replace(alias, id=self._tx.storage.next_id("alias"))
        self._tx.put("aliases", added.id, added)
        return added

    async def remove(self, alias_id: int) -> None:
        self._tx.drop("aliases", alias_id)

    async def revision(self) -> AliasRevision:
        ids = self._tx.data.aliases
        return len(ids), max(ids, default=0)

    async def owners_with_keys(self, keys: Collection[str]) -> list[NamedOwner]:
        data, wanted = self._tx.data, {key[:KEY_LENGTH] for key in keys}
        owners = []
        for (kind, owner_id), held in sorted(data.keys.items()):
            details = claim_details(data, kind, owner_id)
            if held & wanted and details is not None and details.company_name is not None:
                owners.append(NamedOwner(kind.value, owner_id, details.company_name))
        return owners

    async def change_keys(
        self, kind: str, owner_id: int, *, dropped: Collection[str], added: Collection[str]
    ) -> None:
        claim = ClaimKind(kind)
        held = self._tx.data.keys.get((claim, owner_id), frozenset())
        gone = {key[:KEY_LENGTH] for key in dropped}
        self._tx.index(claim, owner_id, (held - gone) | set(added))
