"""Registration references: each partner numbers its own, storage gives them once, and a typed
reference (new or legacy) finds its registration."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.errors import InvalidInput
from domain.partner import Partner
from domain.registration import Registration
from domain.services import LinkPartner
from domain.slack_ids import SlackChannelId
from storage.models import PartnerRow, RegistrationRow
from tests.builders import a_partner, a_registration, services
from tests.integration.conftest import NewUow


async def stored_partner(new_uow: NewUow, code: str, **fields: object) -> Partner:
    partner = a_partner(id=None, code=code, **fields)
    async with new_uow() as uow:
        await uow.partners.add(partner)
        await uow.commit()
    return partner


async def registered(new_uow: NewUow, partner: Partner) -> Registration:
    assert partner.id is not None
    registration = a_registration(partner.id, id=None)
    async with new_uow() as uow:
        await uow.registrations.add(registration)
        await uow.commit()
    return registration


async def make_legacy(engine: AsyncEngine, registration: Registration) -> None:
    """What the migration did to a registration stored before partners had codes."""
    async with engine.begin() as connection:
        await connection.execute(
            update(RegistrationRow)
            .where(RegistrationRow.id == registration.id)
            .values(reference=f"DR-{registration.id:04d}")
        )


class TestNumbering:
    async def test_each_partner_numbers_its_own_registrations_from_one(
        self, new_uow: NewUow
    ) -> None:
        acme, globex = await stored_partner(new_uow, "AR"), await stored_partner(new_uow, "GC")

        references = [
            (await registered(new_uow, partner)).reference
            for partner in (acme, globex, acme, acme, globex)
        ]

        assert references == ["AR-0001", "GC-0001", "AR-0002", "AR-0003", "GC-0002"]

    async def test_the_reference_is_stored_and_read_back(self, new_uow: NewUow) -> None:
        partner = await stored_partner(new_uow, "NW")
        registration = await registered(new_uow, partner)

        async with new_uow() as uow:
            assert registration.id is not None
            loaded = await uow.registrations.get(registration.id)

        assert loaded is not None
        assert loaded.reference == registration.reference == "NW-0001"

    async def test_a_rolled_back_submission_gives_its_number_to_the_next(
        self, new_uow: NewUow
    ) -> None:
        partner = await stored_partner(new_uow, "NW")
        assert partner.id is not None
        async with new_uow() as uow:
            await uow.registrations.add(a_registration(partner.id, id=None))  # never committed

        assert (await registered(new_uow, partner)).reference == "NW-0001"

    async def test_past_9999_a_number_just_gets_more_digits(
        self, new_uow: NewUow, engine: AsyncEngine
    ) -> None:
        partner = await stored_partner(new_uow, "NW")
        async with engine.begin() as connection:
            await connection.execute(
                update(PartnerRow)
                .where(PartnerRow.id == partner.id)
                .values(last_reference_number=9999)
            )

        assert (await registered(new_uow, partner)).reference == "NW-10000"

    async def test_a_new_code_numbers_future_registrations_and_keeps_given_references(
        self, new_uow: NewUow
    ) -> None:
        partner = await stored_partner(new_uow, "NW")
        first = await registered(new_uow, partner)
        partner.code = "NWT"
        async with new_uow() as uow:
            await uow.partners.save(partner)
            await uow.commit()

        second = await registered(new_uow, partner)

        async with new_uow() as uow:
            assert first.id is not None
            reloaded = await uow.registrations.get(first.id)
        assert reloaded is not None
        assert (reloaded.reference, second.reference) == ("NW-0001", "NWT-0002")

    async def test_references_are_unique(self, new_uow: NewUow, engine: AsyncEngine) -> None:
        partner = await stored_partner(new_uow, "NW")
        first, second = await registered(new_uow, partner), await registered(new_uow, partner)

        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    update(RegistrationRow)
                    .where(RegistrationRow.id == second.id)
                    .values(reference=first.reference)
                )

    async def test_two_partners_cannot_share_a_code(self, new_uow: NewUow) -> None:
        await stored_partner(new_uow, "NW")

        async with new_uow() as uow:
            with pytest.raises(InvalidInput, match="The code NW was just taken"):
                await uow.partners.add(a_partner(id=None, code="NW"))


class TestCodesAreNeverReused:
    async def test_a_code_that_numbered_another_partners_registrations_is_refused(
        self, new_uow: NewUow
    ) -> None:
        northwind = await services(new_uow).partners.link(
            LinkPartner("Northwind Traders", "Gold", SlackChannelId("C0NW"), code="NW")
        )
        await registered(new_uow, northwind)
        await services(new_uow).partners.link(
            LinkPartner("Northwind Traders", "Gold", SlackChannelId("C0NW"), code="NWT")
        )

        with pytest.raises(InvalidInput) as refused:
            await services(new_uow).partners.link(
                LinkPartner("Newell Wholesale", "Gold", SlackChannelId("C0NEWELL"), code="NW")
            )

        assert refused.value.message == ("The code NW is taken by Northwind Traders; pick another.")

    async def test_a_derived_code_skips_codes_used_in_references(self, new_uow: NewUow) -> None:
        northwind = await services(new_uow).partners.link(
            LinkPartner("Northwind Traders", "Gold", SlackChannelId("C0NW"))
        )
        await registered(new_uow, northwind)
        await services(new_uow).partners.link(
            LinkPartner("Northwind Traders", "Gold", SlackChannelId("C0NW"), code="NWT")
        )

        newcomer = await services(new_uow).partners.link(
            LinkPartner("Nimbus Technologies", "Gold", SlackChannelId("C0NIMBUS"))
        )

        assert (northwind.code, newcomer.code) == ("NT", "NT2")

    async def test_a_partner_may_take_back_its_own_earlier_code(self, new_uow: NewUow) -> None:
        link = LinkPartner("Northwind Traders", "Gold", SlackChannelId("C0NW"), code="NW")
        northwind = await services(new_uow).partners.link(link)
        await registered(new_uow, northwind)
        await services(new_uow).partners.link(
            LinkPartner("Northwind Traders", "Gold", SlackChannelId("C0NW"), code="NWT")
        )
        await registered(new_uow, northwind)

        back = await services(new_uow).partners.link(link)

        assert (await registered(new_uow, back)).reference == "NW-0003"


class TestLookUp:
    async def test_finds_a_reference_in_any_case_with_spaces_around(self, new_uow: NewUow) -> None:
        partner = await stored_partner(new_uow, "NW")
        await registered(new_uow, partner)
        seventh = [await registered(new_uow, partner) for _ in range(6)][-1]

        async with new_uow() as uow:
            found = [
                await uow.registrations.get_by_reference(typed)
                for typed in ("NW-0007", " nw-0007 ", "Nw-7")
            ]

        assert [r.id if r else None for r in found] == [seventh.id] * 3

    async def test_a_legacy_reference_finds_the_registration_that_was_given_it(
        self, new_uow: NewUow, engine: AsyncEngine
    ) -> None:
        partner = await stored_partner(new_uow, "NW")
        old = [await registered(new_uow, partner) for _ in range(12)][-1]
        await make_legacy(engine, old)

        async with new_uow() as uow:
            found = [
                await uow.registrations.get_by_reference(typed)
                for typed in ("DR-0012", "DR-12", "dr-012")
            ]

        assert old.id == 12
        assert [r.reference if r else None for r in found] == ["DR-0012"] * 3

    async def test_a_legacy_reference_never_finds_a_registration_numbered_since(
        self, new_uow: NewUow
    ) -> None:
        partner = await stored_partner(new_uow, "NW")
        registration = await registered(new_uow, partner)

        async with new_uow() as uow:
            assert registration.id == 1
            assert await uow.registrations.get_by_reference("DR-0001") is None

    @pytest.mark.parametrize("typed", ["NW-0099", "GC-0001", "Acme", "", "NW"])
    async def test_anything_else_finds_nothing(self, new_uow: NewUow, typed: str) -> None:
        partner = await stored_partner(new_uow, "NW")
        await registered(new_uow, partner)

        async with new_uow() as uow:
            assert await uow.registrations.get_by_reference(typed) is None
