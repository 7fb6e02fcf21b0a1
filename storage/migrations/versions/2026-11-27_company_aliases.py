"""company aliases: other names of a company that admins add (`dibs aliases add`)

Revision ID: 5e1f0a11a5e5
Revises: 5b7e2c4d9a10
Create Date: 2026-11-27 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0a11a5e5"
down_revision: str | Sequence[str] | None = "5b7e2c4d9a10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the `company_alias` table (ids never reused: its revision is count and max id)."""
    op.create_table(
        "company_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_alias")),
        sa.UniqueConstraint("name", "alias", name=op.f("uq_company_alias_name_alias")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Drop the alias table."""
    op.drop_table("company_alias")
