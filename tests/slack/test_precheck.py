"""The pre-check in the form: the same engine as submission. A partner hears only of its own
registrations of the customer: by default the line reads the same whoever else holds it, or
nobody; with `[privacy] partners_see_overlaps` a neutral overlap line comes back, the same
words whoever holds the claim. Never a name, a reference, an amount or an owner of anyone
else's; it never holds the form up."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef
from bot.views.precheck import PRECHECK_CLEAR, PRECHECK_NONE_OWN, PRECHECK_OVERLAP
from domain.crm import Account, Opportunity
from domain.registration import Registration, RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import (
    ACME_CHANNEL,
    DESK,
    GLOBEX_CHANNEL,
    SEE_OVERLAPS,
    World,
    acked,
    form_values,
)
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
    return ("Initrode", "0011ACCT", "U0DIRECTOWNER", OWNER_EMAIL, "existing customer")


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


async def nobody(world: World) -> tuple[str, ...]:
    await world.link_globex()  # another partner is linked, and holds nothing
    return ()


OTHERS = pytest.mark.parametrize(
    "holder",
    [nobody, another_partner, direct_account, direct_opportunity],
    ids=["nobody", "another partner", "direct account", "direct opportunity"],
)
"""Whoever else holds Initech (or nobody): a partner must not be able to tell them apart."""


def expected_line(verdict: str, checked: str = "Initech · initech.com") -> dict[str, Any]:
    """The one line shown for what was checked (Initech / initech.com unless told)."""
    return {
        "type": "context",
        "block_id": Block.precheck,
        "elements": [
            {"type": "mrkdwn", "text": verdict},
            {"type": "plain_text", "text": f"Checked: {checked}", "emoji": False},
        ],
    }


NONE_OWN = f":information_source: {PRECHECK_NONE_OWN}"
"""A partner's line, by default, when it holds no registration of the customer."""
OVERLAP = f":warning: {PRECHECK_OVERLAP}"
CLEAR = f":white_check_mark: {PRECHECK_CLEAR}"


def own_line(registration: Registration) -> str:
    """How a partner's own earlier registration is listed."""
    at = registration.created_at
    return (
        f":information_source: You registered this customer on "
        f"<!date^{int(at.timestamp())}^{{date_short}}|{at:%Y-%m-%d}>: "
        f"{registration.reference}, {registration.status.label.lower()}."
    )


@OTHERS
async def test_by_default_a_partner_cannot_tell_who_else_holds_the_customer(
    world: World, holder: Holder
) -> None:
    secrets = await holder(world)
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Initech", "initech.com"))

    view = await updated_view(world)
    assert precheck_line(view) == expected_line(NONE_OWN)
    [update] = world.fake.calls_to("views.update")
    assert_not_shown((*secrets, "overlap"), json.dumps(update.params, ensure_ascii=False), "it")


@SEE_OVERLAPS
@pytest.mark.parametrize(
    "holder",
    [another_partner, direct_account, direct_opportunity],
    ids=["another partner", "direct account", "direct opportunity"],
)
async def test_when_partners_see_overlaps_a_claimed_customer_may_overlap_and_nobody_is_named(
    world: World, holder: Holder
) -> None:
    secrets = await holder(world)
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Initech", "initech.com"))

    view = await updated_view(world)
    assert precheck_line(view) == expected_line(OVERLAP)
    [update] = world.fake.calls_to("views.update")
    assert_not_shown(secrets, json.dumps(update.params, ensure_ascii=False), "the pre-check")


@SEE_OVERLAPS
async def test_when_partners_see_overlaps_nobody_holding_it_is_clear(world: World) -> None:
    await another_partner(world)  # a claim on another customer changes nothing
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Vandelay Industries", "vandelay.example"))

    line = precheck_line(await updated_view(world))
    assert line == expected_line(CLEAR, "Vandelay Industries · vandelay.example")


async def test_a_partners_own_earlier_registration_is_listed(world: World) -> None:
    await world.register(amount="27182")
    await world.delivered()
    mine = await world.registration(1)
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Initech", "initech.com"))

    line = precheck_line(await updated_view(world))
    assert line == expected_line(own_line(mine))
    assert own_line(mine).endswith(f": {mine.reference}, in review.")
    assert_not_shown(("27182", "27,182", "overlap"), json.dumps(line), "the pre-check")


async def test_only_its_own_registrations_are_listed_beside_another_partners(
    world: World,
) -> None:
    await another_partner(world)  # Globex: GC-0001
    await world.register()  # Acme: AR-0001
    await world.delivered()
    mine = await world.registration(2)
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Initech", "initech.com"))

    assert precheck_line(await updated_view(world)) == expected_line(own_line(mine))


@SEE_OVERLAPS
async def test_when_partners_see_overlaps_its_own_and_the_overlap_both_show(
    world: World,
) -> None:
    await another_partner(world)
    await world.register()
    await world.delivered()
    mine = await world.registration(2)
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Initech", "initech.com"))

    line = precheck_line(await updated_view(world))
    assert line == expected_line(f"{own_line(mine)}\n{OVERLAP}")


@SEE_OVERLAPS
async def test_when_partners_see_overlaps_its_own_registration_is_no_other_claim(
    world: World,
) -> None:
    await world.register()
    await world.delivered()
    mine = await world.registration(1)
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Initech", "initech.com"))

    assert precheck_line(await updated_view(world)) == expected_line(own_line(mine))


async def test_a_partner_cannot_pick_another_partner_to_see_its_registrations(
    world: World,
) -> None:
    """A partner's form has no picker; a forged pick of Globex is ignored."""
    globex = await world.link_globex()
    await world.register(p.OTHER_PARTNER_REP, channel_id=GLOBEX_CHANNEL)
    await world.delivered()
    view_id = await open_form(world)
    forged = typed("Initech", "initech.com")
    forged[Block.partner] = {Block.partner: p.select_value(str(globex.id), "Globex")}

    await press_enter(world, view_id, forged)

    assert precheck_line(await updated_view(world)) == expected_line(NONE_OWN)


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

    assert precheck_line(await updated_view(world)) == expected_line(NONE_OWN)


async def test_nothing_is_checked_before_both_fields_are_filled(world: World) -> None:
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Initech", None), field=Block.company)
    await press_enter(world, view_id, typed("Initech", "not a website"))
    await press_enter(world, view_id, typed("Initech", "initech.com"))

    view = await updated_view(world)
    assert precheck_line(view) == expected_line(NONE_OWN)
    assert len(world.fake.calls_to("views.update")) == 1


@SEE_OVERLAPS
async def test_a_new_check_replaces_the_line_and_a_cleared_field_removes_it(
    world: World,
) -> None:
    await direct_account(world)
    view_id = await open_form(world)

    await press_enter(world, view_id, typed("Vandelay", "vandelay.example"))
    assert PRECHECK_CLEAR in line_text(await updated_view(world, 1))
    await press_enter(world, view_id, typed("Initech", "initech.com"))
    assert precheck_line(await updated_view(world, 2)) == expected_line(OVERLAP)
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
    assert precheck_line(await updated_view(world)) == expected_line(NONE_OWN)


@SEE_OVERLAPS
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
    assert precheck_line(newer) == precheck_line(third) == expected_line(OVERLAP)
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


async def answer_form(world: World, registration_id: int) -> str:
    """The desk asks about a registration of Acme's; Acme clicks Provide info: the form."""
    await world.decide(
        p.APPROVER, Action.review_request_info, await world.registration(registration_id)
    )
    [*_, question] = await world.fake.wait_for("views.open")
    await world.submit(
        p.APPROVER,
        Callback.request_info_submit,
        p.values({Block.info_question: p.text_value("Who signs?")}),
        metadata=question.params["view"]["private_metadata"],
    )
    asked = await world.status_becomes(RegistrationStatus.info_requested, registration_id)
    ref = RegistrationRef(id=registration_id, version=asked.version).model_dump_json()
    before = len(world.fake.calls_to("views.open"))
    await world.click(p.PARTNER_REP, Action.card_provide_info, ref, channel_id=ACME_CHANNEL)
    [*_, form] = await world.fake.wait_for("views.open", count=before + 1)
    return str(form.response["view"]["id"])


async def test_an_answer_to_an_info_request_is_not_its_own_earlier_registration(
    world: World,
) -> None:
    await world.register()
    await world.delivered()
    form = await answer_form(world, 1)

    await press_enter(world, form, typed("Initech", "initech.com"))

    view = await updated_view(world)
    assert precheck_line(view) == expected_line(NONE_OWN)
    assert "Who signs?" in json.dumps(view)  # the desk's question stays on top


async def test_an_answer_to_an_info_request_lists_the_partners_other_registration(
    world: World,
) -> None:
    await world.register()
    await world.register()
    await world.delivered()
    earlier = await world.registration(1)
    form = await answer_form(world, 2)

    await press_enter(world, form, typed("Initech", "initech.com"))

    line = precheck_line(await updated_view(world))
    assert line == expected_line(own_line(earlier))
    assert "AR-0002" not in json.dumps(line)


async def staff_form(world: World) -> str:
    """Internal staff open the form with the partner picker (the global shortcut)."""
    shortcut = p.shortcut(p.INTERNAL_REP, callback_id=Callback.register_shortcut)
    acked(await world.slack.send_interaction(shortcut))
    [*_, opened] = await world.fake.wait_for("views.open")
    return str(opened.response["view"]["id"])


async def test_internal_staff_see_the_neutral_line(world: World) -> None:
    await another_partner(world)
    form = await staff_form(world)

    await press_enter(world, form, typed("Initech", "initech.com"), person=p.INTERNAL_REP)

    assert precheck_line(await updated_view(world)) == expected_line(OVERLAP)


async def test_internal_staff_see_the_picked_partners_own_registrations(world: World) -> None:
    await another_partner(world)  # Globex: GC-0001
    await world.register()  # Acme: AR-0001
    await world.delivered()
    acme = await world.registration(2)
    form = await staff_form(world)
    picked = typed("Initech", "initech.com")
    assert world.acme is not None
    picked[Block.partner] = {Block.partner: p.select_value(str(world.acme.id), "Acme")}

    await press_enter(world, form, picked, person=p.INTERNAL_REP)

    at = acme.created_at
    listed = (
        ":information_source: Acme Resellers registered this customer on "
        f"<!date^{int(at.timestamp())}^{{date_short}}|{at:%Y-%m-%d}>: AR-0001, in review."
    )
    assert precheck_line(await updated_view(world)) == expected_line(f"{listed}\n{OVERLAP}")


async def test_submitting_after_the_precheck_runs_the_real_check(world: World) -> None:
    await direct_account(world)
    view_id = await open_form(world)
    await press_enter(world, view_id, typed("Initech", "initech.com"))
    await updated_view(world)

    reply = await world.register(website="initech.com")

    assert "AR-0001" in json.dumps(reply.json())
    await world.delivered()
    assert "Conflict check:* 1 conflict" in json.dumps(await world.card(DESK))
