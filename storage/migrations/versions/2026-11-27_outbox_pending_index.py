"""outbox pending index: claims find the undelivered rows without scanning delivered ones

Revision ID: 7c3d9e2a4b61
Revises: 5e1f0a11a5e5
Create Date: 2026-11-27 20:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3d9e2a4b61"
down_revision: str | Sequence[str] | None = "5e1f0a11a5e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "delivered_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    """A partial index on the pending rows (SQLite and PostgreSQL both have them)."""
    op.create_index(
        "ix_outbox_message_pending",
        "outbox_message",
        ["id"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )


def downgrade() -> None:
    """Drop the partial index."""
    op.drop_index("ix_outbox_message_pending", table_name="outbox_message")
