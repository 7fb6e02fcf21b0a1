"""crm and conflicts: CRM accounts and opportunities, the candidate key index, findings

Revision ID: 9d9781b0dad1
Revises: f61b4f223266
Create Date: 2026-11-27 16:32:33.293184
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d9781b0dad1"
down_revision: str | Sequence[str] | None = "f61b4f223266"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the CRM tables, the company key index and the registration findings."""
    op.create_table(
        "crm_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("owner_slack_id", sa.String(length=32), nullable=True),
        sa.Column("owner_email", sa.String(length=320), nullable=True),
        sa.Column("is_customer", sa.Boolean(), nullable=False),
        sa.Column("is_named", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_account")),
        sa.UniqueConstraint("external_id", name=op.f("uq_crm_account_external_id")),
    )

    op.create_table(
        "crm_opportunity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("account_external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("owner_slack_id", sa.String(length=32), nullable=True),
        sa.Column("owner_email", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_opportunity")),
        sa.UniqueConstraint("external_id", name=op.f("uq_crm_opportunity_external_id")),
    )
    op.create_index(
        op.f("ix_crm_opportunity_account_external_id"),
        "crm_opportunity",
        ["account_external_id"],
    )

    op.create_table(
        "company_key",
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("owner_kind", "owner_id", "key", name=op.f("pk_company_key")),
    )
    op.create_index(
        op.f("ix_company_key_key_owner_kind_owner_id"),
        "company_key",
        ["key", "owner_kind", "owner_id"],
    )

    op.create_table(
        "registration_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("claim_kind", sa.String(length=16), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("strength", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_registration_finding_registration_id_registration"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_finding")),
    )
    op.create_index(
        op.f("ix_registration_finding_registration_id"),
        "registration_finding",
        ["registration_id"],
    )


def downgrade() -> None:
    """Drop the tables of this revision (the indexes go with them)."""
    op.drop_table("registration_finding")
    op.drop_table("company_key")
    op.drop_table("crm_opportunity")
    op.drop_table("crm_account")
