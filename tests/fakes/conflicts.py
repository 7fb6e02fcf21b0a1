"""The candidate index and the findings in memory: candidates are the records sharing a key
with the subject (every one: SQL's caps and ranking are tested on the database)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime

from domain.cases import WorkingNote
from domain.conflicts import Claim, ClaimKind, ConflictFinding, FindingCounts
from domain.matching import CompanyRef, Screen, Strength, name_forms
from domain.ownership import StoredFinding
from domain.registration import RegistrationStatus
from tests.fakes.data import KEY_LENGTH, Data, FindingRow, Transaction, claim_details

_STRENGTH_ORDER = {Strength.conflict: 0, Strength.possible: 1, Strength.support: 2}


def _by_kind(owner: tuple[ClaimKind, int]) -> tuple[str, int]:
    return owner[0].value, owner[1]


def _kept(screen: Screen | None, company: CompanyRef) -> bool:
    """Whether storage would build the record: what the screen reads of its stored text."""
    if screen is None:
        return True
    return screen.may_match(company.name, name_forms(company.name), company.domain, company.email)


class FakeConflicts:
    """Candidates are the records sharing a key with the subject (every one: no caps)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def claims_for_keys(
        self,
        keys: Collection[str],
        *,
        exclude_registration_id: int | None,
        active_statuses: Collection[RegistrationStatus],
        now: datetime,
        screen: Screen | None = None,
    ) -> list[Claim]:
        data, wanted = self._tx.data, {key[:KEY_LENGTH] for key in keys}
        owners = sorted((o for o, held in data.keys.items() if held & wanted), key=_by_kind)
        found: list[Claim] = []
        for kind, owner_id in owners:
            if kind is ClaimKind.registration:
                registration = data.registrations[owner_id]
                until = registration.protected_until
                if (
                    owner_id == exclude_registration_id
                    or registration.status not in active_statuses
                    or (until is not None and until <= now)
                ):
                    continue
            details = claim_details(data, kind, owner_id)
            if details is not None and _kept(screen, details.claim.company):
                found.append(details.claim)
        return found

    async def add_findings(
        self,
        registration_id: int,
        findings: Sequence[ConflictFinding],
        *,
        found_at: datetime,
        replace: bool = False,
        mirror_to: Collection[int] = (),
    ) -> None:
        storage = self._tx.storage

        def row(rid: int, kind: ClaimKind, claim_id: int, finding: ConflictFinding) -> FindingRow:
            seq = storage.next_id("finding")
            return FindingRow(
                seq, rid, kind, claim_id, finding.strength, finding.evidence, found_at
            )

        rows = [row(registration_id, f.claim_kind, f.claim_id, f) for f in findings]
        rows += [
            row(f.claim_id, ClaimKind.registration, registration_id, f)
            for f in findings
            if f.claim_kind is ClaimKind.registration and f.claim_id in mirror_to
        ]

        def change(data: Data) -> None:
            if replace:
                data.findings = [
                    r
                    for r in data.findings
                    if r.registration_id != registration_id
                    and not (
                        r.claim_kind is ClaimKind.registration
                        and r.claim_id == registration_id
                        and data.registrations[r.registration_id].status.is_open
                    )
                ]
            data.findings.extend(rows)

        self._tx.write(change)

    async def finding_counts(self, registration_ids: Collection[int]) -> dict[int, FindingCounts]:
        tally = Counter(
            (row.registration_id, row.strength)
            for row in self._tx.data.findings
            if row.registration_id in registration_ids
        )
        return {
            rid: FindingCounts(
                conflicts=tally[(rid, Strength.conflict)], possible=tally[(rid, Strength.possible)]
            )
            for rid in sorted({rid for rid, _ in tally})
        }


class FakeFindings:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def for_registration(self, registration_id: int) -> list[StoredFinding]:
        return (await self.for_registrations([registration_id])).get(registration_id, [])

    async def for_registrations(
        self, registration_ids: Collection[int]
    ) -> dict[int, list[StoredFinding]]:
        data = self._tx.data
        found: dict[int, list[StoredFinding]] = {}
        for row in sorted(data.findings, key=lambda r: r.seq):
            details = claim_details(data, row.claim_kind, row.claim_id)
            if row.registration_id in registration_ids and details is not None:
                stored = StoredFinding(details, row.strength, row.evidence, row.found_at)
                found.setdefault(row.registration_id, []).append(stored)
        return {
            rid: sorted(items, key=lambda f: _STRENGTH_ORDER[f.strength])
            for rid, items in found.items()
        }

    async def add_working_note(self, note: WorkingNote) -> None:
        self._tx.extend("notes", [note])

    async def working_notes(self, registration_id: int) -> list[WorkingNote]:
        mine = [n for n in self._tx.data.notes if n.registration_id == registration_id]
        return sorted(mine, key=lambda n: n.at)

    async def with_working_notes(self, registration_ids: Collection[int]) -> set[int]:
        return {n.registration_id for n in self._tx.data.notes} & set(registration_ids)

    async def citing(self, registration_ids: Collection[int]) -> set[int]:
        data = self._tx.data
        found = {
            row.registration_id
            for row in data.findings
            if row.claim_kind is ClaimKind.registration
            and row.claim_id in registration_ids
            and data.registrations[row.registration_id].status.is_open
        }
        return found - set(registration_ids)
