"""References do not leak volume: each partner numbers its own registrations, the desk sees
the same reference, and `/dibs show` finds a registration by a new or a legacy reference."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import update

from storage.models import RegistrationRow
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, GLOBEX_CHANNEL, World, text_of
from tests.slack.test_commands_and_home import dibs


async def acme_globex_acme(world: World) -> None:
    """Acme, then Globex, then Acme again register a deal each (registrations 1, 2, 3)."""
    await world.link_globex()
    await world.register()
    await world.register(
        p.OTHER_PARTNER_REP,
        channel_id=GLOBEX_CHANNEL,
        company="Umbrella",
        website="umbrella.example",
        contact_email="gina@umbrella.example",
    )
    await world.register(company="Hooli", website="hooli.example", contact_email="g@hooli.example")
    await world.delivered()


def header(card: dict[str, Any]) -> str:
    [block] = [b for b in card["blocks"] if b["type"] == "header"]
    return str(block["text"]["text"])


async def test_each_partner_numbers_its_own_registrations_from_one(world: World) -> None:
    await acme_globex_acme(world)

    assert [(await world.registration(n)).reference for n in (1, 2, 3)] == [
        "AR-0001",
        "GC-0001",
        "AR-0002",
    ]
    assert header(await world.card(ACME_CHANNEL, "AR-0001")) == "AR-0001 · Initech"
    assert header(await world.card(GLOBEX_CHANNEL, "GC-0001")) == "GC-0001 · Umbrella"
    assert header(await world.card(ACME_CHANNEL, "AR-0002")) == "AR-0002 · Hooli"


async def test_the_desk_sees_the_reference_the_partner_sees(world: World) -> None:
    await acme_globex_acme(world)

    for channel, reference in ((ACME_CHANNEL, "AR-0002"), (GLOBEX_CHANNEL, "GC-0001")):
        partner_card = await world.card(channel, reference)
        review_card = await world.card(DESK, reference)
        assert header(review_card) == header(partner_card)


async def test_no_partner_is_shown_a_number_telling_how_many_others_filed(world: World) -> None:
    await acme_globex_acme(world)

    globex_side = world.fake.all_text_sent_to(GLOBEX_CHANNEL)
    assert "GC-0001" in globex_side
    for elsewhere in ("GC-0002", "GC-0003", "AR-", "DR-"):
        assert elsewhere not in globex_side


# --- /dibs show ----------------------------------------------------------------------------


async def show(world: World, text: str, person: p.Person = p.INTERNAL_REP) -> str:
    """`/dibs show <text>`: the private answer Dibs posts through the response_url."""
    before = len(world.fake.hook_posts)
    body = await dibs(world, person, f"show {text}")
    assert body is None  # acked at once; the answer follows
    posts = await world.fake.wait_for_hook_posts(count=before + 1)
    assert posts[-1].body["response_type"] == "ephemeral"
    return json.dumps(posts[-1].body, ensure_ascii=False)


async def test_dibs_show_finds_a_registration_by_its_reference(world: World) -> None:
    await acme_globex_acme(world)

    shown = await show(world, "gc-1")

    for expected in ("GC-0001 · Umbrella", "Globex Corporation (Silver)", "In review",
                     "USD 84,500", "Waiting for the desk, due"):  # fmt: skip
        assert expected in shown
    assert "Initech" not in shown


async def test_dibs_show_finds_a_legacy_reference(world: World) -> None:
    await acme_globex_acme(world)
    async with world.deps.engine.begin() as connection:  # as the migration left an old one
        await connection.execute(
            update(RegistrationRow).where(RegistrationRow.id == 3).values(reference="DR-0003")
        )

    assert "DR-0003 · Hooli" in await show(world, "DR-3")
    assert "DR-0003 · Hooli" in await show(world, " dr-0003 ")


async def test_dibs_show_of_an_unknown_reference_says_there_is_none(world: World) -> None:
    await acme_globex_acme(world)

    body = json.loads(await show(world, "AR-0099"))

    assert body["text"] == "No registration AR-0099."


async def test_dibs_show_of_something_else_says_what_a_reference_looks_like(
    world: World,
) -> None:
    body = await dibs(world, p.INTERNAL_REP, "show <!channel>")

    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("`&lt;!channel&gt;` is not a registration reference.")
    assert "/dibs show NW-0007" in body["text"]
    assert "/dibs show NW-0007" in (await dibs(world, p.INTERNAL_REP, "show"))["text"]


async def test_partners_cannot_look_registrations_up(world: World) -> None:
    await world.register()
    await world.delivered()

    command = p.slash_command(
        p.PARTNER_REP, text="show AR-0001", channel_id=DESK, response_url=world.fake.hook_url()
    )
    command["team_id"] = p.PARTNER_REP.team_id  # the workspace the person ran it from
    body = (await world.slack.send_command(command)).json()

    assert body["response_type"] == "ephemeral"
    assert "AR-0001" not in text_of(body)
    assert "Initech" not in text_of(body)
