"""The neutral pre-check in the form: the same engine as submission, the same words whoever
holds the claim, never a name, a reference, an amount or an owner; it never holds the form up."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef
from bot.views.registration_modal import PRECHECK_CLEAR, PRECHECK_OVERLAP
from domain.crm import Account, Opportunity
from domain.registration import RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, GLOBEX_CHANNEL, World, acked, form_values
from tests.slack.moves import open_form, press_enter, typed

OWNER_EMAIL = "dora.direct@vendor.example"


async def updated_view(world: World, count: int = 1) -> dict[str, Any]:
    """The view sent with the `count`-th views.update."""
    calls = await world.fake.wait_for("views.update", count=count)
    view: dict[str, Any] = calls[count - 1].params["view"]
    return view


def precheck_line(view: dict[str, Any]) -> dict[str, Any]:
    lines: list[dict[str, Any]] = [b for b in view["blocks"] if b.get("block_id") == Block.precheck]
    assert len(lines) == 1, f"expected one pre-check line, got {len(lines)}"
    return lines[0]


def assert_not_shown(secrets: tuple[str, ...], shown: str, what: str) -> None:
    """None of `secrets` in `shown`; a failure quotes where the secret appears."""
    for secret in secrets:
        at = shown.find(secret)
        assert at < 0, f"{secret!r} shown in {what}: …{shown[max(0, at - 150) : at + 150]}…"


def line_text(view: dict[str, Any]) -> str:
    return json.dumps(precheck_line(view), ensure_ascii=False)


# --- who may already hold the customer (Initech, initech.com) -----------------------------
# Each setup returns what the partner must never see of that claim.

Holder = Callable[[World], Awaitable[tuple[str, ...]]]


async def another_partner(world: World) -> tuple[str, ...]:
    await world.link_globex()
    await world.register(
        p.OTHER_PARTNER_REP,
        channel_id=GLOBEX_CHANNEL,
        amount="31415",
        contact_name="Gina Buyer",
        contact_email="gina.buyer@initech.com",
    )
    await world.delivered()
    return ("Globex", "GC-0001", "31,415", "31415", "Gina Buyer", "gina.buyer", "U0GLOBEX")


async def direct_account(world: World) -> tuple[str, ...]:
    account = Account(
        "0011ACCT",
        "Initrode Global",
        domain="initech.com",
        is_customer=True,
        owner_slack_id="U0DIRECTOWNER",
        owner_email=OWNER_EMAIL,
    )
    async with world.deps.uow() as uow:
        await uow.crm.upsert_accounts([account])
        await uow.commit()
    return ("Initrode", "0011ACCT", "U0DIRECTOWNER", OWNER_EMAIL, "customer")


async def direct_opportunity(world: World) -> tuple[str, ...]:
    opportunity = Opportunity(
        "0063OPP",
        None,
        "Initech Renewal",
        domain="initech.com",
        stage="Verbal commit",
        owner_slack_id="U0DIRECTOWNER",
        owner_email=OWNER_EMAIL,
    )
    async with world.deps.uow() as uow:
        await uow.crm.upsert_opportunities([opportunity])
        await uow.commit()
    return ("Renewal", "0063OPP", "Verbal commit", "U0DIRECTOWNER", OWNER_EMAIL)


async def the_same_partner(world: World) -> tuple[str, ...]:
    await world.register(amount="27182")
    await world.delivered()
    return ("AR-0001", "27,182", "27182")


HOLDERS = pytest.mark.parametrize(
    "holder",
    [another_partner, direct_account, direct_opportunity, the_same_partner],
    ids=["another partner", "direct account", "direct opportunity", "the same partner"],
)


def expected_line(*, may_overlap: bool) -> dict[str, Any]:
    """The one line anybody sees for Initech / initech.com."""
    verdict = (
        f":warning: {PRECHECK_OVERLAP}" if may_overlap else f":white_check_mark: {PRECHECK_CLEAR}"
    )
    return {
        "type": "context",
        "block_id": Block.precheck,
        "elements": [
            {"type": "mrkdwn", "text": verdict},
            {"type": "plain_text", "text": "Checked: Initech · initech.com", "emoji": False},
        ],
    }


@HOLDERS
async def test_a_claimed_customer_may_overlap_and_nobody_is_named(
    world: World, holder: Holder
) -> None:
    secrets = await holder(world)
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Initech", "initech.com"))

    view = await updated_view(world)
    assert precheck_line(view) == expected_line(may_overlap=True)
    [update] = world.fake.calls_to("views.update")
    assert_not_shown(secrets, json.dumps(update.params, ensure_ascii=False), "the pre-check")


async def test_a_new_customer_has_no_existing_claim(world: World) -> None:
    await another_partner(world)  # a claim on another customer changes nothing
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Vandelay Industries", "vandelay.example"))

    line = line_text(await updated_view(world))
    assert PRECHECK_CLEAR in line
    assert "Checked: Vandelay Industries · vandelay.example" in line
    assert "overlap" not in line


async def test_the_line_sits_right_under_the_website(world: World) -> None:
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Initech", "initech.com"))

    ids = [b.get("block_id") for b in (await updated_view(world))["blocks"]]
    assert ids[ids.index(Block.website) + 1] == Block.precheck
    assert ids.count(Block.precheck) == 1


async def test_what_was_typed_survives_the_update(world: World) -> None:
    view_id = await open_form(world)
    opened = world.fake.views[view_id]
    everything = form_values(company="Initech", website="initech.com", notes="Met at the fair")

    await press_enter(world, view_id, everything)

    view = await updated_view(world)
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    # the same ids and the same elements as opened
    assert inputs == [b for b in opened["blocks"] if b["type"] == "input"]
    assert (view["callback_id"], view["private_metadata"]) == (
        Callback.registration_submit,
        opened["private_metadata"],
    )
    # Slack keeps the input of blocks whose block_id and action_id did not change
    assert world.fake.views[view_id]["state"]["values"] == everything


async def test_enter_in_the_company_field_checks_once_the_website_is_filled(world: World) -> None:
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Initech", "initech.com"), field=Block.company)

    assert precheck_line(await updated_view(world)) == expected_line(may_overlap=False)


async def test_nothing_is_checked_before_both_fields_are_filled(world: World) -> None:
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Initech", None), field=Block.company)
    await press_enter(world, view_id, typed("Initech", "not a website"))
    await press_enter(world, view_id, typed("Initech", "initech.com"))

    view = await updated_view(world)
    assert precheck_line(view) == expected_line(may_overlap=False)
    assert len(world.fake.calls_to("views.update")) == 1


async def test_a_new_check_replaces_the_line_and_a_cleared_field_removes_it(
    world: World,
) -> None:
    await direct_account(world)
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Vandelay", "vandelay.example"))
    assert PRECHECK_CLEAR in line_text(await updated_view(world, 1))
    await press_enter(world, view_id, typed("Initech", "initech.com"))
    assert precheck_line(await updated_view(world, 2)) == expected_line(may_overlap=True)
    await press_enter(world, view_id, typed("Initech", None), field=Block.company)

    cleared = await updated_view(world, 3)
    assert Block.precheck not in [b.get("block_id") for b in cleared["blocks"]]
    assert Block.website in [b.get("block_id") for b in cleared["blocks"]]


async def test_the_ack_comes_back_before_the_form_is_updated(world: World) -> None:
    view_id = await open_form(world)
    world.fake.hold("views.update")

    reply = await press_enter(world, view_id, typed("Initech", "initech.com"))

    # Slack has its answer while the update cannot have completed: the check never holds
    # the form up (were the update awaited before the ack, no 200 could have come back).
    assert reply.status == 200
    assert reply.text == ""
    assert world.fake.calls_to("views.update") == []
    await world.fake.wait_until_held("views.update")
    world.fake.release("views.update")
    assert precheck_line(await updated_view(world)) == expected_line(may_overlap=False)


async def test_a_stale_update_is_dropped_without_telling_anyone(world: World) -> None:
    await direct_account(world)
    view_id = await open_form(world)
    told = len(world.fake.calls_to("chat.postMessage"))
    stale = world.fake.type_into(view_id, typed("Vandelay", "vandelay.example"))
    await press_enter(world, view_id, typed("Initech", "initech.com"))
    newer = await updated_view(world)

    # an Enter sent before that update landed carries the old hash: Slack refuses it
    await press_enter(world, view_id, typed("Vandelay", "vandelay.example"), view=stale)
    [_, refused] = await world.fake.wait_for("views.update", count=2)
    assert refused.response == {"ok": False, "error": "hash_conflict"}

    # the newer state stands, nobody was told anything, and the form keeps working
    await press_enter(world, view_id, typed("Initech", "initech.com"))
    third = await updated_view(world, 3)
    assert precheck_line(newer) == precheck_line(third) == expected_line(may_overlap=True)
    assert len(world.fake.calls_to("chat.postMessage")) == told
    assert world.fake.calls_to("chat.postEphemeral") == []
    assert not world.fake.hook_posts


@pytest.mark.parametrize("error", ["not_found", "internal_error"])
async def test_a_slack_error_on_the_update_is_not_shown(world: World, error: str) -> None:
    view_id = await open_form(world)
    posted = len(world.fake.calls_to("chat.postMessage"))
    world.fake.fail("views.update", error=error)

    await press_enter(world, view_id, typed("Initech", "initech.com"))
    await world.fake.wait_for("views.update")
    await press_enter(world, view_id, typed("Initech", "initech.com"))
    await updated_view(world, 2)

    assert len(world.fake.calls_to("chat.postMessage")) == posted
    assert world.fake.calls_to("chat.postEphemeral") == []
    assert not world.fake.hook_posts


async def test_an_answer_to_an_info_request_does_not_overlap_itself(world: World) -> None:
    await world.register()
    await world.delivered()
    await world.decide(p.APPROVER, Action.review_request_info, await world.registration())
    [question] = await world.fake.wait_for("views.open")
    await world.submit(
        p.APPROVER,
        Callback.request_info_submit,
        p.values({Block.info_question: p.text_value("Who signs?")}),
        metadata=question.params["view"]["private_metadata"],
    )
    asked = await world.status_becomes(RegistrationStatus.info_requested)
    ref = RegistrationRef(id=1, version=asked.version).model_dump_json()
    await world.click(p.PARTNER_REP, Action.card_provide_info, ref, channel_id=ACME_CHANNEL)
    [*_, form] = await world.fake.wait_for("views.open", count=2)

    await press_enter(world, str(form.response["view"]["id"]), typed("Initech", "initech.com"))

    view = await updated_view(world)
    assert precheck_line(view) == expected_line(may_overlap=False)
    assert "Who signs?" in json.dumps(view)  # the desk's question stays on top


async def test_internal_staff_see_the_same_line(world: World) -> None:
    await another_partner(world)
    shortcut = p.shortcut(p.INTERNAL_REP, callback_id=Callback.register_shortcut)
    acked(await world.slack.send_interaction(shortcut))
    [*_, opened] = await world.fake.wait_for("views.open")

    await press_enter(
        world,
        str(opened.response["view"]["id"]),
        typed("Initech", "initech.com"),
        person=p.INTERNAL_REP,
    )

    assert precheck_line(await updated_view(world)) == expected_line(may_overlap=True)


async def test_submitting_after_the_precheck_runs_the_real_check(world: World) -> None:
    await direct_account(world)
    view_id = await open_form(world)
    await press_enter(world, view_id, typed("Initech", "initech.com"))
    await updated_view(world)

    reply = await world.register(website="initech.com")

    assert "AR-0001" in json.dumps(reply.json())
    await world.delivered()
    assert "Conflict check:* 1 conflict" in json.dumps(await world.card(DESK))
