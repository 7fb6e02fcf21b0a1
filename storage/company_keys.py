"""Writing the candidate key index (`company_key`) for registrations, accounts, opportunities."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import cast

from sqlalchemy import Table, delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.conflicts import ClaimKind
from storage.models import CompanyKeyRow
from storage.sql import batches

KEY = cast(Table, CompanyKeyRow.__table__)
KEY_LENGTH = 64


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
        await session.execute(insert(KEY), list(batch))
