"""The fake's data: what is stored, one unit of work's transaction on it, and each stored
record as a claim the conflict check and the desk see."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from domain.cases import WorkingNote
from domain.company_aliases import CompanyAlias
from domain.conflicts import Claim, ClaimKind, account_ref, company_ref, opportunity_ref
from domain.crm import Account, Opportunity
from domain.deliveries import MessageRef
from domain.errors import ConcurrentUpdate, DuplicateSubmission
from domain.matching import Finding, Strength
from domain.messages import OutboxMessage
from domain.ownership import ClaimDetails
from domain.partner import Partner
from domain.registration import AuditEvent, Registration

if TYPE_CHECKING:
    from tests.fakes import FakeStorage

KEY_LENGTH = 64  # storage keeps this much of a candidate key


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
    imported_at: dict[tuple[ClaimKind, int], datetime] = field(default_factory=dict)
    findings: list[FindingRow] = field(default_factory=list)
    notes: list[WorkingNote] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)
    refs: dict[tuple[str, int], MessageRef] = field(default_factory=dict)
    receipts: dict[str, datetime] = field(default_factory=dict)
    aliases: dict[int, CompanyAlias] = field(default_factory=dict)


Write = Callable[[Data], None]


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
