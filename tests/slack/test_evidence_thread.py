"""The evidence thread through the real app: under the review card, the direct owner and the
other partner's manager mentioned, pages posted once, and the partner told one neutral line."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block

from bot.ids import Action
from bot.views.common import Message
from domain.actor import Actor, Caller
from domain.crm import Account
from domain.ownership import Resolution
from domain.registration import RegistrationStatus
from domain.services import Resolve
from domain.slack_ids import SlackUserId
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, GLOBEX_CHANNEL, World, text_of
from tests.slack.moves import answer, ask, provide_info, reject
from tests.views.blockkit import assert_valid_message

# The form's default customer is Initech (www.initech.com): this account matches its website.
DIRECT = Account("0011ACCT", "Initech Corporation", domain="initech.com", owner_slack_id="U0DORA")
MANAGER = SlackUserId("U0GLOBEXMGR")
EVIDENCE = "may overlap"


async def import_accounts(world: World, *accounts: Account) -> None:
    async with world.deps.uow() as uow:
        await uow.crm.upsert_accounts(list(accounts))
        await uow.commit()


async def globex_registers_first(world: World) -> None:
    """Globex (its channel manager on our side recorded) registers Initech: GC-0001."""
    globex = await world.link_globex()
    assert globex.id is not None
    async with world.deps.uow() as uow:
        partner = await uow.partners.get(globex.id)
        assert partner is not None
        partner.manager_user_id = MANAGER
        await uow.partners.save(partner)
        await uow.commit()
    await world.register(p.OTHER_PARTNER_REP, channel_id=GLOBEX_CHANNEL, amount="$120,000")
    await world.delivered()


def initech_holdings(first: int, last: int) -> list[Account]:
    """Accounts on the form's default website, so each is a finding of the registration."""
    return [
        Account(
            f"ACC{n:03d}", f"Initech Holding {n}", domain="initech.com", owner_slack_id="U0DORA"
        )
        for n in range(first, last)
    ]


def evidence_in(world: World, review: dict[str, Any]) -> list[dict[str, Any]]:
    """The evidence messages in the review card's thread (the head says "may overlap")."""
    replies = world.fake.thread(DESK, str(review["ts"]))
    return [m for m in replies if "existing claim" in text_of(m)]


def evidence_posts(world: World, review: dict[str, Any]) -> list[Any]:
    return [
        c
        for c in world.fake.calls_to("chat.postMessage")
        if c.ok
        and c.params.get("thread_ts") == review["ts"]
        and "existing claim" in text_of(c.params)
    ]


async def test_the_evidence_goes_under_the_review_card_and_loops_in_the_claim_holders(
    world: World,
) -> None:
    await import_accounts(world, DIRECT)
    await globex_registers_first(world)

    await world.register()  # Acme registers the same customer: AR-0001
    await world.delivered()

    review = await world.card(DESK, "AR-0001")
    assert "Conflict check:* 2 conflicts" in text_of(review)
    [head] = evidence_in(world, review)
    assert head["thread_ts"] == review["ts"]
    shown = text_of(head)
    for expected in [
        "*AR-0001* (Initech, Acme Resellers) may overlap *2 existing claims*",
        "<@U0DORA> (owner of account 0011ACCT)",
        f"<@{MANAGER}> (channel manager of Globex Corporation)",
        "registration *GC-0001* by *Globex Corporation* (Silver) · In review",
        "it was first", "Amount: USD 120,000",
        "direct account *0011ACCT* · owner <@U0DORA>",
        "Matched on: same website domain 1.00",
        "*Recommended: Mark duplicate.*",
        "Deciding claim: GC-0001 by Globex Corporation, in review.",
    ]:  # fmt: skip
        assert expected in shown, expected
    # Mentions in the fallback text too: Slack's notifications read that.
    assert "<@U0DORA>" in head["text"]
    assert f"<@{MANAGER}>" in head["text"]
    assert_valid_message_dict(head)

    # The partners: nothing about the other side anywhere, not even that it exists.
    acme_card = text_of(await world.card(ACME_CHANNEL, "AR-0001"))
    assert "The desk will decide by" in acme_card
    assert "overlap" not in acme_card
    acme_side = world.fake.all_text_sent_to(ACME_CHANNEL)
    for secret in ("Globex", "GC-0001", "120,000", "U0DORA", MANAGER, "0011ACCT", "onflict"):
        assert secret not in acme_side, secret
    globex_side = world.fake.all_text_sent_to(GLOBEX_CHANNEL)
    for secret in ("Acme", "AR-0001", "U0DORA", "0011ACCT"):
        assert secret not in globex_side, secret


async def test_a_settlement_edits_the_head_in_place_to_show_the_outcome(world: World) -> None:
    await import_accounts(world, DIRECT)
    await world.register()
    await world.delivered()
    review = await world.card(DESK)
    [head] = evidence_in(world, review)
    registration = await world.registration()

    # The desk's resolution as desk-actions' handler applies it (clicking is theirs to test).
    await world.deps.services.conflicts.resolve(
        Resolve(
            registration_id=1,
            version=registration.version,
            resolution=Resolution.award_existing,
            reason="Dora has worked Initech since spring.",
        ),
        Caller(Actor(team_id=p.HOST_TEAM, user_id=p.APPROVER.user_id), p.HOST_TEAM),
    )
    world.deps.kick_outbox()
    await world.delivered()

    [edited] = evidence_in(world, review)
    assert edited["ts"] == head["ts"]
    assert f":x: *Settled:* AR-0001 rejected by <@{p.APPROVER.user_id}>" in text_of(edited)
    assert "Recommended" not in text_of(edited)
    assert "actions" not in [b["type"] for b in edited["blocks"]]
    assert len(evidence_posts(world, review)) == 1
    acme_side = world.fake.all_text_sent_to(ACME_CHANNEL)
    for secret in ("U0DORA", "0011ACCT", "Dora has worked", "Initech Corporation"):
        assert secret not in acme_side, secret


async def test_a_plain_decision_on_the_review_card_settles_the_evidence_too(
    world: World,
) -> None:
    await import_accounts(world, DIRECT)
    await world.register()
    await world.delivered()
    review = await world.card(DESK)
    [head] = evidence_in(world, review)
    assert "actions" in [b["type"] for b in head["blocks"]]

    await reject(world, 1, "not_qualified")
    await world.delivered()

    [edited] = evidence_in(world, review)
    assert edited["ts"] == head["ts"]
    assert "Settled" in text_of(edited)
    assert "actions" not in [b["type"] for b in edited["blocks"]]


async def test_a_registration_with_no_finding_gets_no_evidence_and_no_overlap_line(
    world: World,
) -> None:
    await world.register()
    await world.delivered()

    review = await world.card(DESK)
    assert evidence_in(world, review) == []
    assert "overlap" not in text_of(await world.card(ACME_CHANNEL))


async def test_a_long_list_continues_in_replies_posted_once_through_a_failure(
    world: World,
) -> None:
    accounts = initech_holdings(0, 45)
    await import_accounts(world, *accounts)
    # The first follow-up reply fails once with a server error; the worker retries it.
    world.fake.fail(
        "chat.postMessage",
        status=500,
        where=lambda params: "existing claims 21–40" in str(params.get("text", "")),
    )

    await world.register()
    await world.delivered()

    review = await world.card(DESK)
    messages = evidence_in(world, review)
    assert [m["text"].split(":")[0] for m in messages[1:]] == ["AR-0001", "AR-0001"]
    assert "Claims 1–20 of 45 above; 21–45 follow in this thread." in text_of(messages[0])
    assert all(m["thread_ts"] == review["ts"] for m in messages)
    assert len(evidence_posts(world, review)) == 3  # the head and two pages, each once
    failed = [c for c in world.fake.calls_to("chat.postMessage") if c.status == 500]
    assert len(failed) == 1
    shown = [
        account.external_id
        for account in accounts
        if any(f"*{account.external_id}*" in text_of(m) for m in messages)
    ]
    assert len(shown) == 45
    for message in messages:
        assert_valid_message_dict(message)


def assert_valid_message_dict(message: dict[str, Any]) -> None:
    """Lint a message as the fake recorded it (blocks ≤ 50, text limits, round trip)."""
    blocks = [Block.parse(b) for b in message["blocks"]]
    assert None not in blocks
    assert_valid_message(Message(text=message["text"], blocks=[b for b in blocks if b]))


# --- the partner resubmits: the posted pages follow the new evidence -------------------------


async def resubmit(world: World, **fields: Any) -> None:
    """The desk asks Acme about AR-0001; Acme answers with `fields`."""
    await ask(world, 1, "Which office is buying?")
    await world.delivered()
    form = await provide_info(world, p.PARTNER_REP, ACME_CHANNEL, 1)
    reply = await answer(world, p.PARTNER_REP, form, **fields)
    assert reply.status == 200
    await world.status_becomes(RegistrationStatus.under_review, 1)
    await world.delivered()


def edits_of(world: World, message: dict[str, Any]) -> list[Any]:
    return [c for c in world.fake.calls_to("chat.update") if c.params.get("ts") == message["ts"]]


async def test_resubmitting_the_same_customer_edits_the_pages_in_place(world: World) -> None:
    await import_accounts(world, *initech_holdings(0, 45))
    await world.register()
    await world.delivered()
    review = await world.card(DESK)
    head, *pages = evidence_in(world, review)
    assert len(pages) == 2

    await resubmit(world, notes="The Austin office.")

    assert len(evidence_posts(world, review)) == 3  # nothing posted twice
    assert edits_of(world, head)
    for page in pages:
        assert edits_of(world, page), page["text"]
    assert [m["text"] for m in evidence_in(world, review)[1:]] == [
        "AR-0001: existing claims 21–40 of 45",
        "AR-0001: existing claims 41–45 of 45",
    ]


async def test_evidence_that_grew_gets_its_new_pages_posted(world: World) -> None:
    await import_accounts(world, *initech_holdings(0, 5))
    await world.register()
    await world.delivered()
    review = await world.card(DESK)
    assert len(evidence_in(world, review)) == 1  # five claims fit in the head

    await import_accounts(world, *initech_holdings(5, 45))
    await resubmit(world, notes="The Austin office.")

    head, *pages = evidence_in(world, review)
    assert "Claims 1–20 of 45 above; 21–45 follow in this thread." in text_of(head)
    assert [m["text"] for m in pages] == [
        "AR-0001: existing claims 21–40 of 45",
        "AR-0001: existing claims 41–45 of 45",
    ]
    assert len(evidence_posts(world, review)) == 3


async def test_evidence_whose_claims_all_went_away_says_so(world: World) -> None:
    await import_accounts(world, *initech_holdings(0, 45))
    await world.register()
    await world.delivered()
    review = await world.card(DESK)
    posted = evidence_in(world, review)
    assert len(posted) == 3

    await resubmit(
        world,
        company="Umbrella Corporation",
        website="https://www.umbrella-corp.example",
        contact_email="buyer@umbrella-corp.example",
    )

    head, *pages = [world.fake.message(DESK, str(m["ts"])) for m in posted]
    assert "no longer finds an existing claim" in text_of(head)
    assert "decide on the review card above" in text_of(head)
    assert Action.resolve_award_partner not in json.dumps(head["blocks"])
    for page in pages:
        assert "the current list is above" in text_of(page)
        assert "Initech Holding" not in text_of(page)
    assert len(evidence_posts(world, review)) == 3
    async with world.deps.uow() as uow:
        assert await uow.message_refs.evidence_pages([1]) == {}
