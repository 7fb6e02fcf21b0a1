"""finding claim index: find the registrations whose evidence names a claim

Revision ID: b4d2f7a91c3e
Revises: 7c3d5a2b8e41
Create Date: 2026-11-28 08:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b4d2f7a91c3e"
down_revision: str | Sequence[str] | None = "7c3d5a2b8e41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """When a registration is decided, the evidence of the others that name it is refreshed:
    they are found by the claim they name."""
    op.create_index(
        "ix_registration_finding_claim_kind_claim_id",
        "registration_finding",
        ["claim_kind", "claim_id"],
    )


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_registration_finding_claim_kind_claim_id", table_name="registration_finding")
