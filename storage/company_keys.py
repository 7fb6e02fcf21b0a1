"""Writing the candidate key index (`company_key`) for registrations, accounts, opportunities."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import cast

from sqlalchemy import Table, delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.conflicts import ClaimKind
from storage.models import CompanyKeyRow
from storage.sql import asyncpg_connection, batches

KEY = cast(Table, CompanyKeyRow.__table__)
KEY_LENGTH = 64
_INSERT_KEY = insert(KEY)  # built once: a new statement object costs a cache key each time
_COLUMNS = ("owner_kind", "owner_id", "key")
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # what json.dumps escapes with ensure_ascii off


async def replace_keys(
    session: AsyncSession,
    kind: ClaimKind,
    keys_by_owner: Mapping[int, Collection[str]],
    *,
    fresh: bool = False,
) -> None:
    """Make each owner's keys exactly the given ones (`fresh`: the owners have none yet)."""
    owners = list(keys_by_owner)
    if owners and not fresh:
        for chunk in batches(owners):
            await session.execute(
                delete(KEY).where(KEY.c.owner_kind == kind.value, KEY.c.owner_id.in_(chunk))
            )
    rows = [
        {"owner_kind": kind.value, "owner_id": owner, "key": key}
        for owner, keys in keys_by_owner.items()
        for key in sorted({k[:KEY_LENGTH] for k in keys})
    ]
    for batch in batches(rows):
        await session.execute(_INSERT_KEY, list(batch))


async def delete_keys(session: AsyncSession, kind: ClaimKind, owners: Collection[int]) -> None:
    """Drop every key of these owners."""
    for chunk in batches(list(owners)):
        await session.execute(
            delete(KEY).where(KEY.c.owner_kind == kind.value, KEY.c.owner_id.in_(chunk))
        )


async def insert_keys(
    session: AsyncSession, kind: ClaimKind, keys_by_owner: Mapping[int, Collection[str]]
) -> None:
    """Add keys for owners that have none, in bulk: COPY on PostgreSQL, else executemany.

    Written below the ORM (plain tuples of strings and ints) because a CRM import writes
    ten-odd keys per record, millions per file, and per-row statement handling would cost
    more than the database does.
    """
    rows = _rows(kind, keys_by_owner)
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await _copy(connection, rows)
        return
    await connection.exec_driver_sql(
        "INSERT INTO company_key (owner_kind, owner_id, key) VALUES (?, ?, ?)", rows
    )


async def _copy(connection: AsyncConnection, rows: list[tuple[str, int, str]]) -> None:
    """COPY the rows in with asyncpg, inside the session's transaction."""
    driver = await asyncpg_connection(connection)
    await driver.copy_records_to_table("company_key", records=rows, columns=_COLUMNS)


def _rows(
    kind: ClaimKind, keys_by_owner: Mapping[int, Collection[str]]
) -> list[tuple[str, int, str]]:
    value = kind.value  # an enum member's .value is a descriptor call: not once per key
    return [
        (value, owner, key)
        for owner, keys in keys_by_owner.items()
        for key in sorted({k[:KEY_LENGTH] for k in keys})
    ]


def encode_keys(keys: Collection[str]) -> str:
    """One owner's keys as stored (cut to `KEY_LENGTH`, distinct, sorted), as a JSON array.

    A bulk import sends each record's keys to the database in this form and lets the
    database unpack them (`insert_encoded_keys`), which costs far less than binding ten-odd
    (kind, owner, key) rows per record one by one. Keys are nearly always word characters,
    dots and colons, which JSON takes as they are: joined in quotes, they skip most of
    `json.dumps`'s work; any that JSON must escape go through it.
    """
    stored = sorted({k[:KEY_LENGTH] for k in keys})
    if _JSON_ESCAPED.search("".join(stored)):
        return json.dumps(stored, ensure_ascii=False)
    return '["' + '", "'.join(stored) + '"]' if stored else "[]"


async def insert_encoded_keys(
    connection: AsyncConnection, kind: ClaimKind, owners: Sequence[int], encoded: Sequence[str]
) -> None:
    """Add the keys of owners that have none: `encoded[i]` (`encode_keys`) for `owners[i]`."""
    if not owners:
        return
    if connection.dialect.name == "postgresql":
        driver = await asyncpg_connection(connection)
        await driver.execute(
            "INSERT INTO company_key (owner_kind, owner_id, key) "
            "SELECT $1, o.id, k.key FROM unnest($2::int[], $3::text[]) AS o(id, keys) "
            "CROSS JOIN LATERAL jsonb_array_elements_text(o.keys::jsonb) AS k(key)",
            kind.value,
            list(owners),
            list(encoded),
        )
        return
    await connection.exec_driver_sql(
        "INSERT INTO company_key (owner_kind, owner_id, key) SELECT ?, ?, value FROM json_each(?)",
        [(kind.value, owner, keys) for owner, keys in zip(owners, encoded, strict=True)],
    )
