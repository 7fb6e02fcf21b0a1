"""The privacy guard: everything a partner is shown, across every flow, never carries another
party's name, amount, owner or reference.

It collects every chat.postMessage / chat.update / chat.postEphemeral / views.open /
views.update / views.push / views.publish and every response_url post aimed at a partner's
shared channel or at a partner's user (DMs, ephemerals, modals opened for them), plus the
HTTP answers to their own clicks and submissions, and checks each one against the secrets of
every other party: the other partner, the direct team, the desk's people. Keep it as the guard
for every later change: a new flow belongs in one of the scenarios below.

Covered: registration with the pre-check, two partners on the same customer, a partner against
a direct account and opportunity (owner by Slack id and e-mail), request info and resubmission,
approve, reject, a stale decision, My registrations, withdraw, partners clicking buttons that
are not theirs. Not yet: the conflict desk's resolution buttons (award to partner / to the
existing owner, co-sell, duplicate, reject both, request info from the conflict thread) and
"I'm working this" — they are not on main yet; add a scenario for each when they land.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from bot.ids import Action
from bot.views.common import RegistrationRef
from domain.amounts import format_amount
from domain.crm import Account, Opportunity
from domain.registration import RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, GLOBEX_CHANNEL, World
from tests.slack.moves import (
    answer,
    approve,
    ask,
    my_registrations,
    open_form,
    precheck,
    provide_info,
    reject,
    typed,
    withdraw,
)
from tests.slack.signing import Reply

ACME, GLOBEX = "acme", "globex"
PARTY_OF_TEAM = {p.PARTNER_REP.team_id: ACME, p.OTHER_PARTNER_REP.team_id: GLOBEX}
PARTY_OF_CHANNEL = {ACME_CHANNEL: ACME, GLOBEX_CHANNEL: GLOBEX}
WATCHED = (
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "views.open",
    "views.update",
    "views.push",
    "views.publish",
)


def amounts(value: str) -> tuple[str, ...]:
    """Every way an amount could be written: as typed, grouped, formatted."""
    number = Decimal(value)
    return (value, f"{number:,.0f}", format_amount(number, "USD"))


# The same customer (Initech, initech.com) for both partners; distinctive amounts, contacts
# and notes so any leak is recognisable. The amount hint of the form shows 84500 / 84,500.
ACME_DEAL: dict[str, Any] = {
    "amount": "27182",
    "contact_name": "Bill Lumbergh",
    "contact_email": "bill.lumbergh@initech.com",
    "notes": "Acme met their CFO at the fair",
}
GLOBEX_DEAL: dict[str, Any] = {
    "company": "Initech Inc",
    "website": "initech.com",
    "amount": "31415",
    "contact_name": "Gina Buyer",
    "contact_email": "gina.buyer@initech.com",
    "notes": "Globex demoed twice",
}
OWNER_ID, OWNER_EMAIL, OWNER_NAME = "U0DIRECTOWNER", "dora.direct@vendor.example", "Dora Direct"

SECRETS: dict[str, tuple[str, ...]] = {
    ACME: (
        "Acme Resellers",
        *amounts(ACME_DEAL["amount"]),
        ACME_DEAL["contact_name"],
        ACME_DEAL["contact_email"],
        ACME_DEAL["notes"],
        p.PARTNER_REP.user_id,
        p.PARTNER_REP.name,
    ),
    GLOBEX: (
        "Globex",
        *amounts(GLOBEX_DEAL["amount"]),
        GLOBEX_DEAL["contact_name"],
        GLOBEX_DEAL["contact_email"],
        GLOBEX_DEAL["notes"],
        p.OTHER_PARTNER_REP.user_id,
        p.OTHER_PARTNER_REP.name,
    ),
    "direct": (
        OWNER_ID,
        OWNER_EMAIL,
        OWNER_NAME,
        "0011HOOLI",
        "Hooli Holdings",
        "0063HOOLI",
        "Hooli Cloud Renewal",
        "Verbal commit",
        *amounts("16180"),
    ),
    "desk": (p.APPROVER.user_id, p.APPROVER.name, p.ADMIN.user_id, p.INTERNAL_REP.user_id),
}
"""What each party must never see of the others (references are added per scenario)."""


@dataclass(frozen=True, slots=True)
class Shown:
    """One thing a partner was shown: to whom, how, and exactly what was sent."""

    party: str
    how: str
    payload: Any

    @property
    def text(self) -> str:
        return json.dumps(self.payload, ensure_ascii=False)


@dataclass(slots=True)
class Witness:
    """Remembers who sent each interaction, so modals and replies can be traced to people."""

    by_trigger: dict[str, str] = field(default_factory=dict)
    by_view: dict[str, str] = field(default_factory=dict)
    replies: list[Shown] = field(default_factory=list)

    def saw(self, payload: Mapping[str, Any], reply: Reply) -> None:
        user = payload.get("user") or {}
        party = PARTY_OF_TEAM.get(str(user.get("team_id")))
        if party is None:
            return
        if payload.get("trigger_id"):
            self.by_trigger[str(payload["trigger_id"])] = party
        if payload.get("view"):
            self.by_view[str(payload["view"]["id"])] = party
        if reply.text:
            self.replies.append(Shown(party, f"HTTP answer to {payload['type']}", reply.json()))


PARTY_OF_USER = {p.PARTNER_REP.user_id: ACME, p.OTHER_PARTNER_REP.user_id: GLOBEX}


def _party_of_user(user_or_dm: str) -> str | None:
    """A partner user, addressed by user id or by the bot's DM channel with them."""
    if user_or_dm.startswith("D"):
        user_or_dm = "U" + user_or_dm[1:]
    return PARTY_OF_USER.get(user_or_dm)


def shown_to_partners(world: World, witness: Witness) -> list[Shown]:
    """Everything sent to a partner's channel or to a partner's user, in order."""
    shown = list(witness.replies)
    views = dict(witness.by_view)
    for call in world.fake.calls:
        if call.method not in WATCHED:
            continue
        params = call.params
        channel = str(params.get("channel") or "")
        addressed = (
            _party_of_user(str(params.get(k) or "")) for k in ("channel", "user", "user_id")
        )
        party = PARTY_OF_CHANNEL.get(channel) or next(filter(None, addressed), None)
        where = channel or str(params.get("user_id") or "")
        if call.method in ("views.open", "views.push"):
            party = party or witness.by_trigger.get(str(params.get("trigger_id")))
            if party and call.ok:
                views[str(call.response["view"]["id"])] = party
            where = f"trigger {params.get('trigger_id')}"
        elif call.method == "views.update":
            party = party or views.get(str(params.get("view_id")))
            where = f"view {params.get('view_id')}"
        if party is not None:
            thread = " (thread reply)" if params.get("thread_ts") else ""
            shown.append(Shown(party, f"{call.method} to {where}{thread}", params))
    for hook in world.fake.hook_posts:
        party = PARTY_OF_CHANNEL.get(hook.channel or "")
        if party is not None:
            shown.append(Shown(party, f"response_url post in {hook.channel}", hook.body))
    return shown


def assert_private(shown: list[Shown], secrets: Mapping[str, tuple[str, ...]]) -> None:
    """No partner was shown another party's secrets; every leak is listed with the call."""
    leaks = []
    for item in shown:
        text = item.text
        for owner, words in secrets.items():
            if owner == item.party:
                continue
            for word in words:
                at = text.find(word)
                if at >= 0:
                    leaks.append(
                        f"{owner}'s {word!r} shown to {item.party} by {item.how}:\n"
                        f"  …{text[max(0, at - 200) : at + 200]}…\n"
                        f"  the whole call: {text[:4000]}"
                    )
    if leaks:
        pytest.fail(f"{len(leaks)} leak(s):\n\n" + "\n\n".join(leaks), pytrace=False)


def assert_covers(shown: list[Shown], party: str, *kinds: str) -> None:
    """The guard looked at real traffic: `party` was shown each kind of thing."""
    hows = [item.how for item in shown if item.party == party]
    for kind in kinds:
        assert any(kind in how for how in hows), f"{party} was never shown a {kind}: {hows}"


@pytest.fixture
def witness(world: World, monkeypatch: pytest.MonkeyPatch) -> Witness:
    """Watches every interaction sent to the app (who sent it, what was answered)."""
    seen = Witness()
    send = world.slack.send_interaction

    async def send_and_remember(
        payload: Mapping[str, Any], *, timestamp: str | None = None
    ) -> Reply:
        reply = await send(payload, timestamp=timestamp)
        seen.saw(payload, reply)
        return reply

    monkeypatch.setattr(world.slack, "send_interaction", send_and_remember)
    return seen


def with_references(**references: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """SECRETS plus each party's registration references in this scenario."""
    return {party: (*words, *references.get(party, ())) for party, words in SECRETS.items()}


EVERY_KIND = (
    "HTTP answer to view_submission",
    "chat.postMessage",
    "chat.update",
    "(thread reply)",
    "views.open",
    "views.update",
    "response_url post",
)


# --- two partners claim the same customer ---------------------------------------------------


async def two_partners_claim_the_same_customer(world: World) -> None:
    """Acme (DR-0001) and Globex (DR-0002) both register Initech, each after a pre-check;
    the desk asks Globex, Globex answers, the desk approves Globex and rejects Acme as a
    duplicate; both list their registrations and poke at the other's buttons; Acme
    registers another deal (DR-0003) and withdraws it."""
    await world.link_globex()
    acme_form = await open_form(world, p.PARTNER_REP, channel_id=ACME_CHANNEL)
    await precheck(world, acme_form, typed("Initech", "initech.com"))
    await world.register(**ACME_DEAL)
    globex_form = await open_form(world, p.OTHER_PARTNER_REP, channel_id=GLOBEX_CHANNEL)
    await precheck(
        world, globex_form, typed("Initech Inc", "initech.com"), person=p.OTHER_PARTNER_REP
    )
    await world.register(p.OTHER_PARTNER_REP, channel_id=GLOBEX_CHANNEL, **GLOBEX_DEAL)
    await world.delivered()

    await ask(world, 2, "Who signs on their side?")
    form = await provide_info(world, p.OTHER_PARTNER_REP, GLOBEX_CHANNEL, 2)
    await precheck(
        world, form["id"], typed("Initech Inc", "initech.com"), person=p.OTHER_PARTNER_REP
    )
    await answer(world, p.OTHER_PARTNER_REP, form, **GLOBEX_DEAL)
    await world.status_becomes(RegistrationStatus.under_review, 2)

    stale = await world.registration(1)
    await approve(world, 2)
    await reject(world, 1, "duplicate")
    await world.decide(p.APPROVER, Action.review_approve, stale)  # loses: already rejected

    await my_registrations(world, p.PARTNER_REP, ACME_CHANNEL)
    await my_registrations(world, p.OTHER_PARTNER_REP, GLOBEX_CHANNEL)
    globex_ref = RegistrationRef(id=2, version=(await world.registration(2)).version)
    acme_ref = RegistrationRef(id=1, version=(await world.registration(1)).version)
    hooks = len(world.fake.hook_posts)
    await world.click(
        p.PARTNER_REP, Action.card_withdraw, globex_ref.model_dump_json(), channel_id=ACME_CHANNEL
    )
    await world.click(
        p.PARTNER_REP, Action.review_approve, acme_ref.model_dump_json(), channel_id=ACME_CHANNEL
    )
    await world.click(
        p.OTHER_PARTNER_REP,
        Action.card_withdraw,
        acme_ref.model_dump_json(),
        channel_id=GLOBEX_CHANNEL,
    )
    await world.fake.wait_for_hook_posts(count=hooks + 3)

    await world.register(
        company="Vandelay Industries",
        website="vandelay.example",
        contact_email="art@vandelay.example",
        amount="11235",
    )
    await world.delivered()
    await withdraw(world, p.PARTNER_REP, ACME_CHANNEL, 3)
    await world.delivered()


async def test_two_partners_on_the_same_customer_never_see_each_other(
    world: World, witness: Witness
) -> None:
    await two_partners_claim_the_same_customer(world)

    shown = shown_to_partners(world, witness)
    assert_covers(shown, ACME, *EVERY_KIND)
    assert_covers(shown, GLOBEX, *EVERY_KIND)
    assert_private(shown, with_references(acme=("DR-0001", "DR-0003"), globex=("DR-0002",)))
    desk = world.fake.all_text_sent_to(DESK)
    for name in ("Acme Resellers", "Globex Corporation", "DR-0001", "DR-0002", "31,415"):
        assert name in desk, f"the desk should see {name!r}: the secrets are real"


# --- a partner against the direct team --------------------------------------------------------


async def a_partner_against_the_direct_team(world: World) -> None:
    """Hooli is a direct customer (owner by Slack id and e-mail) with an open opportunity.
    Acme pre-checks it and registers it twice: the desk asks about DR-0001, Acme answers,
    the desk rejects it as an existing customer and approves DR-0002; Acme lists its
    registrations and tries the desk's button. Globex, also linked, registers elsewhere and
    sees nothing of it."""
    world.fake.add_user(OWNER_ID, name=OWNER_NAME, email=OWNER_EMAIL)
    account = Account(
        "0011HOOLI",
        "Hooli Holdings",
        domain="hooli.com",
        country="US",
        owner_slack_id=OWNER_ID,
        owner_email=OWNER_EMAIL,
        is_customer=True,
    )
    opportunity = Opportunity(
        "0063HOOLI",
        "0011HOOLI",
        "Hooli Cloud Renewal",
        domain="hooli.com",
        stage="Verbal commit",
        amount=Decimal("16180"),
        owner_slack_id=OWNER_ID,
        owner_email=OWNER_EMAIL,
    )
    async with world.deps.uow() as uow:
        await uow.crm.upsert_accounts([account])
        await uow.crm.upsert_opportunities([opportunity])
        await uow.commit()
    await world.link_globex()
    hooli = {**ACME_DEAL, "company": "Hooli", "website": "www.hooli.com"}

    form = await open_form(world, p.PARTNER_REP, channel_id=ACME_CHANNEL)
    await precheck(world, form, typed("Hooli", "hooli.com"))
    await world.register(**hooli)
    await world.delivered()
    await ask(world, 1, "Is Hooli not already a customer of ours?")
    reopened = await provide_info(world, p.PARTNER_REP, ACME_CHANNEL, 1)
    await precheck(world, reopened["id"], typed("Hooli", "hooli.com"))
    await answer(world, p.PARTNER_REP, reopened, **{**hooli, "notes": "A new division"})
    await world.status_becomes(RegistrationStatus.under_review, 1)
    await reject(world, 1, "existing_customer")

    await world.register(**hooli)
    await world.delivered()
    await approve(world, 2)
    await my_registrations(world, p.PARTNER_REP, ACME_CHANNEL)
    mine = RegistrationRef(id=1, version=(await world.registration(1)).version)
    hooks = len(world.fake.hook_posts)
    await world.click(
        p.PARTNER_REP, Action.review_approve, mine.model_dump_json(), channel_id=ACME_CHANNEL
    )
    await world.fake.wait_for_hook_posts(count=hooks + 1)

    await world.register(
        p.OTHER_PARTNER_REP,
        channel_id=GLOBEX_CHANNEL,
        **{**GLOBEX_DEAL, "company": "Vandelay", "website": "vandelay.example"},
    )
    await world.delivered()
    await my_registrations(world, p.OTHER_PARTNER_REP, GLOBEX_CHANNEL)


async def test_a_partner_never_sees_the_direct_owner_or_account(
    world: World, witness: Witness
) -> None:
    await a_partner_against_the_direct_team(world)

    shown = shown_to_partners(world, witness)
    assert_covers(shown, ACME, *EVERY_KIND)
    assert_private(shown, with_references(acme=("DR-0001", "DR-0002"), globex=("DR-0003",)))
    desk = world.fake.all_text_sent_to(DESK)
    for secret in (f"<@{OWNER_ID}>", "0011HOOLI", "Hooli Holdings"):
        assert secret in desk, f"the desk should see {secret!r}: the secrets are real"
