"""One owner per customer, through the real app: Approve never makes a second owner unseen,
from the review card, App Home or a stale message, and every card of a case tells the truth.

Acme registers Initech first; Globex registers the same customer after it. Both are in
review, each case shows the other, and Approve on either asks the desk to settle who owns
the customer (the same resolutions and reason as the conflict thread).
"""

from __future__ import annotations

import json
from typing import Any

from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef
from domain.crm import Account
from domain.ownership import Resolution
from domain.registration import RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, GLOBEX_CHANNEL, World, text_of
from tests.slack.moves import approve_through_case, evidence, reject
from tests.slack.one_owner import approve_buttons

DIRECT = Account(
    "0011INITECH", "Initech Corporation", domain="initech.com", owner_slack_id="U0DORA"
)
REASON = "Globex ran the pilot; Acme sent a price list."


async def two_partners_register(world: World) -> None:
    """Acme registers Initech (the first), then Globex registers the same website."""
    await world.link_globex()
    await world.register()
    await world.delivered()
    await world.register(p.OTHER_PARTNER_REP, channel_id=GLOBEX_CHANNEL, amount="$31,415")
    await world.delivered()


async def reference(world: World, registration_id: int) -> str:
    return (await world.registration(registration_id)).reference


def choices(view: dict[str, Any]) -> list[str]:
    """The resolutions the choice offers, in order."""
    [choice] = [b for b in view["blocks"] if b.get("block_id") == Block.resolve_choice]
    return [option["value"] for option in choice["element"]["options"]]


async def click_approve(world: World, button: dict[str, Any], **where: Any) -> None:
    payload = p.block_actions(
        p.APPROVER, action_id=Action.review_approve, value=button["value"], **where
    )
    reply = await world.slack.send_interaction(payload)
    assert reply.status == 200


async def opened_choices(world: World, count: int = 1) -> dict[str, Any]:
    """The `count`-th choice of how to settle a case that Dibs opened."""
    opened = await world.fake.wait_for(
        "views.open",
        count=count,
        where=lambda c: c.params["view"]["callback_id"] == Callback.resolve_submit,
    )
    view: dict[str, Any] = opened[-1].params["view"]
    return view


async def approvals(world: World, registration_id: int) -> list[str]:
    return [a for a, _ in await world.audit_actions(registration_id) if a == "approve"]


async def test_approve_on_the_review_card_opens_the_case_and_approves_nothing(
    world: World,
) -> None:
    await two_partners_register(world)
    second = await reference(world, 2)
    [button] = approve_buttons(await world.card(DESK, second))

    await click_approve(world, button, channel_id=DESK)

    view = await opened_choices(world)
    shown = text_of(view)
    assert "two owners" in shown
    assert "Acme Resellers" in shown  # the claim that still holds, named to the desk
    assert choices(view)[0] == Resolution.award_existing.value  # Acme was first
    assert Resolution.co_sell.value not in choices(view)  # between partners it means nothing
    assert (await world.registration(2)).status is RegistrationStatus.under_review
    assert await approvals(world, 2) == []


async def test_the_earlier_registration_is_a_case_too_and_its_approve_asks_the_same(
    world: World,
) -> None:
    await two_partners_register(world)
    first, second = await reference(world, 1), await reference(world, 2)
    review = await world.card(DESK, first)
    assert "Conflict check:* 1 conflict" in text_of(review)
    assert second in text_of(await evidence(world, first))

    [button] = approve_buttons(review)
    await click_approve(world, button, channel_id=DESK)

    view = await opened_choices(world)
    assert Resolution.award_partner.value in choices(view)
    assert await approvals(world, 1) == []


async def test_a_stale_approve_clicked_long_after_still_asks_for_the_case(world: World) -> None:
    await world.link_globex()
    await world.register()
    await world.delivered()
    first = await reference(world, 1)
    [stale] = approve_buttons(await world.card(DESK, first))  # before anyone overlapped it
    assert "no existing claim found" in text_of(await world.card(DESK, first))

    await world.register(p.OTHER_PARTNER_REP, channel_id=GLOBEX_CHANNEL)
    await world.delivered()
    await click_approve(world, stale, channel_id=DESK)

    await opened_choices(world)
    assert (await world.registration(1)).status is RegistrationStatus.under_review
    assert "Conflict check:* 1 conflict" in text_of(await world.card(DESK, first))


async def test_settling_from_the_choice_leaves_one_owner_and_every_card_says_so(
    world: World,
) -> None:
    await two_partners_register(world)
    first, second = await reference(world, 1), await reference(world, 2)

    await approve_through_case(world, 2, Resolution.award_partner, REASON)

    assert (await world.registration(2)).status is RegistrationStatus.approved
    assert (await world.registration(1)).status is RegistrationStatus.rejected
    assert "Approved by" in text_of(await world.card(DESK, second))
    assert "Rejected by" in text_of(await world.card(DESK, first))
    assert "Settled" in text_of(await world.card(DESK, first)) or any(
        "Settled" in text_of(m) for m in await world.thread_replies(DESK, first)
    )
    assert "is approved" in world.fake.all_text_sent_to(GLOBEX_CHANNEL)
    assert "was not approved" in world.fake.all_text_sent_to(ACME_CHANNEL)
    for secret in (second, "Globex", "31,415", REASON):
        assert secret not in world.fake.all_text_sent_to(ACME_CHANNEL), secret


async def test_a_missing_choice_is_sent_back_next_to_it(world: World) -> None:
    await two_partners_register(world)
    [button] = approve_buttons(await world.card(DESK, await reference(world, 2)))
    await click_approve(world, button, channel_id=DESK)
    view = await opened_choices(world)

    reply = await world.submit(
        p.APPROVER,
        Callback.resolve_submit,
        p.values({Block.resolve_reason: p.text_value(REASON)}),
        metadata=view["private_metadata"],
    )

    assert reply.json()["errors"] == {Block.resolve_choice: "Choose how to settle the conflict."}
    assert (await world.registration(2)).status is RegistrationStatus.under_review


async def test_beside_a_direct_account_the_partner_can_only_co_sell(world: World) -> None:
    async with world.deps.uow() as uow:
        await uow.crm.upsert_accounts([DIRECT])
        await uow.commit()
    await world.register()
    await world.delivered()
    [button] = approve_buttons(await world.card(DESK, await reference(world, 1)))
    await click_approve(world, button, channel_id=DESK)
    view = await opened_choices(world)
    assert Resolution.award_partner.value not in choices(view)
    assert choices(view)[0] == Resolution.co_sell.value

    reply = await world.submit(
        p.APPROVER,
        Callback.resolve_submit,
        p.values(
            {
                Block.resolve_choice: p.radio_value(Resolution.award_partner.value),
                Block.resolve_reason: p.text_value(REASON),
            }
        ),
        metadata=view["private_metadata"],
    )  # a forged choice the case does not offer

    assert "co-sell" in reply.json()["errors"][Block.resolve_reason].lower()
    assert (await world.registration(1)).status is RegistrationStatus.under_review
    await approve_through_case(world, 1, Resolution.co_sell, "Joint plan with Dora.")
    assert (await world.registration(1)).status is RegistrationStatus.approved
    await world.fake.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == "U0DORA")


async def test_a_likeness_alone_is_approved_after_a_confirmation_naming_it(world: World) -> None:
    await world.link_globex()
    await world.register(company="Microsfot", website="microsfot.example")
    await world.register(
        p.OTHER_PARTNER_REP,
        channel_id=GLOBEX_CHANNEL,
        company="Microsoft Corp",
        website="microsoft.example",
    )
    await world.delivered()
    review = await world.card(DESK, await reference(world, 2))
    assert "1 possible conflict" in text_of(review)
    [button] = approve_buttons(review)
    confirm = button["confirm"]["text"]["text"]
    assert await reference(world, 1) in confirm
    assert "Acme Resellers" in confirm

    await click_approve(world, button, channel_id=DESK)

    await world.status_becomes(RegistrationStatus.approved, 2)
    assert world.views_opened(Callback.resolve_submit) == []


# --- App Home ---------------------------------------------------------------------------------


async def published_home(world: World, count: int = 1) -> dict[str, Any]:
    envelope = p.event_callback(p.app_home_opened(p.APPROVER))
    assert (await world.slack.send_event(envelope)).status == 200
    published = await world.fake.wait_for("views.publish", count=count)
    view: dict[str, Any] = published[-1].params["view"]
    return view


async def test_app_home_marks_the_conflict_and_offers_the_case_not_a_bare_approve(
    world: World,
) -> None:
    await two_partners_register(world)
    await world.register(company="Hooli", website="hooli.example")  # overlaps nothing
    await world.delivered()

    home = await published_home(world)

    shown = json.dumps(home)
    assert shown.count("1 conflict to settle") == 2
    buttons = approve_buttons(home)
    by_id = {RegistrationRef.model_validate_json(b["value"]).id: b for b in buttons}
    assert by_id[1]["text"]["text"] == by_id[2]["text"]["text"] == "Settle conflict…"
    assert by_id[3]["text"]["text"] == "Approve"


async def test_settling_from_app_home_opens_the_case_and_refreshes_the_home_tab(
    world: World,
) -> None:
    await two_partners_register(world)
    home = await published_home(world)
    [settle] = [
        b for b in approve_buttons(home) if RegistrationRef.model_validate_json(b["value"]).id == 1
    ]

    await click_approve(world, settle, view={"type": "home", "blocks": home["blocks"]})
    view = await opened_choices(world)
    assert json.loads(view["private_metadata"])["home"] is True
    reply = await world.submit(
        p.APPROVER,
        Callback.resolve_submit,
        p.values(
            {
                Block.resolve_choice: p.radio_value(Resolution.award_partner.value),
                Block.resolve_reason: p.text_value("Acme was first and did the work."),
            }
        ),
        metadata=view["private_metadata"],
    )

    assert reply.json() is None
    await world.status_becomes(RegistrationStatus.approved, 1)
    assert (await world.registration(2)).status is RegistrationStatus.rejected
    await world.fake.wait_for("views.publish", count=2)
    assert "Waiting for a decision (0)" in json.dumps(world.fake.home_views[p.APPROVER.user_id])


async def test_a_rival_decided_while_the_choice_is_open_is_named_next_to_the_choice(
    world: World,
) -> None:
    await two_partners_register(world)
    [button] = approve_buttons(await world.card(DESK, await reference(world, 2)))
    await click_approve(world, button, channel_id=DESK)
    view = await opened_choices(world)
    await reject(world, 2, "not_qualified")

    reply = await world.submit(
        p.APPROVER,
        Callback.resolve_submit,
        p.values(
            {
                Block.resolve_choice: p.radio_value(Resolution.award_partner.value),
                Block.resolve_reason: p.text_value(REASON),
            }
        ),
        metadata=view["private_metadata"],
    )

    assert "already rejected" in reply.json()["errors"][Block.resolve_reason]
    assert (await world.registration(1)).status is RegistrationStatus.under_review
