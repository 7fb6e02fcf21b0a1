"""The unit of work: one transaction per block, rolled back unless committed."""

from __future__ import annotations

import pytest

from storage.uow import SqlAlchemyUnitOfWork
from tests.builders import a_partner
from tests.integration.conftest import NewUow


class TestUnitOfWork:
    async def test_leaving_without_commit_rolls_back(self, new_uow: NewUow) -> None:
        partner = a_partner(id=None)
        async with new_uow() as uow:
            await uow.partners.add(partner)

        async with new_uow() as uow:
            assert partner.id is not None
            assert await uow.partners.get(partner.id) is None

    async def test_an_error_in_the_block_rolls_back(self, new_uow: NewUow) -> None:
        partner = a_partner(id=None)

        async def add_then_fail() -> None:
            async with new_uow() as uow:
                await uow.partners.add(partner)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await add_then_fail()

        async with new_uow() as uow:
            assert await uow.partners.list_all() == []

    async def test_commit_makes_the_work_visible_to_others(self, new_uow: NewUow) -> None:
        partner = a_partner(id=None)
        async with new_uow() as uow:
            await uow.partners.add(partner)
            await uow.commit()

        async with new_uow() as other:
            assert await other.partners.list_all() == [partner]

    async def test_work_after_commit_is_rolled_back(self, new_uow: NewUow) -> None:
        kept, dropped = a_partner(id=None), a_partner(id=None)
        async with new_uow() as uow:
            await uow.partners.add(kept)
            await uow.commit()
            await uow.partners.add(dropped)

        async with new_uow() as uow:
            assert await uow.partners.list_all() == [kept]

    async def test_one_unit_of_work_serves_blocks_in_sequence(
        self, uow: SqlAlchemyUnitOfWork
    ) -> None:
        partner = a_partner(id=None)
        async with uow:
            await uow.partners.add(partner)
            await uow.commit()
        async with uow:
            assert partner.id is not None
            loaded = await uow.partners.get(partner.id)
        async with uow:
            assert await uow.partners.list_all() == [partner]

        assert loaded == partner

    async def test_blocks_cannot_nest(self, uow: SqlAlchemyUnitOfWork) -> None:
        async with uow:
            with pytest.raises(RuntimeError, match="already in use"):
                async with uow:
                    pass  # pragma: no cover

    async def test_commit_outside_a_block_is_refused(self, uow: SqlAlchemyUnitOfWork) -> None:
        with pytest.raises(RuntimeError, match="outside"):
            await uow.commit()
