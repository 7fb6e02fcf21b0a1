"""ORM rows. They mirror the tables, not the domain: repositories convert each way."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SLACK_ID = 32  # Slack ids (T…, U…, C…, E…) and message timestamps are short
CRM_ID = 128  # a CRM's record ids (Salesforce: 18 characters; others: UUIDs, paths)
CODE = 6  # a partner's code, `NW`
REFERENCE = 32  # a registration's reference, `NW-0007`


def utcnow() -> datetime:
    """The current time, tz-aware UTC (storage may read the clock; the domain never does)."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that always reads back as tz-aware UTC, SQLite included.

    Naive datetimes are refused: they are always a bug in this code base.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        value = value.astimezone(UTC)
        # SQLite stores text without an offset; keeping every value in UTC keeps the text
        # comparable, so `next_attempt_at <= :now` works there too.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with constraint names that stay stable across databases."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), date: Date()}  # noqa: RUF012


class PartnerRow(Base):
    """A partner organisation and the Slack Connect channel it shares with us."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID), unique=True)
    slack_team_id: Mapped[str | None] = mapped_column(String(SLACK_ID), index=True)
    slack_enterprise_id: Mapped[str | None] = mapped_column(String(SLACK_ID), index=True)
    launcher_ts: Mapped[str | None] = mapped_column(String(SLACK_ID))
    manager_user_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    code: Mapped[str] = mapped_column(String(CODE), index=True, unique=True)
    # The number of the partner's latest registration: each new one takes the next, with
    # `UPDATE … RETURNING`, which also locks the row, so two submissions never share one.
    last_reference_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RegistrationRow(Base):
    """A registration; `version` guards every update (optimistic concurrency: the repository's
    conditional UPDATE, written through Core)."""

    __tablename__ = "registration"
    __table_args__ = (
        Index(None, "status", "created_at"),
        Index(None, "partner_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    # DealDetails
    company: Mapped[str] = mapped_column(String(200))
    # domain.matching.name_forms(company): the analysed name, read back by conflict lookups
    name_forms: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str] = mapped_column(String(255))
    country: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    close_date: Mapped[date]
    products: Mapped[list[str]] = mapped_column(JSON)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    stage: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    # who and where in the lifecycle
    submitted_by_team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    submitted_by_user_id: Mapped[str] = mapped_column(String(SLACK_ID))
    submitted_by_enterprise_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    decision_due_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_team_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    decided_by_user_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    decided_by_enterprise_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    protected_until: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(String(32))
    decision_note: Mapped[str | None] = mapped_column(Text)
    info_request: Mapped[str | None] = mapped_column(Text)
    submission_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    # `NW-0007` (or `DR-0012`, given before partners had codes): set once, never changed.
    reference: Mapped[str] = mapped_column(String(REFERENCE), index=True, unique=True)
    version: Mapped[int] = mapped_column(Integer)


class AuditEventRow(Base):
    """One recorded move of a registration (append-only)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    at: Mapped[datetime]
    actor_team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    actor_user_id: Mapped[str] = mapped_column(String(SLACK_ID))
    actor_enterprise_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)


class OutboxMessageRow(Base):
    """A Slack message owed, with its delivery bookkeeping (lease, attempts, outcome).

    No foreign keys: the outbox is plumbing and must never block a domain write.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        # The rows a claim looks for; delivered ones pile up and must not be scanned.
        Index(
            "ix_outbox_message_pending",
            "id",
            sqlite_where=text("delivered_at IS NULL AND failed_at IS NULL"),
            postgresql_where=text("delivered_at IS NULL AND failed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    registration_id: Mapped[int | None] = mapped_column(Integer)
    partner_id: Mapped[int | None] = mapped_column(Integer)
    notice: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class MessageRefRow(Base):
    """Where a card of a registration was posted, so it can be edited in place."""

    __tablename__ = "message_ref"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    ts: Mapped[str] = mapped_column(String(SLACK_ID))


class SlackEventReceiptRow(Base):
    """An Events API event id already handled (Slack retries deliveries)."""

    __tablename__ = "slack_event_receipt"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime]


class CrmAccountRow(Base):
    """A direct CRM account, imported (upserted by the CRM's id)."""

    __tablename__ = "crm_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(CRM_ID), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    name_forms: Mapped[str | None] = mapped_column(Text)  # domain.matching.name_forms(name)
    domain: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(100))
    owner_slack_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    owner_email: Mapped[str | None] = mapped_column(String(320))
    is_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    is_named: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[datetime]


class CrmOpportunityRow(Base):
    """An open direct opportunity, imported (upserted by the CRM's id)."""

    __tablename__ = "crm_opportunity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(CRM_ID), unique=True)
    account_external_id: Mapped[str | None] = mapped_column(String(CRM_ID), index=True)
    name: Mapped[str] = mapped_column(String(255))
    name_forms: Mapped[str | None] = mapped_column(Text)  # domain.matching.name_forms(name)
    domain: Mapped[str | None] = mapped_column(String(255))
    stage: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    owner_slack_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    owner_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]
    imported_at: Mapped[datetime]


class CompanyKeyRow(Base):
    """The candidate index: one matching key of a registration, account or opportunity.

    Looked up by `key` (the index also holds the owner, so a lookup reads the index only);
    replaced by owner when the record changes. On SQLite the table is clustered on its
    primary key (WITHOUT ROWID): a rowid table would hold every key a third time.
    """

    __tablename__ = "company_key"
    __table_args__ = (
        Index(None, "key", "owner_kind", "owner_id"),
        {"sqlite_with_rowid": False},
    )

    owner_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)


class RegistrationFindingRow(Base):
    """A claim the conflict check found for a registration, with its evidence."""

    __tablename__ = "registration_finding"
    # Which registrations' evidence names a claim (a decision elsewhere brings it up to date).
    __table_args__ = (Index(None, "claim_kind", "claim_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    claim_kind: Mapped[str] = mapped_column(String(16))
    claim_id: Mapped[int] = mapped_column(Integer)
    strength: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    found_at: Mapped[datetime]


class WorkingNoteRow(Base):
    """A working note: a direct rep's "I'm working this" on a registration's customer (the
    table keeps its first name, `registration_dispute`)."""

    __tablename__ = "registration_dispute"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    by_user_id: Mapped[str] = mapped_column(String(SLACK_ID))
    by_team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)


class CompanyAliasRow(Base):
    """An alias an admin added: two names of one company (the shipped ones are a file)."""

    __tablename__ = "company_alias"
    __table_args__ = (
        UniqueConstraint("name", "alias"),
        # ids are never reused, so (count, highest id) tells every replica about a change
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    alias: Mapped[str] = mapped_column(String(200))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime]
