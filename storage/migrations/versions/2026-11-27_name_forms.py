"""name forms: store each record's analysed name next to it

A conflict lookup scores up to a hundred candidates; analysing each candidate's name again
cost most of a slow check. Registrations, CRM accounts and opportunities now keep
`domain.matching.name_forms(name)` in ``name_forms``, filled here for the existing rows.
A row whose forms are missing, or were written for another name or analysis, is analysed
as before, so a writer that does not fill the column is slower, never wrong.

Revision ID: 2d9b5f7c1e83
Revises: 8a4c6e1f3b27
Create Date: 2026-11-27 20:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.matching import name_forms

revision: str = "2d9b5f7c1e83"
down_revision: str | Sequence[str] | None = "8a4c6e1f3b27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 2_000
_TABLES = (("registration", "company"), ("crm_account", "name"), ("crm_opportunity", "name"))


def upgrade() -> None:
    """Add ``name_forms`` to the three tables and fill it from their names."""
    bind = op.get_bind()
    for table, column in _TABLES:
        op.add_column(table, sa.Column("name_forms", sa.Text(), nullable=True))
        query = sa.text(
            f"SELECT id, {column} AS name FROM {table} WHERE id > :after ORDER BY id LIMIT {_PAGE}"
        )
        update = sa.text(f"UPDATE {table} SET name_forms = :forms WHERE id = :id")
        after = 0
        while rows := list(bind.execute(query, {"after": after})):
            bind.execute(update, [{"id": row.id, "forms": name_forms(row.name)} for row in rows])
            after = rows[-1].id


def downgrade() -> None:
    """Drop the column again (the lookup then analyses every candidate's name)."""
    for table, _ in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("name_forms")
