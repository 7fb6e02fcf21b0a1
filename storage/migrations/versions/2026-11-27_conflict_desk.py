"""conflict desk: a partner's channel manager, and direct reps' disputes of a registration

Revision ID: c0f1d35c0de4
Revises: 9d9781b0dad1
Create Date: 2026-11-27 18:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0f1d35c0de4"
down_revision: str | Sequence[str] | None = "9d9781b0dad1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add `partner.manager_user_id` and the `registration_dispute` table."""
    with op.batch_alter_table("partner") as batch:
        batch.add_column(sa.Column("manager_user_id", sa.String(length=32), nullable=True))
    op.create_table(
        "registration_dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.String(length=32), nullable=False),
        sa.Column("by_team_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_registration_dispute_registration_id_registration"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_dispute")),
    )
    op.create_index(
        op.f("ix_registration_dispute_registration_id"),
        "registration_dispute",
        ["registration_id"],
    )


def downgrade() -> None:
    """Drop the dispute table and the manager column."""
    op.drop_table("registration_dispute")
    with op.batch_alter_table("partner") as batch:
        batch.drop_column("manager_user_id")
