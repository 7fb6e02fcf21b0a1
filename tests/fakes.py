"""In-memory fakes of the ports, for fast service tests (STYLE.md rules 32-33).

`FakeStorage` holds the committed data; `FakeStorage.uow` makes units of work on it (use it
as `ServiceContext.uow`). A unit of work reads a snapshot taken when its block opens, writes
to that snapshot, and at `commit()` applies its writes to the committed data, after the
guards storage keeps: a registration saved in it must still be at the version it was saved
against, a submission key must still be free (first committer wins). Leaving the block
without committing drops every write. Ids come from counters that never go back, like
database sequences.

What it does not imitate, on purpose (the database tests cover them): the SQL candidate
narrowing's caps and ranking (`ConflictRules.key_cap`, `candidate_cap`): a check here gets
every record sharing a key; and truly concurrent transactions: `before_next_commit` only
lets a test make another unit of work commit first, which is how a service loses a race.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from domain.cases import WorkingNote
from domain.company_aliases import AliasRevision, CompanyAlias, NamedOwner
from domain.conflicts import (
    ACTIVE_STATUSES,
    Claim,
    ClaimKind,
    ConflictFinding,
    ConflictRules,
    FindingCounts,
    account_ref,
    company_ref,
    opportunity_ref,
)
from domain.crm import Account, Opportunity, UpsertCounts
from domain.errors import ConcurrentUpdate, DuplicateSubmission, InvalidInput, NotFound
from domain.matching import CandidateKeys, CompanyRef, Finding, Screen, Strength, name_forms
from domain.messages import MessageKind, OutboxMessage
from domain.ownership import ClaimDetails, StoredFinding
from domain.partner import Partner
from domain.ports import (
    AliasRepository,
    AuditRecord,
    ConflictRepository,
    CrmRepository,
    EventReceipts,
    FindingRepository,
    MessageRef,
    MessageRefs,
    Outbox,
    OutboxEntry,
    PartnerRepository,
    RegistrationRepository,
)
from domain.registration import AuditEvent, Registration, RegistrationStatus, format_reference
from domain.registration import parse_reference as parsed

KEY_LENGTH = 64  # storage keeps this much of a candidate key
_STRENGTH_ORDER = {Strength.conflict: 0, Strength.possible: 1, Strength.support: 2}


@dataclass(slots=True)
class FixedClock:
    """A clock that says `now` until a test moves it (use it as `ServiceContext.clock`)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


@dataclass(frozen=True, slots=True)
class FindingRow:
    """A stored finding: which claim, how strong, the evidence (the claim is read again)."""

    seq: int
    registration_id: int
    claim_kind: ClaimKind
    claim_id: int
    strength: Strength
    evidence: tuple[Finding, ...]
    found_at: datetime


@dataclass(slots=True)
class OutboxRow:
    id: int
    message: OutboxMessage
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    locked_until: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.delivered_at is None and self.failed_at is None


@dataclass(slots=True)
class Data:
    """Everything stored: the committed data, or one unit of work's snapshot of it."""

    registrations: dict[int, Registration] = field(default_factory=dict)
    events: list[tuple[int, int, AuditEvent]] = field(default_factory=list)  # seq, id, event
    partners: dict[int, Partner] = field(default_factory=dict)
    numbered: dict[int, int] = field(default_factory=dict)  # partner id: last number given
    accounts: dict[int, Account] = field(default_factory=dict)
    opportunities: dict[int, Opportunity] = field(default_factory=dict)
    keys: dict[tuple[ClaimKind, int], frozenset[str]] = field(default_factory=dict)
    findings: list[FindingRow] = field(default_factory=list)
    notes: list[WorkingNote] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)
    refs: dict[tuple[str, int], MessageRef] = field(default_factory=dict)
    receipts: dict[str, datetime] = field(default_factory=dict)
    aliases: dict[int, CompanyAlias] = field(default_factory=dict)


Write = Callable[[Data], None]


class FakeStorage:
    """The committed data, shared by every unit of work `uow()` makes, and what happened to
    it: `commits` (how many units of work committed) and `messages_put` (every outbox
    message queued, committed or not)."""

    def __init__(self, rules: ConflictRules | None = None) -> None:
        self.rules = rules or ConflictRules()
        """The rules the candidate keys are stored under (the UoW's `conflict_rules`)."""
        self.data = Data()
        self.commits = 0
        self.messages_put: list[OutboxMessage] = []
        self._ids: dict[str, itertools.count[int]] = {}
        self._before_commit: list[Callable[[], Awaitable[object]]] = []
        self._taken = 0

    def uow(self) -> FakeUnitOfWork:
        """A new unit of work on this storage (what `ServiceContext.uow` is called for)."""
        return FakeUnitOfWork(self)

    def next_id(self, table: str) -> int:
        return next(self._ids.setdefault(table, itertools.count(1)))

    def before_next_commit(self, action: Callable[[], Awaitable[object]]) -> None:
        """Run `action` (another unit of work that commits) just before the next commit is
        checked: the unit of work committing then lost the race to it."""
        self._before_commit.append(action)

    def queued(self) -> list[OutboxMessage]:
        """Every outbox message committed so far, oldest first."""
        return [row.message for row in self.data.outbox]

    def take_queued(self) -> list[OutboxMessage]:
        """The outbox messages committed since the last call, oldest first."""
        queued = self.queued()
        taken, self._taken = queued[self._taken :], len(queued)
        return taken

    async def _run_before_commit(self) -> None:
        actions, self._before_commit = self._before_commit, []
        for action in actions:
            await action()


class FakeUnitOfWork:
    """`domain.ports.UnitOfWork` in memory. Reusable; blocks do not nest. `committed`: the
    last block committed."""

    registrations: RegistrationRepository
    partners: PartnerRepository
    crm: CrmRepository
    aliases: AliasRepository
    conflicts: ConflictRepository
    findings: FindingRepository
    outbox: Outbox
    message_refs: MessageRefs
    receipts: EventReceipts

    def __init__(self, storage: FakeStorage) -> None:
        self.storage = storage
        self.committed = False
        self._tx: Transaction | None = None

    async def __aenter__(self) -> Self:
        if self._tx is not None:
            raise RuntimeError("this unit of work is already in use; blocks cannot nest")
        tx = self._tx = Transaction(self.storage)
        self.committed = False
        self.registrations = FakeRegistrations(tx)
        self.partners = FakePartners(tx)
        self.crm = FakeCrm(tx)
        self.aliases = FakeAliases(tx)
        self.conflicts = FakeConflicts(tx)
        self.findings = FakeFindings(tx)
        self.outbox = FakeOutbox(tx)
        self.message_refs = FakeMessageRefs(tx)
        self.receipts = FakeReceipts(tx)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tx = None  # what was not committed is dropped

    async def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("commit() outside `async with` of the unit of work")
        await self.storage._run_before_commit()
        self._tx.commit()
        self.committed = True
        self.storage.commits += 1


class Transaction:
    """One unit of work's snapshot, its writes (kept to apply at commit) and their guards."""

    def __init__(self, storage: FakeStorage) -> None:
        self.storage = storage
        self.data = copy.deepcopy(storage.data)
        self.writes: list[Write] = []
        self.saved_at: dict[int, int] = {}  # registration id: the version first saved against
        self.keys_taken: set[str] = set()  # submission keys of the registrations added
        self.added: set[int] = set()

    def write(self, change: Write) -> None:
        """Apply `change` to the snapshot now and to the committed data at commit."""
        change(self.data)
        self.writes.append(change)

    def commit(self) -> None:
        committed = self.storage.data
        for rid, version in self.saved_at.items():
            current = committed.registrations.get(rid)
            if current is None or current.version != version:
                raise ConcurrentUpdate(
                    "The registration was changed by someone else; reload and retry."
                )
        if any(r.submission_key in self.keys_taken for r in committed.registrations.values()):
            raise DuplicateSubmission("This form was already submitted; the first one stands.")
        for change in self.writes:
            change(committed)
        self.writes, self.saved_at, self.keys_taken, self.added = [], {}, set(), set()
        self.data = copy.deepcopy(committed)

    def put(self, table: str, key: object, value: object) -> None:
        """Store `value` (as it is now) under `key` in one of `Data`'s dicts."""
        kept = copy.deepcopy(value)
        self.write(lambda data: getattr(data, table).__setitem__(key, copy.deepcopy(kept)))

    def drop(self, table: str, key: object) -> None:
        self.write(lambda data: getattr(data, table).pop(key, None))

    def extend(self, table: str, rows: Sequence[object]) -> None:
        kept = copy.deepcopy(list(rows))
        self.write(lambda data: getattr(data, table).extend(copy.deepcopy(kept)))

    def index(self, kind: ClaimKind, owner_id: int, keys: Collection[str]) -> None:
        """Keep `keys` as the record's candidate keys (none: it leaves the index)."""
        if keys:
            self.put("keys", (kind, owner_id), frozenset(k[:KEY_LENGTH] for k in keys))
        else:
            self.drop("keys", (kind, owner_id))


# ---------------------------------------------------------------------------- registrations


class FakeRegistrations:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, registration: Registration) -> None:
        if registration.id is not None:
            raise ValueError(f"registration {registration.id} is already stored")
        data = self._tx.data
        partner = data.partners.get(registration.partner_id)
        if partner is None or partner.code is None:
            raise NotFound("That partner no longer exists.")
        key = registration.submission_key
        if key is not None and any(r.submission_key == key for r in data.registrations.values()):
            raise DuplicateSubmission("This form was already submitted; the first one stands.")
        number = data.numbered.get(registration.partner_id, 0) + 1
        registration.id = rid = self._tx.storage.next_id("registration")
        registration.assigned_reference = format_reference(partner.code, number)
        self._tx.added.add(rid)
        if key is not None:
            self._tx.keys_taken.add(key)
        self._store(registration)
        self._tx.put("numbered", registration.partner_id, number)

    async def get(self, registration_id: int) -> Registration | None:
        found = self._tx.data.registrations.get(registration_id)
        return copy.deepcopy(found)

    async def get_many(self, registration_ids: Collection[int]) -> dict[int, Registration]:
        found = self._tx.data.registrations
        return {i: copy.deepcopy(found[i]) for i in registration_ids if i in found}

    async def get_by_submission_key(self, key: str) -> Registration | None:
        return self._first(lambda r: r.submission_key == key)

    async def get_by_reference(self, text: str) -> Registration | None:
        reference = parsed(text)
        return None if reference is None else self._first(lambda r: r.reference == reference)

    async def partner_numbered_with(self, code: str) -> int | None:
        found = self._first(lambda r: (r.assigned_reference or "").startswith(f"{code}-"))
        return None if found is None else found.partner_id

    async def save(self, registration: Registration, *, expected_version: int) -> None:
        if registration.id is None:
            raise ValueError("save() needs a stored registration; use add()")
        stored = self._tx.data.registrations.get(registration.id)
        if stored is None or stored.version != expected_version:
            raise ConcurrentUpdate(
                f"{registration.reference} was changed by someone else; reload and retry."
            )
        if registration.id not in self._tx.added:
            self._tx.saved_at.setdefault(registration.id, expected_version)
        self._store(registration)

    async def list_by_partner(self, partner_id: int, *, limit: int = 50) -> list[Registration]:
        mine = [r for r in self._tx.data.registrations.values() if r.partner_id == partner_id]
        mine.sort(key=lambda r: (r.created_at, r.id or 0), reverse=True)
        return copy.deepcopy(mine[:limit])

    async def list_open(self, *, limit: int = 50) -> list[Registration]:
        waiting = [r for r in self._tx.data.registrations.values() if r.status.awaits_desk]
        waiting.sort(key=lambda r: (r.created_at, r.id or 0))
        return copy.deepcopy(waiting[:limit])

    async def audit_log(self) -> AsyncIterator[AuditRecord]:
        data = self._tx.data
        for _, rid, event in sorted(data.events, key=lambda e: (e[2].at, e[0])):
            yield AuditRecord(rid, event, data.registrations[rid].reference)

    async def history(self, registration_id: int) -> list[AuditEvent]:
        mine = [e for e in self._tx.data.events if e[1] == registration_id]
        return [event for _, _, event in sorted(mine, key=lambda e: (e[2].at, e[0]))]

    def _first(self, wanted: Callable[[Registration], bool]) -> Registration | None:
        found = self._tx.data.registrations
        return copy.deepcopy(next((found[i] for i in sorted(found) if wanted(found[i])), None))

    def _store(self, registration: Registration) -> None:
        """Write the registration as it is now with its pending events, and its keys: the
        customer's while it holds a claim, none once it is closed (as storage does)."""
        assert registration.id is not None
        rid, storage = registration.id, self._tx.storage
        events = [(storage.next_id("event"), rid, e) for e in registration.pending_events()]
        self._tx.put("registrations", rid, registration)
        self._tx.extend("events", events)
        active = registration.status in ACTIVE_STATUSES
        keys = storage.rules.keys(company_ref(registration.details)) if active else frozenset()
        self._tx.index(ClaimKind.registration, rid, keys)


# ---------------------------------------------------------------------------- partners


class FakePartners:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, partner: Partner) -> None:
        if partner.id is not None:
            raise ValueError(f"partner {partner.id} is already stored")
        if partner.code is None:
            raise ValueError("a partner needs a code before it is stored")
        self._check_unique(partner)
        partner.id = self._tx.storage.next_id("partner")
        self._store(partner)

    async def save(self, partner: Partner) -> None:
        if partner.id not in self._tx.data.partners:
            raise NotFound("That partner no longer exists.")
        self._check_unique(partner)
        self._store(partner)

    async def get(self, partner_id: int) -> Partner | None:
        return copy.deepcopy(self._tx.data.partners.get(partner_id))

    async def get_many(self, partner_ids: Collection[int]) -> dict[int, Partner]:
        found = self._tx.data.partners
        return {i: copy.deepcopy(found[i]) for i in partner_ids if i in found}

    async def get_by_channel(self, channel_id: str) -> Partner | None:
        found = self._where(lambda p: p.channel_id == channel_id)
        return found[0] if found else None

    async def list_all(self) -> list[Partner]:
        return sorted(self._where(lambda _: True), key=lambda p: (p.name, p.id or 0))

    async def find_for_actor(
        self, *, team_id: str, enterprise_id: str | None, channel_id: str | None
    ) -> list[Partner]:
        return self._where(
            lambda p: (
                p.slack_team_id == team_id
                or bool(enterprise_id and p.slack_enterprise_id == enterprise_id)
                or bool(channel_id and p.channel_id == channel_id)
            )
        )

    def _where(self, wanted: Callable[[Partner], bool]) -> list[Partner]:
        found = self._tx.data.partners
        return [copy.deepcopy(found[i]) for i in sorted(found) if wanted(found[i])]

    def _check_unique(self, partner: Partner) -> None:
        for other in self._tx.data.partners.values():
            if other.id == partner.id:
                continue
            if other.code == partner.code:
                raise InvalidInput(
                    f"The code {partner.code} was just taken by another partner; pick another.",
                    field="code",
                )
            if other.channel_id == partner.channel_id:
                raise ValueError(f"channel {partner.channel_id} is linked to another partner")

    def _store(self, partner: Partner) -> None:
        self._tx.put("partners", partner.id, partner)


# ---------------------------------------------------------------------------- claims


def registration_details(data: Data, registration: Registration) -> ClaimDetails | None:
    """A registration as a claim, as it is now, with its partner (None: partner gone)."""
    partner = data.partners.get(registration.partner_id)
    if partner is None or registration.id is None:
        return None
    details = registration.details
    claim = Claim(
        ClaimKind.registration,
        registration.id,
        company_ref(details),
        partner_id=registration.partner_id,
        status=registration.status,
        created_at=registration.created_at,
        protected_until=registration.protected_until,
        reference=registration.assigned_reference,
    )
    return ClaimDetails(
        claim,
        amount=details.amount,
        currency=details.currency,
        partner_name=partner.name,
        partner_tier=partner.tier,
        partner_manager=partner.manager_user_id,
        company_name=details.company,
    )


def account_details(account_id: int, account: Account) -> ClaimDetails:
    claim = Claim(
        ClaimKind.account,
        account_id,
        account_ref(account),
        external_id=account.external_id,
        is_customer=account.is_customer,
        is_named=account.is_named,
        owner_slack_id=account.owner_slack_id,
        owner_email=account.owner_email,
    )
    return ClaimDetails(claim, company_name=account.name)


def opportunity_details(opportunity_id: int, opportunity: Opportunity) -> ClaimDetails:
    claim = Claim(
        ClaimKind.opportunity,
        opportunity_id,
        opportunity_ref(opportunity),
        external_id=opportunity.external_id,
        account_external_id=opportunity.account_external_id,
        owner_slack_id=opportunity.owner_slack_id,
        owner_email=opportunity.owner_email,
        stage=opportunity.stage,
        created_at=opportunity.created_at,
        last_activity_at=opportunity.last_activity_at,
    )
    return ClaimDetails(claim, amount=opportunity.amount, company_name=opportunity.name)


def claim_details(data: Data, kind: ClaimKind, claim_id: int) -> ClaimDetails | None:
    """The record a finding names, as it is now (None when it is gone)."""
    if kind is ClaimKind.registration:
        registration = data.registrations.get(claim_id)
        return None if registration is None else registration_details(data, registration)
    if kind is ClaimKind.account:
        account = data.accounts.get(claim_id)
        return None if account is None else account_details(claim_id, account)
    opportunity = data.opportunities.get(claim_id)
    return None if opportunity is None else opportunity_details(claim_id, opportunity)


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


# ---------------------------------------------------------------------------- crm, aliases


class FakeCrm:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def upsert_accounts(
        self,
        accounts: Sequence[Account],
        *,
        now: datetime | None = None,
        keys: Sequence[CandidateKeys] | None = None,
    ) -> UpsertCounts:
        refs = [account_ref(a) for a in accounts]
        return self._upsert(ClaimKind.account, accounts, refs, keys)

    async def upsert_opportunities(
        self,
        opportunities: Sequence[Opportunity],
        *,
        now: datetime | None = None,
        keys: Sequence[CandidateKeys] | None = None,
    ) -> UpsertCounts:
        refs = [opportunity_ref(o) for o in opportunities]
        return self._upsert(ClaimKind.opportunity, opportunities, refs, keys)

    async def count_accounts(self) -> int:
        return len(self._tx.data.accounts)

    async def refresh_statistics(self) -> None:
        return None

    def _upsert(
        self,
        kind: ClaimKind,
        records: Sequence[Account | Opportunity],
        refs: list[CompanyRef],
        keys: Sequence[CandidateKeys] | None,
    ) -> UpsertCounts:
        data, rules = self._tx.data, self._tx.storage.rules
        table_name = "accounts" if kind is ClaimKind.account else "opportunities"
        table: Mapping[int, Account | Opportunity] = getattr(data, table_name)
        known = {record.external_id: i for i, record in table.items()}
        last = {record.external_id: n for n, record in enumerate(records)}  # the last wins
        inserted = 0
        for external_id, n in last.items():
            if external_id not in known:
                known[external_id] = self._tx.storage.next_id(kind.value)
                inserted += 1
            owner_id = known[external_id]
            self._tx.put(table_name, owner_id, records[n])
            self._tx.index(kind, owner_id, keys[n] if keys else rules.fresh_keys(refs[n]))
        return UpsertCounts(inserted=inserted, updated=len(last) - inserted)


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


# ---------------------------------------------------------------------------- delivery


class FakeOutbox:
    """Messages queued in the transaction (and logged in `FakeStorage.messages_put` at once)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def put(self, messages: Sequence[OutboxMessage], *, now: datetime) -> None:
        storage = self._tx.storage
        storage.messages_put.extend(messages)
        self._tx.extend(
            "outbox", [OutboxRow(storage.next_id("outbox"), m, now, now) for m in messages]
        )

    async def claim(
        self, *, now: datetime, lease: timedelta, limit: int, worker: str
    ) -> list[OutboxEntry]:
        leased: list[int] = []
        keys: set[str] = set()
        for row in self._tx.data.outbox:
            if not row.pending or row.message.key in keys:
                continue
            keys.add(row.message.key)  # an older unfinished message blocks its key
            free = row.locked_until is None or row.locked_until <= now
            if row.next_attempt_at <= now and free and len(leased) < limit:
                leased.append(row.id)
        self._update(leased, locked_until=now + lease)
        rows = {row.id: row for row in self._tx.data.outbox}
        return [_entry(rows[i]) for i in leased]

    async def delivered(self, entry_id: int, *, now: datetime) -> None:
        self._update([entry_id], delivered_at=now, locked_until=None)

    async def delivered_many(self, entry_ids: Collection[int], *, now: datetime) -> None:
        self._update(list(entry_ids), delivered_at=now, locked_until=None)

    async def retry_later(self, entry_id: int, *, at: datetime, error: str) -> None:
        self._update([entry_id], attempted=True, next_attempt_at=at, locked_until=None)

    async def give_up(self, entry_id: int, *, now: datetime, error: str) -> None:
        self._update([entry_id], attempted=True, failed_at=now, locked_until=None)

    async def pending_count(self) -> int:
        return sum(row.pending for row in self._tx.data.outbox)

    def _update(self, ids: Collection[int], *, attempted: bool = False, **values: object) -> None:
        def change(data: Data) -> None:
            for row in data.outbox:
                if row.id in ids:
                    for name, value in values.items():
                        setattr(row, name, value)
                    row.attempts += attempted

        self._tx.write(change)


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(row.id, row.message, row.attempts, row.created_at)


def _page(number: int) -> str:
    return f"evidence_page:{number}"


class FakeMessageRefs:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, kind: MessageKind, registration_id: int) -> MessageRef | None:
        return self._tx.data.refs.get((kind.value, registration_id))

    async def get_many(
        self, keys: Collection[tuple[MessageKind, int]]
    ) -> dict[tuple[MessageKind, int], MessageRef]:
        refs = self._tx.data.refs
        return {(k, i): refs[(k.value, i)] for k, i in keys if (k.value, i) in refs}

    async def put(self, kind: MessageKind, registration_id: int, ref: MessageRef) -> None:
        await self.put_many({(kind, registration_id): ref})

    async def put_many(self, refs: Mapping[tuple[MessageKind, int], MessageRef]) -> None:
        self._put({(kind.value, rid): ref for (kind, rid), ref in refs.items()})

    async def evidence_pages(
        self, registration_ids: Collection[int]
    ) -> dict[int, dict[int, MessageRef]]:
        pages: dict[int, dict[int, MessageRef]] = {}
        for (kind, rid), ref in self._tx.data.refs.items():
            if rid in registration_ids and kind.startswith("evidence_page:"):
                pages.setdefault(rid, {})[int(kind.split(":")[1])] = ref
        return pages

    async def put_evidence_pages(self, refs: Mapping[tuple[int, int], MessageRef]) -> None:
        self._put({(_page(number), rid): ref for (rid, number), ref in refs.items()})

    async def drop_evidence_pages(self, registration_id: int, numbers: Collection[int]) -> None:
        for number in numbers:
            self._tx.drop("refs", (_page(number), registration_id))

    def _put(self, refs: dict[tuple[str, int], MessageRef]) -> None:
        for key, ref in refs.items():
            self._tx.put("refs", key, ref)


class FakeReceipts:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def first_time(self, event_id: str, *, now: datetime) -> bool:
        if event_id in self._tx.data.receipts:
            return False
        self._tx.put("receipts", event_id, now)
        return True
