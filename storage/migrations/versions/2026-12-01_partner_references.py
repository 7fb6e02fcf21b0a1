"""partner references: each partner numbers its registrations in its own sequence

A reference made from the global registration id (`DR-0012`) told every partner how many
registrations the others file. Partners now have a short unique `code` (derived here from
their names, as `dibs partners add` does without `--code`) and a counter of the numbers they
gave out; each registration stores its `reference`, given once and never changed. Existing
registrations keep the reference people were told, `DR-{id:04d}` (the `DR` code is reserved,
so no partner's own sequence can clash with one); every partner's counter starts at 0, so
its next registration is `CODE-0001`.

Revision ID: e5a8c2d41f90
Revises: b4d2f7a91c3e
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.partner import derive_code
from domain.references import legacy_reference

revision: str = "e5a8c2d41f90"
down_revision: str | Sequence[str] | None = "b4d2f7a91c3e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 2_000
_COLUMNS = (("partner", "code", 6), ("registration", "reference", 32))


def upgrade() -> None:
    """Add the columns, give existing partners codes and registrations their old reference.

    The new columns are added NOT NULL with a placeholder default and filled in place: SQLite
    can only make a column NOT NULL by rebuilding its table, which the foreign keys pointing
    at `partner` and `registration` forbid inside the migration's transaction. PostgreSQL
    drops the placeholder afterwards; on SQLite it stays, and no insert ever relies on it
    (the unique indexes would refuse a second empty value anyway).
    """
    bind = op.get_bind()
    for table, column, length in _COLUMNS:
        op.add_column(
            table, sa.Column(column, sa.String(length=length), server_default="", nullable=False)
        )
    op.add_column(
        "partner",
        sa.Column("last_reference_number", sa.Integer(), server_default="0", nullable=False),
    )

    taken: list[str] = []
    set_code = sa.text("UPDATE partner SET code = :code WHERE id = :id")
    for row in bind.execute(sa.text("SELECT id, name FROM partner ORDER BY id")).all():
        code = derive_code(row.name, taken)
        taken.append(code)
        bind.execute(set_code, {"id": row.id, "code": code})

    query = sa.text(f"SELECT id FROM registration WHERE id > :after ORDER BY id LIMIT {_PAGE}")
    set_reference = sa.text("UPDATE registration SET reference = :reference WHERE id = :id")
    after = 0
    while rows := list(bind.execute(query, {"after": after})):
        bind.execute(
            set_reference, [{"id": row.id, "reference": legacy_reference(row.id)} for row in rows]
        )
        after = rows[-1].id

    for table, column, length in _COLUMNS:
        if bind.dialect.name != "sqlite":
            op.alter_column(
                table, column, existing_type=sa.String(length=length), server_default=None
            )
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=True)


def downgrade() -> None:
    """Drop the codes, counters and stored references (references are ids again)."""
    for table, column, _ in _COLUMNS:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    # a plain DROP COLUMN (SQLite 3.35+): a batch rebuild would trip the foreign keys
    op.execute("ALTER TABLE registration DROP COLUMN reference")
    op.execute("ALTER TABLE partner DROP COLUMN last_reference_number")
    op.execute("ALTER TABLE partner DROP COLUMN code")
