"""Partners: linking one to its shared channel (admins only, never the desk), its code, and
whom a caller speaks for."""

from __future__ import annotations

import pytest

from domain.actor import Actor
from domain.errors import InvalidInput, NotAllowed, UnknownPartner
from domain.messages import MessageKind
from domain.services import LinkPartner
from domain.slack_ids import SlackChannelId, SlackTeamId, SlackUserId
from tests.builders import DESK, HOST_TEAM, a_rep, an_admin, an_approver, calling
from tests.services.conftest import World, rep_of, sent

NORTHWIND = LinkPartner(
    "Northwind Traders", "Gold", SlackChannelId("C0NW"), slack_team_id=SlackTeamId("T0NW")
)


class TestLink:
    async def test_a_new_partner_gets_a_code_from_its_name_and_its_launcher(
        self, world: World
    ) -> None:
        partner = await world.app.partners.link(NORTHWIND, calling(an_admin()))

        assert (partner.name, partner.code, partner.channel_id) == (
            "Northwind Traders",
            "NT",
            "C0NW",
        )
        assert await world.app.partners.for_channel("C0NW") == partner
        assert sent(world.storage.take_queued()) == [(MessageKind.launcher, None)]

    async def test_the_clis_operator_is_trusted(self, world: World) -> None:
        partner = await world.app.partners.link(NORTHWIND)

        assert partner.id is not None

    @pytest.mark.parametrize(
        "who", [an_approver(), a_rep(user_id="U0ADMIN")], ids=["approver", "external-same-id"]
    )
    async def test_only_admins_link_from_slack(self, world: World, who: Actor) -> None:
        with pytest.raises(NotAllowed, match="Only Dibs admins"):
            await world.app.partners.link(NORTHWIND, calling(who))

        assert await world.app.partners.all() == []

    @pytest.mark.parametrize("from_slack", [True, False], ids=["admin", "cli"])
    async def test_the_desk_channel_is_never_a_partners(
        self, world: World, from_slack: bool
    ) -> None:
        link = LinkPartner("Northwind Traders", "Gold", DESK.channel_id)

        with pytest.raises(NotAllowed, match="That is the deal-desk channel"):
            await world.app.partners.link(link, calling(an_admin()) if from_slack else None)

        assert world.storage.take_queued() == []

    @pytest.mark.parametrize(
        ("link", "field"),
        [
            (LinkPartner("  ", "Gold", SlackChannelId("C0NW")), "name"),
            (LinkPartner("Northwind", " ", SlackChannelId("C0NW")), "tier"),
            (LinkPartner("Northwind", "Gold", SlackChannelId("C0NW"), code="DR"), "code"),
        ],
        ids=["name", "tier", "reserved-code"],
    )
    async def test_bad_fields_are_refused_by_the_field(
        self, world: World, link: LinkPartner, field: str
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            await world.app.partners.link(link)

        assert refused.value.field == field

    async def test_linking_the_channel_again_updates_the_partner_and_keeps_what_is_not_said(
        self, world: World
    ) -> None:
        first = await world.app.partners.link(
            LinkPartner(
                "Northwind",
                "Gold",
                SlackChannelId("C0NW"),
                slack_team_id=SlackTeamId("T0NW"),
                manager_user_id=SlackUserId("U0CM"),
            )
        )

        again = await world.app.partners.link(
            LinkPartner(" Northwind Traders ", "Platinum", SlackChannelId("C0NW"))
        )

        assert again.id == first.id
        assert (again.name, again.tier, again.code) == ("Northwind Traders", "Platinum", "NO")
        assert (again.slack_team_id, again.manager_user_id) == ("T0NW", "U0CM")
        assert len(await world.app.partners.all()) == 1

    async def test_a_code_another_partner_holds_is_refused_naming_it(self, world: World) -> None:
        await world.app.partners.link(
            LinkPartner("Northwind", "Gold", SlackChannelId("C0NW"), code="NW")
        )

        with pytest.raises(InvalidInput) as refused:
            await world.app.partners.link(
                LinkPartner("Newell", "Gold", SlackChannelId("C0NEWELL"), code="nw")
            )

        assert refused.value.message == "The code NW is taken by Northwind; pick another."
        assert refused.value.field == "code"

    async def test_a_derived_code_another_partner_holds_gets_a_number(self, world: World) -> None:
        await world.app.partners.link(
            LinkPartner("Northwind Traders", "Gold", SlackChannelId("C0NW"))
        )

        nimbus = await world.app.partners.link(
            LinkPartner("Nimbus Technologies", "Gold", SlackChannelId("C0NIMBUS"))
        )

        assert nimbus.code == "NT2"


class TestCheckCode:
    async def test_the_partner_linked_to_the_channel_may_keep_its_own_code(
        self, world: World
    ) -> None:
        await world.app.partners.link(
            LinkPartner("Northwind", "Gold", SlackChannelId("C0NW"), code="NW")
        )

        assert await world.app.partners.check_code(" nw ", channel_id="C0NW") == "NW"

    async def test_another_channel_may_not_take_it(self, world: World) -> None:
        await world.app.partners.link(
            LinkPartner("Northwind", "Gold", SlackChannelId("C0NW"), code="NW")
        )

        with pytest.raises(InvalidInput, match="The code NW is taken by Northwind"):
            await world.app.partners.check_code("NW", channel_id="C0NEWELL")


class TestActing:
    async def test_a_partners_rep_speaks_for_its_organisation(self, world: World) -> None:
        partner, _other = await world.partners(2)

        assert await world.app.partners.acting(rep_of(partner)) == partner

    async def test_a_rep_of_an_organisation_nobody_linked_is_told_so(self, world: World) -> None:
        await world.partners(1)

        with pytest.raises(UnknownPartner, match="not linked to Dibs yet"):
            await world.app.partners.acting(
                calling(a_rep(team_id="T0STRANGER"), SlackChannelId("C0ELSE"))
            )

    async def test_staff_speak_for_the_partner_whose_channel_they_are_in(
        self, world: World
    ) -> None:
        partner, _other = await world.partners(2)
        staff = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0CM"))

        assert await world.app.partners.acting(calling(staff, partner.channel_id)) == partner
        with pytest.raises(UnknownPartner, match="This channel is not linked"):
            await world.app.partners.acting(calling(staff, SlackChannelId("C0UNLINKED")))


class TestReceipts:
    async def test_an_event_is_handled_once_however_often_slack_delivers_it(
        self, world: World
    ) -> None:
        first = await world.app.receipts.first_time("Ev0001")
        again = await world.app.receipts.first_time("Ev0001")
        other = await world.app.receipts.first_time("Ev0002")

        assert (first, again, other) == (True, False, True)
