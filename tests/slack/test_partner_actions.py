"""What a partner does from its shared channel besides registering: withdraw and look up."""

from __future__ import annotations

import json

from bot.ids import Action, Callback
from bot.views.common import RegistrationRef
from domain.registration import RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, GLOBEX_CHANNEL, World, text_of


async def withdraw(world: World, person: p.Person = p.PARTNER_REP) -> None:
    registration = await world.registration()
    ref = RegistrationRef(id=1, version=registration.version).model_dump_json()
    reply = await world.click(person, Action.card_withdraw, ref, channel_id=ACME_CHANNEL)
    assert reply.status == 200


async def test_partner_withdraws_its_registration(world: World) -> None:
    await world.register()
    await world.delivered()

    await withdraw(world)

    registration = await world.status_becomes(RegistrationStatus.withdrawn)
    assert registration.status is RegistrationStatus.withdrawn
    card = text_of(await world.card(ACME_CHANNEL))
    assert "Withdrawn" in card
    assert Action.card_withdraw not in card
    review = text_of(await world.card(DESK))
    assert "Withdrawn by the partner" in review
    assert Action.review_approve not in review
    assert (await world.audit_actions())[-1] == ("withdraw", p.PARTNER_REP.user_id)


async def test_withdrawing_twice_says_it_is_already_withdrawn(world: World) -> None:
    await world.register()
    await world.delivered()
    await withdraw(world)
    await world.status_becomes(RegistrationStatus.withdrawn)
    events = len(await world.audit_actions())

    await withdraw(world)

    [told] = await world.fake.wait_for_hook_posts()
    assert "already withdrawn" in told.body["text"]
    assert told.body["response_type"] == "ephemeral"
    assert len(await world.audit_actions()) == events


async def test_my_registrations_lists_only_the_partners_own(world: World) -> None:
    await world.link_globex()
    await world.register(company="Initech", amount="84500")
    await world.register(
        p.OTHER_PARTNER_REP,
        channel_id=GLOBEX_CHANNEL,
        company="Umbrella Corp",
        website="umbrella.example",
        amount="777777",
    )
    await world.delivered()

    reply = await world.click(p.PARTNER_REP, Action.launcher_mine, "1", channel_id=ACME_CHANNEL)

    assert reply.status == 200
    [updated] = await world.fake.wait_for("views.update")
    view = updated.params["view"]
    assert view["callback_id"] == Callback.my_registrations
    shown = json.dumps(view)
    assert "Acme Resellers" in shown
    assert "AR-0001" in shown
    assert "Initech" in shown
    assert "GC-0001" not in shown
    assert "Umbrella" not in shown
    assert "777" not in shown
    assert "Globex" not in shown


async def test_the_other_partner_sees_only_its_own_in_my_registrations(world: World) -> None:
    await world.link_globex()
    await world.register(company="Initech")
    await world.register(
        p.OTHER_PARTNER_REP, channel_id=GLOBEX_CHANNEL, company="Umbrella Corp", amount="777777"
    )

    await world.click(p.OTHER_PARTNER_REP, Action.launcher_mine, "2", channel_id=GLOBEX_CHANNEL)

    [updated] = await world.fake.wait_for("views.update")
    shown = json.dumps(updated.params["view"])
    assert "GC-0001" in shown
    assert "Umbrella Corp" in shown
    assert "AR-0001" not in shown
    assert "Initech" not in shown
    assert "Acme" not in shown


async def test_my_registrations_from_the_other_partners_channel_shows_its_own_list(
    world: World,
) -> None:
    """A Globex rep who is also in Acme's channel is still Globex: Acme's list stays hidden."""
    await world.link_globex()
    await world.register(company="Initech")

    await world.click(p.OTHER_PARTNER_REP, Action.launcher_mine, "1", channel_id=ACME_CHANNEL)

    [updated] = await world.fake.wait_for("views.update")
    shown = json.dumps(updated.params["view"])
    assert "Initech" not in shown
    assert "AR-0001" not in shown
