"""A fake CRM store for the import's tests: the port, keeping batches as domain records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import DBAPIError

from domain.company_aliases import CompanyAlias
from domain.conflicts import ClaimKind
from domain.crm import Account, Opportunity, UpsertCounts
from domain.crm_import import ImportBatch
from storage.company_keys import encode_keys


class FakeCrm:
    """The CRM port, recording every batch (as domain records); an id it has seen before
    counts as an update."""

    encode_keys = staticmethod(encode_keys)

    def __init__(self, *, fail_on_batch: int | None = None) -> None:
        self.batches: list[list[Account | Opportunity]] = []
        self.stamps: list[datetime] = []
        self.keys: dict[str, str] = {}
        self.ids: set[str] = set()
        self.fail_on_batch = fail_on_batch
        self.statistics_refreshed = 0
        self.counted: list[ClaimKind] = []
        self.deferred = 0
        self.discarded: list[Account | Opportunity] = []

    @property
    def records(self) -> list[Account | Opportunity]:
        return [r for batch in self.batches for r in batch]

    async def count(self, kind: ClaimKind) -> int:
        self.counted.append(kind)
        return len(self.ids)

    async def ensure_key_index(self) -> None:
        pass

    async def defer_key_index(self) -> bool:
        self.deferred += 1
        return True

    async def upsert_batch(
        self, batch: ImportBatch, *, imported_at: datetime, first_import: bool = False
    ) -> UpsertCounts:
        if self.fail_on_batch == len(self.batches) + 1:
            raise DBAPIError("INSERT …", {}, Exception("connection reset"))
        records: list[Account | Opportunity] = list(batch.records())
        self.keys.update((r.external_id, k) for r, k in zip(records, batch.keys, strict=True))
        updated = sum(r.external_id in self.ids for r in records)
        assert not (first_import and updated)
        self.ids.update(r.external_id for r in records)
        self.batches.append(records)
        self.stamps.append(imported_at)
        return UpsertCounts(inserted=len(records) - updated, updated=updated)

    async def discard_imported(self, kind: ClaimKind, imported_at: datetime) -> None:
        gone = [b for b, at in zip(self.batches, self.stamps, strict=True) if at == imported_at]
        kept = [
            (b, at) for b, at in zip(self.batches, self.stamps, strict=True) if at != imported_at
        ]
        self.batches, self.stamps = [b for b, _ in kept], [at for _, at in kept]
        self.discarded += [r for batch in gone for r in batch]
        self.ids -= {r.external_id for r in self.discarded}

    async def refresh_statistics(self) -> None:
        self.statistics_refreshed += 1


class FakeAliases:
    def __init__(self, aliases: list[CompanyAlias] | None = None) -> None:
        self.aliases = aliases or []

    async def list_all(self) -> list[CompanyAlias]:
        return self.aliases


class FakeUow:
    """A unit of work holding only what the import uses; `log` records its transactions
    (`commit N`: N records stored)."""

    def __init__(self, crm: FakeCrm, aliases: FakeAliases | None = None) -> None:
        self.crm = crm
        self.aliases = aliases or FakeAliases()
        self.log: list[str] = []

    async def __aenter__(self) -> FakeUow:
        self.log.append("begin")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.log.append("end")

    async def commit(self) -> None:
        self.log.append(f"commit {len(self.crm.records)}")
