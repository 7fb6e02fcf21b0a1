"""Admins' company aliases in SQL, and the key index patches that adding one makes."""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from sqlalchemy import Table, delete, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from domain.company_aliases import AliasRevision, CompanyAlias, NamedOwner
from domain.conflicts import ClaimKind
from storage.company_keys import KEY, KEY_LENGTH, insert_keys
from storage.crm import ACCOUNT, OPPORTUNITY
from storage.models import CompanyAliasRow, RegistrationRow
from storage.sql import batches

ALIAS = cast(Table, CompanyAliasRow.__table__)
_REGISTRATION = cast(Table, RegistrationRow.__table__)


class SqlAlchemyAliasRepository:
    """`domain.ports.AliasRepository` on an AsyncSession (the UoW owns the session)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list_all(self) -> list[CompanyAlias]:
        """Every added alias, oldest first."""
        rows = await self._session.scalars(select(CompanyAliasRow).order_by(CompanyAliasRow.id))
        return [_to_domain(row) for row in rows]

    async def add(self, alias: CompanyAlias) -> CompanyAlias:
        """Insert; returns the alias with its id."""
        row = CompanyAliasRow(
            name=alias.name, alias=alias.alias, added_by=alias.added_by, added_at=alias.added_at
        )
        self._session.add(row)
        await self._session.flush()
        return _to_domain(row)

    async def remove(self, alias_id: int) -> None:
        await self._session.execute(delete(ALIAS).where(ALIAS.c.id == alias_id))

    async def revision(self) -> AliasRevision:
        """(count, highest id): ids are never reused, so any add or remove changes it."""
        statement = select(func.count(), func.coalesce(func.max(ALIAS.c.id), 0))
        row = (await self._session.execute(statement)).one()
        return int(row[0]), int(row[1])

    async def owners_with_keys(self, keys: Collection[str]) -> list[NamedOwner]:
        """Records holding any of `keys`, each once, with the name their keys come from."""
        wanted = sorted({key[:KEY_LENGTH] for key in keys})
        owners: dict[tuple[str, int], str] = {}
        for chunk in batches(wanted):
            found = (
                select(KEY.c.owner_kind, KEY.c.owner_id).where(KEY.c.key.in_(chunk)).distinct()
            ).subquery()
            statement = union_all(
                *(
                    select(found.c.owner_kind, found.c.owner_id, table.c[column])
                    .join(table, table.c.id == found.c.owner_id)
                    .where(found.c.owner_kind == kind.value)
                    for kind, table, column in (
                        (ClaimKind.registration, _REGISTRATION, "company"),
                        (ClaimKind.account, ACCOUNT, "name"),
                        (ClaimKind.opportunity, OPPORTUNITY, "name"),
                    )
                )
            )
            for kind, owner_id, name in await self._session.execute(statement):
                owners[(kind, owner_id)] = name
        return [NamedOwner(kind, owner_id, name) for (kind, owner_id), name in owners.items()]

    async def change_keys(
        self, kind: str, owner_id: int, *, dropped: Collection[str], added: Collection[str]
    ) -> None:
        """Remove and add candidate keys of one record."""
        claim = ClaimKind(kind)
        if dropped:
            gone = sorted({key[:KEY_LENGTH] for key in dropped})
            await self._session.execute(
                delete(KEY).where(
                    KEY.c.owner_kind == claim.value,
                    KEY.c.owner_id == owner_id,
                    KEY.c.key.in_(gone),
                )
            )
        if added:
            await insert_keys(self._session, claim, {owner_id: set(added)})


def _to_domain(row: CompanyAliasRow) -> CompanyAlias:
    return CompanyAlias(
        name=row.name, alias=row.alias, added_by=row.added_by, added_at=row.added_at, id=row.id
    )
