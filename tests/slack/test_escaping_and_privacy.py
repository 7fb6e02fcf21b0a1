"""Typed text is escaped in mrkdwn; no partner sees another's claim or the desk's people."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from bot.ids import Action, Block, Callback
from bot.views.common import Message, RegistrationRef
from bot.views.partner_card import OVERLAP_LINE, build_partner_card
from domain.amounts import format_amount
from domain.crm import Account
from domain.registration import RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import (
    ACME_CHANNEL,
    DESK,
    GLOBEX_CHANNEL,
    SEE_OVERLAPS,
    World,
    form_values,
    text_of,
)

EVIL = "<!channel> & <http://evil.example|click>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;http://evil.example|click&gt;"
RAW_MARKUP = ("<!channel>", "<http://evil.example")


def mrkdwn_strings(value: Any) -> Iterator[str]:
    """Every string Slack parses as mrkdwn: mrkdwn text objects and a message's `text`."""
    if isinstance(value, dict):
        text = value.get("text")
        if isinstance(text, str) and value.get("type") != "plain_text":
            yield text
        for key, item in value.items():
            if not (key == "text" and isinstance(item, str)):
                yield from mrkdwn_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from mrkdwn_strings(item)


def assert_escaped(surface: Any, what: str) -> None:
    """No mrkdwn in `surface` carries the raw markup; the escaped company shows instead."""
    texts = list(mrkdwn_strings(surface))
    for text in texts:
        for raw in RAW_MARKUP:
            assert raw not in text, f"{what}: raw {raw!r} in mrkdwn {text!r}"
    assert any(ESCAPED in text for text in texts), f"{what}: the escaped company is missing"


async def evil_registration(world: World) -> dict[str, Any]:
    reply = await world.register(company=EVIL)
    assert reply.status == 200
    await world.delivered()
    body: dict[str, Any] = reply.json()
    return body


async def test_cards_escape_the_company_name(world: World) -> None:
    await evil_registration(world)

    assert_escaped(await world.card(ACME_CHANNEL), "partner card")
    assert_escaped(await world.card(DESK), "review card")
    for call in world.fake.calls_to("chat.postMessage")[1:]:  # after the launcher
        assert_escaped(call.params, "posted card")


async def test_the_submitted_modal_escapes_the_company_name(world: World) -> None:
    body = await evil_registration(world)

    assert_escaped(body["view"], "submitted view")


async def test_notices_escape_the_company_name(world: World) -> None:
    await evil_registration(world)

    await world.decide(p.APPROVER, Action.review_approve, await world.registration())
    await world.status_becomes(RegistrationStatus.approved)

    [partner_notice] = await world.thread_replies(ACME_CHANNEL)
    assert_escaped(partner_notice, "partner notice")
    for call in world.fake.calls_to("chat.update"):
        assert_escaped(call.params, "edited card")
    [desk_notice] = await world.thread_replies(DESK)
    for text in mrkdwn_strings(desk_notice):
        assert "<!channel>" not in text


async def test_app_home_and_lists_escape_the_company_name(world: World) -> None:
    await evil_registration(world)

    await world.slack.send_event(p.event_callback(p.app_home_opened(p.APPROVER)))
    await world.click(p.PARTNER_REP, Action.launcher_mine, "1", channel_id=ACME_CHANNEL)
    await world.slack.send_command(
        p.slash_command(
            p.INTERNAL_REP, text="list", channel_id=DESK, response_url=world.fake.hook_url()
        )
    )

    await world.fake.wait_for("views.publish")
    assert_escaped(world.fake.home_views[p.APPROVER.user_id], "App Home")
    [mine] = await world.fake.wait_for("views.update")
    assert_escaped(mine.params["view"], "My registrations")
    [listing] = await world.fake.wait_for_hook_posts()
    assert_escaped(listing.body, "/dibs list")


async def test_decision_modals_escape_the_company_name(world: World) -> None:
    await evil_registration(world)

    await world.decide(p.APPROVER, Action.review_reject, await world.registration())
    await world.decide(p.APPROVER, Action.review_request_info, await world.registration())

    opened = await world.fake.wait_for("views.open", count=2)
    for call in opened:
        assert_escaped(call.params["view"], call.params["view"]["callback_id"])


async def test_plain_text_headers_show_the_name_as_typed(world: World) -> None:
    """plain_text is never parsed for mentions or links, so it carries the name verbatim."""
    await evil_registration(world)

    [header] = [b for b in (await world.card(ACME_CHANNEL))["blocks"] if b["type"] == "header"]

    assert header["text"]["type"] == "plain_text"
    assert header["text"]["text"] == f"AR-0001 · {EVIL}"


async def test_setup_confirmation_escapes_the_partner_name_and_tier(world: World) -> None:
    channel = "C0EVILCO"
    world.fake.add_channel(channel, connected_team_ids=[p.HOST_TEAM, "T0EVILCO"])

    reply = await world.submit(
        p.ADMIN,
        Callback.setup_submit,
        p.values(
            {
                Block.setup_name: p.text_value(EVIL),
                Block.setup_tier: p.text_value("<!here> & <@U0APPROVER>"),
            }
        ),
        metadata=json.dumps({"channel_id": channel}),
    )

    assert reply.json() is None
    [confirmed] = await world.fake.wait_for("chat.postEphemeral")
    text = confirmed.params["text"]
    assert f"Linked this channel to {ESCAPED} (&lt;!here&gt; &amp; &lt;@U0APPROVER&gt;)" in text
    for raw in (*RAW_MARKUP, "<!here>", "<@U0APPROVER>"):
        assert raw not in text
    [launcher] = await world.fake.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == channel
    )
    assert_escaped(launcher.params, "launcher")


# --- privacy across every flow -------------------------------------------------------------

ACME_SECRETS = ("Acme", "Initech", "AR-0001", format_amount(Decimal("84500"), "USD"))
GLOBEX_SECRETS = ("Globex", "Umbrella", "GC-0001", format_amount(Decimal("31415"), "USD"))
DESK_SECRETS = (p.APPROVER.user_id, p.ADMIN.user_id)


async def every_flow_for_two_partners(world: World) -> list[Any]:
    """Acme and Globex go through every flow; returns what partners were shown in modals."""
    await world.link_globex()
    shown: list[Any] = []
    acme = await world.register(company="Initech", amount="84500")
    globex = await world.register(
        p.OTHER_PARTNER_REP,
        channel_id=GLOBEX_CHANNEL,
        company="Umbrella Corp",
        website="umbrella.example",
        contact_email="ada@umbrella.example",
        amount="31415",
    )
    shown += [acme.json(), globex.json()]
    await world.delivered()

    # the desk approves Globex's registration
    await world.decide(p.APPROVER, Action.review_approve, await world.registration(2))
    await world.status_becomes(RegistrationStatus.approved, 2)

    # the desk asks Acme a question, Acme answers
    await world.decide(p.APPROVER, Action.review_request_info, await world.registration(1))
    [question] = await world.fake.wait_for("views.open")
    await world.submit(
        p.APPROVER,
        Callback.request_info_submit,
        p.values({Block.info_question: p.text_value("Who signs?")}),
        metadata=question.params["view"]["private_metadata"],
    )
    asked = await world.status_becomes(RegistrationStatus.info_requested, 1)
    ref = RegistrationRef(id=1, version=asked.version).model_dump_json()
    await world.click(p.PARTNER_REP, Action.card_provide_info, ref, channel_id=ACME_CHANNEL)
    [form] = await world.fake.wait_for(
        "views.open",
        where=lambda c: c.params["view"]["callback_id"] == Callback.registration_submit,
    )
    shown.append(form.params["view"])
    answer = await world.submit(
        p.PARTNER_REP,
        Callback.registration_submit,
        form_values(company="Initech", amount="84500", notes="The CFO signs."),
        metadata=form.params["view"]["private_metadata"],
    )
    shown.append(answer.json())
    answered = await world.status_becomes(RegistrationStatus.under_review, 1)

    # the desk rejects Acme's; a stale approve of it then loses
    await world.decide(p.APPROVER, Action.review_reject, await world.registration(1))
    rejects = await world.fake.wait_for(
        "views.open", where=lambda c: c.params["view"]["callback_id"] == Callback.reject_submit
    )
    await world.submit(
        p.APPROVER,
        Callback.reject_submit,
        p.values(
            {
                Block.reject_reason: p.select_value("duplicate"),
                Block.reject_note: p.text_value(None),
            }
        ),
        metadata=rejects[0].params["view"]["private_metadata"],
    )
    await world.status_becomes(RegistrationStatus.rejected, 1)
    await world.decide(p.APPROVER, Action.review_approve, answered)

    # partners poke around: their lists, each other's buttons, the desk's buttons
    for person, channel in ((p.PARTNER_REP, ACME_CHANNEL), (p.OTHER_PARTNER_REP, GLOBEX_CHANNEL)):
        before = len(world.fake.calls_to("views.update"))
        await world.click(person, Action.launcher_mine, "x", channel_id=channel)
        updates = await world.fake.wait_for("views.update", count=before + 1)
        shown.append(updates[-1].params["view"])
    globex_ref = RegistrationRef(id=2, version=(await world.registration(2)).version)
    await world.click(
        p.PARTNER_REP, Action.card_withdraw, globex_ref.model_dump_json(), channel_id=ACME_CHANNEL
    )
    await world.click(
        p.PARTNER_REP, Action.review_approve, globex_ref.model_dump_json(), channel_id=ACME_CHANNEL
    )
    await world.click(
        p.OTHER_PARTNER_REP,
        Action.card_withdraw,
        RegistrationRef(id=1, version=1).model_dump_json(),
        channel_id=ACME_CHANNEL,
    )
    await world.fake.wait_for_hook_posts(count=4)  # the stale approve + three refusals
    await world.delivered()
    return shown


async def test_no_partner_channel_shows_the_other_partner_or_the_desk(world: World) -> None:
    await every_flow_for_two_partners(world)

    acme_channel = world.fake.all_text_sent_to(ACME_CHANNEL)
    globex_channel = world.fake.all_text_sent_to(GLOBEX_CHANNEL)
    assert "Initech" in acme_channel  # the check is looking at real traffic
    assert "Umbrella" in globex_channel
    for secret in (*GLOBEX_SECRETS, *DESK_SECRETS):
        assert secret not in acme_channel, f"{secret!r} reached Acme's channel"
    for secret in (*ACME_SECRETS, *DESK_SECRETS):
        assert secret not in globex_channel, f"{secret!r} reached Globex's channel"


async def test_no_partner_modal_shows_the_other_partner_or_the_desk(world: World) -> None:
    shown = await every_flow_for_two_partners(world)

    acme_views = json.dumps([shown[0], shown[2], shown[3], shown[4]], ensure_ascii=False)
    globex_views = json.dumps([shown[1], shown[5]], ensure_ascii=False)
    assert "Initech" in acme_views
    assert "Umbrella" in globex_views
    for secret in (*GLOBEX_SECRETS, *DESK_SECRETS):
        assert secret not in acme_views, f"{secret!r} shown to Acme"
    for secret in (*ACME_SECRETS, *DESK_SECRETS):
        assert secret not in globex_views, f"{secret!r} shown to Globex"


async def test_the_desk_sees_both_partners_and_who_decided(world: World) -> None:
    await every_flow_for_two_partners(world)

    desk = world.fake.all_text_sent_to(DESK)
    for name in ("Acme Resellers", "Globex Corporation", "AR-0001", "GC-0001"):
        assert name in desk
    assert f"<@{p.APPROVER.user_id}>" in desk
    assert text_of(await world.card(DESK, "GC-0001")).count("Approved by") == 1


async def test_the_desks_question_is_escaped_where_the_partner_reads_it(world: World) -> None:
    await world.register()
    await world.delivered()
    await world.decide(p.APPROVER, Action.review_request_info, await world.registration())
    [opened] = await world.fake.wait_for("views.open")

    await world.submit(
        p.APPROVER,
        Callback.request_info_submit,
        p.values({Block.info_question: p.text_value(f"Is {EVIL} real?")}),
        metadata=opened.params["view"]["private_metadata"],
    )
    asked = await world.status_becomes(RegistrationStatus.info_requested)
    ref = RegistrationRef(id=1, version=asked.version).model_dump_json()
    await world.click(p.PARTNER_REP, Action.card_provide_info, ref, channel_id=ACME_CHANNEL)
    forms = await world.fake.wait_for("views.open", count=2)

    assert_escaped(await world.card(ACME_CHANNEL), "partner card")
    [notice] = await world.thread_replies(ACME_CHANNEL)
    assert_escaped(notice, "partner notice")
    assert_escaped(forms[-1].params["view"], "provide-info form")
    assert_escaped(await world.card(DESK), "review card")


# --- partners learn only about their own claims ----------------------------------------------


async def nobody_else(world: World) -> str:
    await world.link_globex()  # linked, and holding nothing
    return ":white_check_mark: *Conflict check:* no existing claim found"


async def another_partner(world: World) -> str:
    await world.link_globex()
    await world.register(p.OTHER_PARTNER_REP, channel_id=GLOBEX_CHANNEL, amount="31415")
    await world.delivered()
    return ":warning: *Conflict check:* 1 conflict"


async def a_direct_customer(world: World) -> str:
    account = Account("0011ACCT", "Initech", domain="initech.com", is_customer=True)
    async with world.deps.uow() as uow:
        await uow.crm.upsert_accounts([account])
        await uow.commit()
    return ":warning: *Conflict check:* 1 conflict"


Holder = Callable[[World], Awaitable[str]]
HOLDERS = pytest.mark.parametrize(
    "holder",
    [nobody_else, another_partner, a_direct_customer],
    ids=["nobody else", "another partner", "a direct customer"],
)


async def acme_registers_initech(world: World, holder: Holder) -> tuple[dict[str, Any], Message]:
    """Whoever `holder` makes hold Initech, Acme registers it: its card as shown in the
    channel, and the card as it reads for a registration that overlaps nothing."""
    desk_line = await holder(world)
    await world.register()
    await world.delivered()
    registration = await world.registration(await world.registration_count())
    assert desk_line in text_of(await world.card(DESK, registration.reference))  # it is real
    assert world.acme is not None
    alone = build_partner_card(registration, world.acme, program=world.deps.config.program)
    return await world.card(ACME_CHANNEL, registration.reference), alone


@HOLDERS
async def test_by_default_the_card_reads_the_same_whoever_else_holds_the_customer(
    world: World, holder: Holder
) -> None:
    card, alone = await acme_registers_initech(world, holder)

    assert (card["text"], card["blocks"]) == (alone.text, alone.block_dicts())
    assert "overlap" not in text_of(card)


@SEE_OVERLAPS
@HOLDERS
async def test_when_partners_see_overlaps_the_card_says_so_in_one_neutral_line(
    world: World, holder: Holder
) -> None:
    card, alone = await acme_registers_initech(world, holder)

    added = [b for b in card["blocks"] if b not in alone.block_dicts()]
    if holder is nobody_else:
        assert added == []
    else:
        assert [b["text"]["text"] for b in added] == [f":mag: {OVERLAP_LINE}"]
    for secret in ("Globex", "31,415", "0011ACCT"):
        assert secret not in text_of(card)
