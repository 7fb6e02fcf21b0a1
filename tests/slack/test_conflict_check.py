"""The conflict check in Slack: the desk sees what it found, the partner never sees who."""

from __future__ import annotations

import json
from typing import Any

from domain.crm import Account
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, World, text_of

# Matches the form's default company (Initech, initech.com) by its website only.
DIRECT = Account(
    "0011ACCT",
    "Initrode Global",
    domain="initech.com",
    is_named=True,
    owner_slack_id="U0DIRECTOWNER",
)


async def import_account(world: World, account: Account = DIRECT) -> None:
    async with world.deps.uow() as uow:
        await uow.crm.upsert_accounts([account])
        await uow.commit()


async def dibs(world: World, person: p.Person, text: str) -> Any:
    """Run `/dibs <text>` in the desk channel; the ack body (None for a bare ack)."""
    command = p.slash_command(
        person, text=text, channel_id=DESK, response_url=world.fake.hook_url(channel=DESK)
    )
    command["team_id"] = person.team_id  # the workspace the person ran it from
    reply = await world.slack.send_command(command)
    assert reply.status == 200
    return reply.json()


async def test_review_card_shows_the_conflict_and_the_partner_never_sees_it(
    world: World,
) -> None:
    await import_account(world)

    await world.register()
    await world.delivered()

    review = text_of(await world.card(DESK))
    assert "Conflict check:* 1 conflict" in review
    partner_side = world.fake.all_text_sent_to(ACME_CHANNEL)
    assert "AR-0001" in partner_side
    for secret in ("Initrode", "U0DIRECTOWNER", "0011ACCT", "onflict", "named account"):
        assert secret not in partner_side, secret


async def test_review_card_says_when_nobody_has_a_claim(world: World) -> None:
    await world.register()
    await world.delivered()

    assert "no existing claim found" in text_of(await world.card(DESK))


async def test_dibs_check_shows_the_claim_its_owner_and_the_evidence(world: World) -> None:
    await import_account(world)

    assert await dibs(world, p.INTERNAL_REP, "check Initech Inc www.initech.com") is None

    [reply] = await world.fake.wait_for_hook_posts()
    assert reply.body["response_type"] == "ephemeral"
    shown = json.dumps(reply.body)
    for expected in ("1 conflict", "Account 0011ACCT", "Initrode Global", "named account"):
        assert expected in shown, expected
    assert "<@U0DIRECTOWNER>" in shown
    assert "same domain 1.00: initech.com" in shown


async def test_dibs_check_finds_a_registration_and_names_its_partner(world: World) -> None:
    await world.register()
    await world.delivered()

    await dibs(world, p.INTERNAL_REP, "check Initech")

    [reply] = await world.fake.wait_for_hook_posts()
    shown = json.dumps(reply.body)
    assert "Registration AR-0001" in shown
    assert "by Acme Resellers" in shown
    assert "name equal 1.00" in shown


async def test_dibs_check_without_a_name_explains_itself(world: World) -> None:
    body = await dibs(world, p.INTERNAL_REP, "check")

    assert body["response_type"] == "ephemeral"
    assert "/dibs check COMPANY" in body["text"]


async def test_dibs_check_is_refused_to_external_users(world: World) -> None:
    await import_account(world)

    body = await dibs(world, p.PARTNER_REP, "check Initech initech.com")

    assert body["response_type"] == "ephemeral"
    assert "for the vendor's team" in body["text"]
    assert "Initrode" not in json.dumps(body)
    assert world.fake.hook_posts == []


async def test_dibs_help_lists_check(world: World) -> None:
    body = await dibs(world, p.INTERNAL_REP, "help")

    assert "/dibs check" in json.dumps(body)
