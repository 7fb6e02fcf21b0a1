"""The partner repository: round trip, updates, lookups by channel and by Slack actor."""

from __future__ import annotations

import pytest

from domain.errors import NotFound
from domain.partner import Partner
from domain.slack_ids import SlackTeamId
from tests.builders import a_partner
from tests.integration.conftest import NewUow


async def store(new_uow: NewUow, *partners: Partner) -> None:
    async with new_uow() as uow:
        for partner in partners:
            await uow.partners.add(partner)
        await uow.commit()


class TestPartners:
    async def test_partner_comes_back_with_every_field(self, new_uow: NewUow) -> None:
        partner = a_partner(
            id=None,
            slack_team_id="T0ACME",
            slack_enterprise_id="E0ACME",
            launcher_ts="1700000000.000100",
        )
        await store(new_uow, partner)

        async with new_uow() as uow:
            assert partner.id is not None
            loaded = await uow.partners.get(partner.id)

        assert loaded == partner

    async def test_add_assigns_an_id(self, new_uow: NewUow) -> None:
        first, second = a_partner(id=None), a_partner(id=None)
        await store(new_uow, first, second)

        assert first.id is not None
        assert second.id is not None
        assert first.id != second.id

    async def test_save_writes_changed_fields(self, new_uow: NewUow) -> None:
        partner = a_partner(id=None)
        await store(new_uow, partner)
        partner.name, partner.tier, partner.launcher_ts = "Acme EMEA", "platinum", "17.1"
        partner.slack_team_id = SlackTeamId("T0NEW")

        async with new_uow() as uow:
            await uow.partners.save(partner)
            await uow.commit()
        async with new_uow() as uow:
            assert partner.id is not None
            loaded = await uow.partners.get(partner.id)

        assert loaded == partner

    async def test_saving_a_missing_partner_is_not_found(self, new_uow: NewUow) -> None:
        async with new_uow() as uow:
            with pytest.raises(NotFound):
                await uow.partners.save(a_partner(id=4242))

    async def test_found_by_channel(self, new_uow: NewUow) -> None:
        partner = a_partner(id=None, channel_id="C0SHARED")
        await store(new_uow, partner, a_partner(id=None))

        async with new_uow() as uow:
            found = await uow.partners.get_by_channel("C0SHARED")
            missing = await uow.partners.get_by_channel("C0NOPE")

        assert found == partner
        assert missing is None

    async def test_list_all_is_by_name(self, new_uow: NewUow) -> None:
        await store(
            new_uow,
            a_partner(id=None, name="Zeta"),
            a_partner(id=None, name="Alpha"),
            a_partner(id=None, name="Mu"),
        )

        async with new_uow() as uow:
            names = [p.name for p in await uow.partners.list_all()]

        assert names == ["Alpha", "Mu", "Zeta"]


class TestFindForActor:
    async def test_matches_team_enterprise_or_channel(self, new_uow: NewUow) -> None:
        by_team = a_partner(id=None, slack_team_id="T0ACME")
        by_enterprise = a_partner(id=None, slack_team_id="T0OTHER", slack_enterprise_id="E0GRID")
        by_channel = a_partner(id=None, channel_id="C0HERE")
        unrelated = a_partner(id=None, slack_team_id="T0ELSE", slack_enterprise_id="E0ELSE")
        await store(new_uow, by_team, by_enterprise, by_channel, unrelated)

        async with new_uow() as uow:
            found = await uow.partners.find_for_actor(
                team_id="T0ACME", enterprise_id="E0GRID", channel_id="C0HERE"
            )

        assert found == [by_team, by_enterprise, by_channel]

    async def test_without_enterprise_or_channel_only_the_team_counts(
        self, new_uow: NewUow
    ) -> None:
        by_team = a_partner(id=None, slack_team_id="T0ACME")
        no_team = a_partner(id=None)  # no recorded team must not match a None enterprise/channel
        await store(new_uow, by_team, no_team)

        async with new_uow() as uow:
            found = await uow.partners.find_for_actor(
                team_id="T0ACME", enterprise_id=None, channel_id=None
            )

        assert found == [by_team]
