"""Partners in SQL: the `domain.ports.PartnerRepository` (rows never leave this module)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import InvalidInput, NotFound
from domain.partner import Partner
from storage.models import PartnerRow
from storage.sql import rows_affected

_PARTNER = cast(Table, PartnerRow.__table__)
_FOR_ACTOR = (
    select(_PARTNER)
    .where(
        or_(
            _PARTNER.c.slack_team_id == bindparam("team"),
            _PARTNER.c.slack_enterprise_id == bindparam("enterprise"),
            _PARTNER.c.channel_id == bindparam("channel"),
        )
    )
    .order_by(_PARTNER.c.id)
)  # a NULL enterprise or channel matches nothing, as an omitted condition would
_PARTNER_BY_ID = select(_PARTNER).where(_PARTNER.c.id == bindparam("id"))
_PARTNERS_BY_IDS = select(_PARTNER).where(_PARTNER.c.id.in_(bindparam("ids", expanding=True)))
_PARTNER_BY_CHANNEL = select(_PARTNER).where(_PARTNER.c.channel_id == bindparam("channel"))


class SqlAlchemyPartnerRepository:
    """`domain.ports.PartnerRepository` on an AsyncSession."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, partner: Partner) -> None:
        """Insert the partner; assigns `partner.id`."""
        if partner.id is not None:
            raise ValueError(f"partner {partner.id} is already stored")
        if partner.code is None:
            raise ValueError("a partner needs a code before it is stored")
        row = _partner_to_row(partner)
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError as error:
            raise _code_taken(error, partner) from error
        partner.id = row.id

    async def save(self, partner: Partner) -> None:
        """Write the partner's fields; NotFound if it no longer exists."""
        statement = (
            update(PartnerRow)
            .where(PartnerRow.id == partner.id)
            .values(**_partner_columns(partner))
            .execution_options(synchronize_session=False)
        )
        try:
            result = await self._session.execute(statement)
        except IntegrityError as error:
            raise _code_taken(error, partner) from error
        if rows_affected(result) != 1:
            raise NotFound("That partner no longer exists.")

    async def get(self, partner_id: int) -> Partner | None:
        """The partner, or None."""
        found = await self._list(_PARTNER_BY_ID, {"id": partner_id})
        return found[0] if found else None

    async def get_many(self, partner_ids: Collection[int]) -> dict[int, Partner]:
        """The partners that exist among `partner_ids`, by id (one query)."""
        if not partner_ids:
            return {}
        found = await self._list(_PARTNERS_BY_IDS, {"ids": list(partner_ids)})
        return {partner.id: partner for partner in found if partner.id is not None}

    async def get_by_channel(self, channel_id: str) -> Partner | None:
        """The partner linked to a shared channel, or None."""
        found = await self._list(_PARTNER_BY_CHANNEL, {"channel": channel_id})
        return found[0] if found else None

    async def list_all(self) -> list[Partner]:
        """All partners by name."""
        return await self._list(select(_PARTNER).order_by(_PARTNER.c.name, _PARTNER.c.id))

    async def find_for_actor(
        self, *, team_id: str, enterprise_id: str | None, channel_id: str | None
    ) -> list[Partner]:
        """Partners sharing the actor's team, enterprise or channel (the domain picks one)."""
        params = {
            "team": team_id,
            "enterprise": enterprise_id or None,
            "channel": channel_id or None,
        }
        return [_partner_to_domain(row) for row in await self._session.execute(_FOR_ACTOR, params)]

    async def _list(self, statement: Any, params: dict[str, Any] | None = None) -> list[Partner]:
        return [_partner_to_domain(row) for row in await self._session.execute(statement, params)]


def _code_taken(error: IntegrityError, partner: Partner) -> Exception:
    """A partner code another partner took in the meantime (the service checked it before)
    is the user's to fix; any other integrity error is a bug and stays one."""
    if "code" not in str(error.orig):
        return error
    return InvalidInput(
        f"The code {partner.code} was just taken by another partner; pick another.",
        field="code",
    )


def _partner_columns(partner: Partner) -> dict[str, Any]:
    return {
        "name": partner.name,
        "tier": partner.tier,
        "channel_id": partner.channel_id,
        "slack_team_id": partner.slack_team_id,
        "slack_enterprise_id": partner.slack_enterprise_id,
        "launcher_ts": partner.launcher_ts,
        "manager_user_id": partner.manager_user_id,
        "code": partner.code,
    }


def _partner_to_row(partner: Partner) -> PartnerRow:
    return PartnerRow(**_partner_columns(partner))


def _partner_to_domain(row: Any) -> Partner:
    return Partner(
        id=row.id,
        name=row.name,
        tier=row.tier,
        channel_id=row.channel_id,
        slack_team_id=row.slack_team_id,
        slack_enterprise_id=row.slack_enterprise_id,
        launcher_ts=row.launcher_ts,
        manager_user_id=row.manager_user_id,
        code=row.code,
    )
