"""What the use cases need from storage, as Protocols: storage implements them, tests fake them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from domain.cases import WorkingNote
from domain.company_aliases import AliasRevision, CompanyAlias, NamedOwner
from domain.conflicts import Claim, ClaimKind, ConflictFinding, FindingCounts
from domain.crm import Account, Opportunity, UpsertCounts
from domain.crm_import import ImportBatch
from domain.deliveries import DeliverySnapshot, MessageRef, OutboxEntry
from domain.matching import CandidateKeys, Screen
from domain.messages import MessageKind, OutboxMessage
from domain.ownership import StoredFinding
from domain.partner import Partner
from domain.registration import AuditEvent, Registration, RegistrationStatus


class RegistrationRepository(Protocol):
    async def add(self, registration: Registration) -> None:
        """Insert; assigns `registration.id` and its reference (the partner's code and next
        number, `NW-0007`) and saves its pending audit events.

        Raises DuplicateSubmission (at once or at commit) when `submission_key` is taken.
        """

    async def get(self, registration_id: int) -> Registration | None: ...

    async def get_many(self, registration_ids: Collection[int]) -> dict[int, Registration]:
        """The registrations that exist among `registration_ids`, by id."""

    async def get_by_submission_key(self, key: str) -> Registration | None: ...

    async def get_by_reference(self, text: str) -> Registration | None:
        """The registration a typed reference names: `NW-0007` (any case, spaces around it
        ignored) or a legacy `DR-0012` / `DR-12`; None when there is none."""

    async def partner_numbered_with(self, code: str) -> int | None:
        """The partner (id) whose registrations' references start with `code` (`NW-…`), if
        any: a code that numbered one partner's registrations never numbers another's."""

    async def save(self, registration: Registration, *, expected_version: int) -> None:
        """Write changed fields and pending audit events, only if the stored version is
        still `expected_version`; otherwise raise ConcurrentUpdate (at once or at commit)."""

    async def list_by_partner(self, partner_id: int, *, limit: int = 50) -> list[Registration]:
        """Newest first."""

    async def list_open(self, *, limit: int = 50) -> list[Registration]:
        """Waiting for a desk decision (submitted / under review), oldest first."""

    def audit_log(self) -> AsyncIterator[AuditRecord]:
        """Every audit event of every registration, oldest first (streamed)."""

    async def history(self, registration_id: int) -> list[AuditEvent]:
        """One registration's audit events, oldest first."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    registration_id: int
    event: AuditEvent
    reference: str


class CrmRepository(Protocol):
    """The vendor's direct accounts and opportunities, imported from its CRM."""

    async def upsert_accounts(
        self,
        accounts: Sequence[Account],
        *,
        now: datetime | None = None,
        keys: Sequence[CandidateKeys] | None = None,
    ) -> UpsertCounts:
        """Insert or update by `external_id` (the last of duplicates wins); keys replaced.

        `keys[i]`, when given, are `accounts[i]`'s candidate keys under the repository's
        rules, computed ahead; else computed here.
        """

    async def upsert_opportunities(
        self,
        opportunities: Sequence[Opportunity],
        *,
        now: datetime | None = None,
        keys: Sequence[CandidateKeys] | None = None,
    ) -> UpsertCounts:
        """Insert or update by `external_id` (the last of duplicates wins); keys replaced."""

    async def count_accounts(self) -> int: ...

    async def count(self, kind: ClaimKind) -> int:
        """How many records of `kind` (accounts or opportunities) are stored."""

    @staticmethod
    def encode_keys(keys: Collection[str], /) -> str:
        """A record's candidate keys as the one string `upsert_batch` takes (pure: an
        import's worker processes call it, with no repository at hand)."""

    async def upsert_batch(
        self, batch: ImportBatch, *, imported_at: datetime, first_import: bool = False
    ) -> UpsertCounts:
        """Insert new records and update known ones (by external id, which must not repeat
        within `batch`), with the keys and analysed names they come with; stamped
        `imported_at`. `first_import`: none of the kind were stored when the import began,
        so no id is looked up (one stored since then fails the unique index)."""

    async def discard_imported(self, kind: ClaimKind, imported_at: datetime) -> None:
        """Delete the records of `kind` stamped `imported_at`, and their keys: a first
        import undone (it only inserted)."""

    async def defer_key_index(self) -> bool:
        """Set the key index aside for a bulk load where building it afterwards is faster;
        True if it was. Lookups stay right, only slower, until `ensure_key_index`."""

    async def ensure_key_index(self) -> None:
        """Create the key index unless it exists (after a bulk load, or one that was killed)."""

    async def refresh_statistics(self) -> None:
        """Update the query planner's statistics after a large import."""


class AliasRepository(Protocol):
    """The aliases admins added, and the key index changes that adding one makes."""

    async def list_all(self) -> list[CompanyAlias]:
        """Every added alias, oldest first."""

    async def add(self, alias: CompanyAlias) -> CompanyAlias:
        """Insert; returns the alias with its id."""

    async def remove(self, alias_id: int) -> None: ...

    async def revision(self) -> AliasRevision:
        """A value that changes whenever an alias is added or removed."""

    async def owners_with_keys(self, keys: Collection[str]) -> list[NamedOwner]:
        """Registrations, accounts and opportunities holding any of `keys`, with their names."""

    async def change_keys(
        self, kind: str, owner_id: int, *, dropped: Collection[str], added: Collection[str]
    ) -> None:
        """Remove and add candidate keys of one record."""


class ConflictRepository(Protocol):
    """The candidate index and the findings stored with registrations."""

    async def claims_for_keys(
        self,
        keys: Collection[str],
        *,
        exclude_registration_id: int | None,
        active_statuses: Collection[RegistrationStatus],
        now: datetime,
        screen: Screen | None = None,
    ) -> list[Claim]:
        """Registrations (active, protection not over), accounts and opportunities sharing a
        key; over-common keys are capped (`ConflictRules.key_cap`). Narrows, never judges:
        with a `screen`, records it rules out (`Screen.may_match`) are left out unbuilt."""

    async def add_findings(
        self,
        registration_id: int,
        findings: Sequence[ConflictFinding],
        *,
        found_at: datetime,
        replace: bool = False,
        mirror_to: Collection[int] = (),
    ) -> None:
        """Store a check's findings in the current transaction, and each finding of a
        registration in `mirror_to` on that registration too, naming this one. `replace`
        drops this registration's older findings and those naming it on registrations still
        waiting for a decision."""

    async def finding_counts(self, registration_ids: Collection[int]) -> dict[int, FindingCounts]:
        """Conflicts and possible conflicts per registration (absent: none found)."""


class FindingRepository(Protocol):
    """The desk's view of a registration's findings (each claim as it is now) and working
    notes."""

    async def for_registration(self, registration_id: int) -> list[StoredFinding]:
        """The stored findings, strongest first, each with its claim loaded as it is now
        (a registration's partner and amount, an account's flags, an opportunity's stage)."""

    async def for_registrations(
        self, registration_ids: Collection[int]
    ) -> dict[int, list[StoredFinding]]:
        """`for_registration` of several registrations at once (absent: none found)."""

    async def add_working_note(self, note: WorkingNote) -> None: ...

    async def working_notes(self, registration_id: int) -> list[WorkingNote]:
        """Oldest first."""

    async def with_working_notes(self, registration_ids: Collection[int]) -> set[int]:
        """Which of `registration_ids` have a working note."""

    async def citing(self, registration_ids: Collection[int]) -> set[int]:
        """The registrations still waiting for a decision whose findings name any of
        `registration_ids` as a claim (their evidence shows it), leaving those out."""


class PartnerRepository(Protocol):
    async def add(self, partner: Partner) -> None:
        """Insert; assigns `partner.id`."""

    async def save(self, partner: Partner) -> None: ...

    async def get(self, partner_id: int) -> Partner | None: ...

    async def get_many(self, partner_ids: Collection[int]) -> dict[int, Partner]:
        """The partners that exist among `partner_ids`, by id."""

    async def get_by_channel(self, channel_id: str) -> Partner | None: ...

    async def list_all(self) -> list[Partner]:
        """All partners by name."""

    async def find_for_actor(
        self, *, team_id: str, enterprise_id: str | None, channel_id: str | None
    ) -> list[Partner]:
        """Partners that could be the actor's: same enterprise, same team or same channel."""


class Outbox(Protocol):
    async def put(self, messages: Sequence[OutboxMessage], *, now: datetime) -> None:
        """Queue messages in the current transaction."""

    async def claim(
        self, *, now: datetime, lease: timedelta, limit: int, worker: str
    ) -> list[OutboxEntry]:
        """Lease due messages, at most one per key (the oldest undelivered one), so messages
        of one registration go out in order while different registrations go in parallel."""

    async def delivered(self, entry_id: int, *, now: datetime) -> None: ...

    async def delivered_many(self, entry_ids: Collection[int], *, now: datetime) -> None:
        """`delivered` for a whole batch in one statement."""

    async def retry_later(self, entry_id: int, *, at: datetime, error: str) -> None:
        """Release the lease, count the attempt and make the message due again at `at`."""

    async def give_up(self, entry_id: int, *, now: datetime, error: str) -> None:
        """A permanent failure: keep the row for the operator, stop blocking its key."""

    async def pending_count(self) -> int: ...


class MessageRefs(Protocol):
    """Posted Slack messages by (kind, registration) — the cards that are edited in place."""

    async def get(self, kind: MessageKind, registration_id: int) -> MessageRef | None: ...

    async def get_many(
        self, keys: Collection[tuple[MessageKind, int]]
    ) -> dict[tuple[MessageKind, int], MessageRef]:
        """The posted cards among `keys` (kind, registration id)."""

    async def put(self, kind: MessageKind, registration_id: int, ref: MessageRef) -> None: ...

    async def put_many(self, refs: Mapping[tuple[MessageKind, int], MessageRef]) -> None:
        """`put` for a whole batch in one statement."""

    async def evidence_pages(
        self, registration_ids: Collection[int]
    ) -> dict[int, dict[int, MessageRef]]:
        """Where each registration's evidence follow-up pages were posted, by page number."""

    async def put_evidence_pages(self, refs: Mapping[tuple[int, int], MessageRef]) -> None:
        """Record posted follow-up pages, keyed (registration id, page number)."""

    async def drop_evidence_pages(self, registration_id: int, numbers: Collection[int]) -> None:
        """Forget pages that no longer show anything (the evidence got shorter)."""


class DeliverySnapshots(Protocol):
    async def snapshot(self, messages: Collection[OutboxMessage]) -> DeliverySnapshot:
        """What `messages` show, in a fixed number of queries whatever their number."""


class EventReceipts(Protocol):
    async def first_time(self, event_id: str, *, now: datetime) -> bool:
        """Record an Events API event id; False when it was already recorded."""


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without `commit()` rolls everything back."""

    registrations: RegistrationRepository
    partners: PartnerRepository
    crm: CrmRepository
    aliases: AliasRepository
    conflicts: ConflictRepository
    findings: FindingRepository
    outbox: Outbox
    message_refs: MessageRefs
    deliveries: DeliverySnapshots
    receipts: EventReceipts

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None:
        """Commit; raises ConcurrentUpdate or DuplicateSubmission when a guard fails."""
