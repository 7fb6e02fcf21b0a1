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
are not theirs; and the conflict desk in every direction. The evidence offers all six
resolution buttons against a direct account and a direct opportunity, and all but Co-sell
(which is with the direct team) against another partner (`OFFERED`); each offered one is
settled in front of the guard:

    button                       other partner    direct account   direct opportunity
    Award to this partner        SETTLEMENTS (1)  DIRECT           DIRECT
    Award to the existing owner  SETTLEMENTS (2)  DIRECT, TEAM     DIRECT, TEAM (3)
    Co-sell                      not offered      DIRECT           DIRECT, TEAM
    Mark duplicate               SETTLEMENTS      DIRECT           DIRECT
    Reject both                  SETTLEMENTS      DIRECT           DIRECT
    Request info                 REQUEST (4)      DIRECT           DIRECT

SETTLEMENTS: `test_a_settled_conflict_tells_each_partner_only_its_own_story`; DIRECT:
`test_every_resolution_against_the_direct_team_keeps_it_private`; TEAM:
`test_partners_settled_against_the_direct_team_never_see_it`; REQUEST:
`test_request_info_from_the_conflict_thread_and_the_answer_stay_with_their_partner`.
(1) an approved rival cancelled; (2) the other partner wins; (3) an owner known by e-mail
only; (4) answered with Provide info and a resubmission. In every DIRECT case the direct rep
says I'm working this first.

Around them: I'm working this by a direct rep; every resolution button and I'm working this
forged by partners in their own channels, and forged resolution and working submissions. The
desk's typed reasons name the other partner, the direct team and the amounts: neither the
winner nor the loser may read them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef
from domain.amounts import format_amount
from domain.conflicts import ClaimKind
from domain.crm import Account, Opportunity
from domain.ownership import Resolution
from domain.registration import RegistrationStatus
from domain.slack_ids import SlackUserId
from storage.models import AuditEventRow
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, GLOBEX_CHANNEL, World
from tests.slack.moves import (
    answer,
    approve,
    approve_through_case,
    ask,
    button_value,
    evidence,
    my_registrations,
    open_form,
    precheck,
    provide_info,
    reason_values,
    reject,
    settle_conflict,
    typed,
    withdraw,
    work_this,
    working_values,
)
from tests.slack.signing import Reply

ACME, GLOBEX = "acme", "globex"
PARTY_OF_TEAM: dict[str, str] = {p.PARTNER_REP.team_id: ACME, p.OTHER_PARTNER_REP.team_id: GLOBEX}
PARTY_OF_CHANNEL: dict[str, str] = {ACME_CHANNEL: ACME, GLOBEX_CHANNEL: GLOBEX}
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
OWNER_ID, OWNER_EMAIL, OWNER_NAME = (
    SlackUserId("U0DIRECTOWNER"),
    "dora.direct@vendor.example",
    "Dora Direct",
)
# A direct owner the CRM knows by e-mail only (Slack knows the address: a lookup would find it).
MAIL_OWNER_ID, MAIL_OWNER_EMAIL, MAIL_OWNER_NAME = (
    "U0MAILOWNER",
    "mo.mailonly@vendor.example",
    "Mo Mailonly",
)
# The direct team's customer, owned by Dora, and Acme's registration of it.
HOOLI = Account(
    "0011HOOLI",
    "Hooli Holdings",
    domain="hooli.com",
    country="US",
    owner_slack_id=OWNER_ID,
    owner_email=OWNER_EMAIL,
    is_customer=True,
)
HOOLI_DEAL = {**ACME_DEAL, "company": "Hooli", "website": "www.hooli.com"}

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
        MAIL_OWNER_ID,
        MAIL_OWNER_EMAIL,
        MAIL_OWNER_NAME,
        "0064UMBR",
        "Umbrella Biotech Expansion",
        "Legal review",
        *amounts("14142"),
        "0065PIPER",
        "Pied Piper Compression Pilot",
        "Technical win",
        *amounts("17320"),
    ),
    "desk": (
        p.APPROVER.user_id,
        p.APPROVER.name,
        p.ADMIN.user_id,
        p.ADMIN.name,
        p.INTERNAL_REP.user_id,
        p.INTERNAL_REP.name,
    ),
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
        return json.dumps(_scrubbed(self.payload), ensure_ascii=False)


OPAQUE = frozenset({"trigger_id", "hash"})
"""Keys whose values are random or clock-made (hex trigger ids, `<unix time>.<hex>` hashes):
they carry nothing of anyone's, but their digits could spell an amount by chance."""


def _scrubbed(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _scrubbed(v) for k, v in value.items() if k not in OPAQUE}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


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


PARTY_OF_USER: dict[str, str] = {p.PARTNER_REP.user_id: ACME, p.OTHER_PARTNER_REP.user_id: GLOBEX}


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


def assert_no_overlap_hint(shown: list[Shown]) -> None:
    """By default (`[privacy] partners_see_overlaps` off) no partner is told, on its card or
    in the pre-check, that another claim may overlap: not whose, not even that one exists."""
    for item in shown:
        assert "may overlap" not in item.text, f"{item.party} was told of an overlap: {item.how}"


def assert_covers(shown: list[Shown], party: str, *kinds: str) -> None:
    """The guard looked at real traffic: `party` was shown each kind of thing."""
    hows = [item.how for item in shown if item.party == party]
    for kind in kinds:
        assert any(kind in how for how in hows), f"{party} was never shown a {kind}: {hows}"


def assert_told(shown: list[Shown], party: str, *phrases: str) -> None:
    """The guard looked at the flow's own messages: `party` was shown each phrase."""
    texts = [item.text for item in shown if item.party == party]
    for phrase in phrases:
        assert any(phrase in text for text in texts), f"{party} was never told {phrase!r}"


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
    """Acme (AR-0001) and Globex (GC-0001) both register Initech, each after a pre-check;
    the desk asks Globex, Globex answers, the desk rejects Acme as a duplicate and approves
    Globex; both list their registrations and poke at the other's buttons; Acme
    registers another deal (AR-0002) and withdraws it."""
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
    await reject(world, 1, "duplicate")
    await approve(world, 2)  # no claim on the customer holds any more
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
    assert_private(shown, with_references(acme=("AR-0001", "AR-0002"), globex=("GC-0001",)))
    assert_no_overlap_hint(shown)
    desk = world.fake.all_text_sent_to(DESK)
    for name in ("Acme Resellers", "Globex Corporation", "AR-0001", "GC-0001", "31,415"):
        assert name in desk, f"the desk should see {name!r}: the secrets are real"


# --- a partner against the direct team --------------------------------------------------------


async def a_partner_against_the_direct_team(world: World) -> None:
    """Hooli is a direct customer (owner by Slack id and e-mail) with an open opportunity.
    Acme pre-checks it and registers it twice: the desk asks about AR-0001, Acme answers,
    the desk rejects it as an existing customer; Acme registers it again, and Approve on
    AR-0002 asks the desk to settle it first: a co-sell with the direct team; Acme lists its
    registrations and tries the desk's button. Globex, also linked, registers elsewhere and
    sees nothing of it."""
    world.fake.add_user(OWNER_ID, name=OWNER_NAME, email=OWNER_EMAIL)
    account = HOOLI
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
    hooli = HOOLI_DEAL

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
    await approve_through_case(world, 2, Resolution.co_sell, "Joint account plan with <Dora>.")
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
    assert_private(shown, with_references(acme=("AR-0001", "AR-0002"), globex=("GC-0001",)))
    assert_no_overlap_hint(shown)
    desk = world.fake.all_text_sent_to(DESK)
    for secret in (f"<@{OWNER_ID}>", "0011HOOLI", "Hooli Holdings"):
        assert secret in desk, f"the desk should see {secret!r}: the secrets are real"


# --- the conflict desk: shared moves ----------------------------------------------------------

DESK_CALL = "settled on the Tuesday desk call"
AWARD_REASON = (
    "Acme Resellers quoted $27,182 to Bill Lumbergh; Globex Corporation (31,415) ran the "
    f"pilot with Gina Buyer; {DESK_CALL}."
)
"""The desk's typed reason names both partners, their amounts and contacts: it belongs in the
desk's threads and the audit trail, never in front of either partner."""

APPROVERS_ONLY = "Only the deal desk's approvers can settle conflicts."
INTERNAL_ONLY = "Only the vendor's own team can claim a customer."
DESK_BUTTONS = (
    Action.resolve_award_partner,
    Action.resolve_award_existing,
    Action.resolve_co_sell,
    Action.resolve_duplicate,
    Action.resolve_reject_both,
    Action.resolve_request_info,
    Action.conflict_working,
)
PARTNERS = ((p.PARTNER_REP, ACME_CHANNEL), (p.OTHER_PARTNER_REP, GLOBEX_CHANNEL))


async def register_after_precheck(
    world: World, person: p.Person, channel_id: str, deal: Mapping[str, Any], company: str
) -> None:
    """The partner opens the form, presses Enter in the website (the pre-check), submits."""
    form = await open_form(world, person, channel_id=channel_id)
    website = str(deal.get("website", "initech.com"))
    await precheck(world, form, typed(company, website), person=person)
    await world.register(person, channel_id=channel_id, **deal)
    await world.delivered()


async def partners_poke_the_desk(
    world: World, registration_ids: tuple[int, ...], partners: tuple[tuple[p.Person, str], ...]
) -> None:
    """Partners who got hold of the desk's buttons (a forwarded message, a forged request)
    click each resolution and I'm working this in their own channel with real registration
    ids and versions, and forge the desk's modal submissions; all are refused, nothing moves."""
    hooks = len(world.fake.hook_posts)
    before = {rid: (await world.registration(rid)).version for rid in registration_ids}
    for person, channel_id in partners:
        for rid in registration_ids:
            ref = RegistrationRef(id=rid, version=before[rid]).model_dump_json()
            for action in DESK_BUTTONS:
                await world.click(person, action, ref, channel_id=channel_id)
            meta = {"id": rid, "version": before[rid], "resolution": "award_partner"}
            refused = await world.submit(
                person,
                Callback.resolve_submit,
                reason_values("Ours, obviously"),
                metadata=json.dumps(meta),
            )
            assert refused.json()["errors"] == {Block.resolve_reason: APPROVERS_ONLY}
            refused = await world.submit(
                person,
                Callback.working_submit,
                working_values("We are working this too"),
                metadata=ref,
            )
            assert refused.json()["errors"] == {Block.working_note: INTERNAL_ONLY}
    clicks = len(partners) * len(registration_ids) * len(DESK_BUTTONS)
    posts = await world.fake.wait_for_hook_posts(count=hooks + clicks)
    assert {h.body["text"] for h in posts[hooks:]} == {APPROVERS_ONLY, INTERNAL_ONLY}
    for rid, version in before.items():
        assert (await world.registration(rid)).version == version, "a refused click moved it"


async def audited(world: World, registration_id: int, reason: str) -> None:
    """The desk's reason is kept as a precedent in the registration's audit trail."""
    async with world.deps.engine.connect() as connection:
        rows = await connection.execute(
            select(AuditEventRow.reason).where(AuditEventRow.registration_id == registration_id)
        )
        reasons = [str(r) for (r,) in rows]
    assert any(reason in r for r in reasons), f"registration {registration_id} audit: {reasons}"


def desk_sees(world: World, *secrets: str) -> None:
    """The secrets are real: the desk (or a direct owner's DM) shows them."""
    internal = world.fake.all_text_sent_to(DESK)
    internal += "".join(world.fake.all_text_sent_to(u) for u in (OWNER_ID, MAIL_OWNER_ID))
    for secret in secrets:
        assert secret in internal, f"the desk should see {secret!r}: the secrets are real"


RESOLUTION_BUTTONS = DESK_BUTTONS[:-1]
OFFERED = {
    "partner": frozenset(RESOLUTION_BUTTONS) - {Action.resolve_co_sell},
    "account": frozenset(RESOLUTION_BUTTONS) - {Action.resolve_award_partner},
    "opportunity": frozenset(RESOLUTION_BUTTONS) - {Action.resolve_award_partner},
}
"""The resolution buttons the evidence offers against another partner's registration, a
direct account and a direct opportunity: all but Award to this partner against the direct
team (a direct claim stays an owner: the partner can only co-sell beside it), all but Co-sell
between partners (checked on the real evidence message before each settlement). Each offered
one is settled below in front of the guard; a button dropped for a kind comes out of its set
here, and its case with it."""


def offered(message: Mapping[str, Any]) -> frozenset[str]:
    """The resolution buttons an evidence message offers."""
    resolutions = {str(a) for a in RESOLUTION_BUTTONS}
    return frozenset(
        element["action_id"]
        for block in message.get("blocks", [])
        for element in block.get("elements", [])
        if element.get("action_id") in resolutions
    )


# --- the conflict desk: two partners, each resolution in turn ---------------------------------


@dataclass(frozen=True, slots=True)
class Settlement:
    """A resolution clicked on Globex's GC-0001 (Acme's AR-0001 was first), and its outcome."""

    action: Action
    acme: RegistrationStatus
    globex: RegistrationStatus
    acme_told: tuple[str, ...] = ()
    globex_told: tuple[str, ...] = ()
    acme_approved_first: bool = False


SETTLEMENTS = {
    "award-to-this-partner": Settlement(
        Action.resolve_award_partner,
        RegistrationStatus.cancelled,
        RegistrationStatus.approved,
        acme_told=("has withdrawn its approval of *AR-0001*",),
        globex_told=("*GC-0001* is approved",),
        acme_approved_first=True,
    ),
    "award-to-the-existing-owner": Settlement(
        Action.resolve_award_existing,
        RegistrationStatus.approved,
        RegistrationStatus.rejected,
        acme_told=("*AR-0001* is approved",),
        globex_told=("*GC-0001* was not approved",),
    ),
    "mark-duplicate": Settlement(
        Action.resolve_duplicate,
        RegistrationStatus.under_review,
        RegistrationStatus.rejected,
        globex_told=("*GC-0001* was not approved",),
    ),
    "reject-both": Settlement(
        Action.resolve_reject_both,
        RegistrationStatus.rejected,
        RegistrationStatus.rejected,
        acme_told=("*AR-0001* was not approved",),
        globex_told=("*GC-0001* was not approved",),
    ),
}


@pytest.mark.parametrize("settlement", SETTLEMENTS.values(), ids=SETTLEMENTS.keys())
async def test_a_settled_conflict_tells_each_partner_only_its_own_story(
    world: World, witness: Witness, settlement: Settlement
) -> None:
    """Acme (AR-0001, approved first for the award) and Globex (GC-0001) register Initech;
    both partners poke the desk's buttons from their channels; the desk settles GC-0001 from
    its evidence thread with a reason naming both partners and amounts; both list theirs."""
    await world.link_globex()
    await register_after_precheck(world, p.PARTNER_REP, ACME_CHANNEL, ACME_DEAL, "Initech")
    if settlement.acme_approved_first:
        await approve(world, 1)
    await register_after_precheck(
        world, p.OTHER_PARTNER_REP, GLOBEX_CHANNEL, GLOBEX_DEAL, "Initech Inc"
    )
    await partners_poke_the_desk(world, (1, 2), PARTNERS)
    assert offered(await evidence(world, "GC-0001")) == OFFERED["partner"]

    await settle_conflict(world, settlement.action, AWARD_REASON)
    await my_registrations(world, p.PARTNER_REP, ACME_CHANNEL)
    await my_registrations(world, p.OTHER_PARTNER_REP, GLOBEX_CHANNEL)

    assert (await world.registration(1)).status is settlement.acme
    assert (await world.registration(2)).status is settlement.globex
    shown = shown_to_partners(world, witness)
    if settlement.acme is RegistrationStatus.under_review:  # nothing told, its card untouched
        kinds = (k for k in EVERY_KIND if k not in ("chat.update", "(thread reply)"))
        assert_covers(shown, ACME, *kinds)
    else:
        assert_covers(shown, ACME, *EVERY_KIND)
    assert_covers(shown, GLOBEX, *EVERY_KIND)
    assert_told(shown, ACME, APPROVERS_ONLY, INTERNAL_ONLY, *settlement.acme_told)
    assert_told(shown, GLOBEX, APPROVERS_ONLY, INTERNAL_ONLY, *settlement.globex_told)
    assert_private(
        shown,
        with_references(acme=("AR-0001",), globex=("GC-0001",), desk=(AWARD_REASON, DESK_CALL)),
    )
    desk_sees(world, DESK_CALL, "Acme Resellers", "Globex Corporation", "AR-0001", "GC-0001")
    await audited(world, 2, AWARD_REASON)


# --- the conflict desk: request info from the conflict thread, answered ----------------------

QUESTION = "Who at Initech signs the order, and since when do you know them?"
ANSWER = "Their COO Peter Gibbons signs; we met him in March"


async def test_request_info_from_the_conflict_thread_and_the_answer_stay_with_their_partner(
    world: World, witness: Witness
) -> None:
    """The desk asks Globex from GC-0001's conflict thread; Globex clicks Provide info,
    pre-checks the reopened form and resubmits with an answer; the evidence is re-rendered
    for the new version; the desk then awards GC-0001 with a reason naming both partners."""
    await world.link_globex()
    await register_after_precheck(world, p.PARTNER_REP, ACME_CHANNEL, ACME_DEAL, "Initech")
    await register_after_precheck(
        world, p.OTHER_PARTNER_REP, GLOBEX_CHANNEL, GLOBEX_DEAL, "Initech Inc"
    )

    await settle_conflict(world, Action.resolve_request_info, QUESTION)
    assert (await world.registration(2)).status is RegistrationStatus.info_requested
    form = await provide_info(world, p.OTHER_PARTNER_REP, GLOBEX_CHANNEL, 2)
    await precheck(
        world, form["id"], typed("Initech Inc", "initech.com"), person=p.OTHER_PARTNER_REP
    )
    await answer(world, p.OTHER_PARTNER_REP, form, **{**GLOBEX_DEAL, "notes": ANSWER})
    answered = await world.status_becomes(RegistrationStatus.under_review, 2)
    shown_again = await evidence(world, "GC-0001")
    assert RegistrationRef.model_validate_json(
        button_value(shown_again, Action.resolve_award_partner)
    ) == RegistrationRef(id=2, version=answered.version, reference="GC-0001"), (
        "the evidence was not re-rendered"
    )
    await partners_poke_the_desk(world, (2,), PARTNERS)
    await settle_conflict(world, Action.resolve_award_partner, AWARD_REASON)

    assert (await world.registration(1)).status is RegistrationStatus.rejected
    assert (await world.registration(2)).status is RegistrationStatus.approved
    shown = shown_to_partners(world, witness)
    assert_covers(shown, ACME, *EVERY_KIND)
    assert_covers(shown, GLOBEX, *EVERY_KIND)
    assert_told(shown, GLOBEX, QUESTION, "*GC-0001* is approved")
    assert_told(shown, ACME, "*AR-0001* was not approved")
    # The question and the answer are Globex's conversation with the desk.
    assert_private(
        shown,
        with_references(
            acme=("AR-0001",),
            globex=("GC-0001", QUESTION, ANSWER),
            desk=(AWARD_REASON, DESK_CALL),
        ),
    )
    desk_sees(world, DESK_CALL, ANSWER)
    await audited(world, 2, QUESTION)
    await audited(world, 1, AWARD_REASON)


# --- the conflict desk: partners against the direct team --------------------------------------

DORA = p.Person(OWNER_ID, p.HOST_TEAM, name="dora.direct")
WORKING_NOTE = "Dora has the Hooli renewal at $16,180; Acme Resellers' 27182 is late"
WORKING_MARK = "proposal goes out Friday"
WORKING_LINK = "https://crm.vendor.example/opportunities/0063HOOLI"
DIRECT_CALL = "kept direct per the Q3 account plan"
DIRECT_REASON = (
    f"Hooli Holdings is Dora Direct's customer (0011HOOLI, renewal 16,180); {DIRECT_CALL}."
)
UMBRELLA_REASON = (
    f"Umbrella Biotech Expansion is in Legal review with mo.mailonly@vendor.example; {DIRECT_CALL}."
)
COSELL_CALL = "joint pursuit agreed with the direct team"
COSELL_REASON = f"Pied Piper Compression Pilot ($17,320) stays with Dora; {COSELL_CALL}."


async def import_the_direct_team(world: World) -> None:
    """Hooli: a customer account owned by Dora (Slack id and e-mail). Umbrella: an open
    opportunity whose owner the CRM knows by e-mail only. Pied Piper: an open opportunity
    owned by Dora."""
    world.fake.add_user(OWNER_ID, name=OWNER_NAME, email=OWNER_EMAIL)
    world.fake.add_user(MAIL_OWNER_ID, name=MAIL_OWNER_NAME, email=MAIL_OWNER_EMAIL)
    hooli = HOOLI
    umbrella = Opportunity(
        "0064UMBR",
        None,
        "Umbrella Biotech Expansion",
        domain="umbrellacorp.com",
        stage="Legal review",
        amount=Decimal("14142"),
        owner_email=MAIL_OWNER_EMAIL,
    )
    piper = Opportunity(
        "0065PIPER",
        None,
        "Pied Piper Compression Pilot",
        domain="piedpiper.com",
        stage="Technical win",
        amount=Decimal("17320"),
        owner_slack_id=OWNER_ID,
        owner_email=OWNER_EMAIL,
    )
    async with world.deps.uow() as uow:
        await uow.crm.upsert_accounts([hooli])
        await uow.crm.upsert_opportunities([umbrella, piper])
        await uow.commit()


async def test_partners_settled_against_the_direct_team_never_see_it(
    world: World, witness: Witness
) -> None:
    """Acme registers Hooli (AR-0001): Dora says I'm working this, Acme pokes the desk's
    buttons, the desk awards the account to its owner. Globex registers Umbrella (GC-0001):
    the desk awards the opportunity to its owner, known by e-mail only. Acme registers Pied
    Piper (AR-0002): the desk settles it as a co-sell. Every reason names the direct team."""
    await import_the_direct_team(world)
    await world.link_globex()

    hooli = HOOLI_DEAL
    await register_after_precheck(world, p.PARTNER_REP, ACME_CHANNEL, hooli, "Hooli")
    await work_this(world, DORA, "AR-0001", f"{WORKING_NOTE}; {WORKING_MARK}.", WORKING_LINK)
    assert "is working this" in json.dumps(await evidence(world, "AR-0001"))
    await partners_poke_the_desk(world, (1,), PARTNERS[:1])
    await settle_conflict(world, Action.resolve_award_existing, DIRECT_REASON, "AR-0001")

    umbrella = {
        **GLOBEX_DEAL,
        "company": "Umbrella Corporation",
        "website": "umbrellacorp.com",
        "contact_email": "gina.buyer@umbrellacorp.com",
    }
    await register_after_precheck(
        world, p.OTHER_PARTNER_REP, GLOBEX_CHANNEL, umbrella, "Umbrella Corporation"
    )
    await partners_poke_the_desk(world, (2,), PARTNERS[1:])
    await settle_conflict(world, Action.resolve_award_existing, UMBRELLA_REASON, "GC-0001")

    piper = {
        **ACME_DEAL,
        "company": "Pied Piper",
        "website": "piedpiper.com",
        "contact_email": "bill@piedpiper.com",
    }
    await register_after_precheck(world, p.PARTNER_REP, ACME_CHANNEL, piper, "Pied Piper")
    await settle_conflict(world, Action.resolve_co_sell, COSELL_REASON, "AR-0002")
    await my_registrations(world, p.PARTNER_REP, ACME_CHANNEL)
    await my_registrations(world, p.OTHER_PARTNER_REP, GLOBEX_CHANNEL)

    statuses = [(await world.registration(rid)).status for rid in (1, 2, 3)]
    assert statuses == [
        RegistrationStatus.rejected,
        RegistrationStatus.rejected,
        RegistrationStatus.approved,
    ]
    shown = shown_to_partners(world, witness)
    assert_covers(shown, ACME, *EVERY_KIND)
    assert_covers(shown, GLOBEX, *EVERY_KIND)
    assert_told(shown, ACME, APPROVERS_ONLY, INTERNAL_ONLY, "*AR-0001* was not approved")
    assert_told(shown, ACME, "*AR-0002* is approved as a co-sell")
    assert_told(shown, GLOBEX, APPROVERS_ONLY, INTERNAL_ONLY, "*GC-0001* was not approved")
    desk_words = (
        WORKING_NOTE,
        WORKING_MARK,
        WORKING_LINK,
        DIRECT_REASON,
        DIRECT_CALL,
        UMBRELLA_REASON,
        COSELL_REASON,
        COSELL_CALL,
    )
    assert_private(
        shown,
        with_references(acme=("AR-0001", "AR-0002"), globex=("GC-0001",), desk=desk_words),
    )
    desk_sees(world, WORKING_MARK, WORKING_LINK, DIRECT_CALL, COSELL_CALL, f"<@{OWNER_ID}>")
    desk_sees(world, "0011HOOLI", "Umbrella Biotech Expansion", MAIL_OWNER_EMAIL, "0065PIPER")
    for rid, reason in ((1, WORKING_MARK), (1, DIRECT_REASON), (2, UMBRELLA_REASON)):
        await audited(world, rid, reason)
    await audited(world, 3, COSELL_REASON)


# --- the conflict desk: every resolution against a direct account and opportunity -------------

PIPER_REASON = (
    "Pied Piper Compression Pilot ($17,320, Technical win) is Dora Direct's (0065PIPER); "
    f"{DIRECT_CALL}."
)
DIRECT_QUESTION = "Who at the customer brought you in, and since when?"
"""The desk's question goes to the partner: it is Acme's conversation, not a desk secret."""


@dataclass(frozen=True, slots=True)
class DirectCase:
    """A customer the direct team holds, as Acme registers it, and the desk's reason."""

    claim: ClaimKind
    deal: Mapping[str, Any]
    company: str
    reason: str
    owner_shown: tuple[str, ...]


DIRECT_CASES = {
    "account": DirectCase(
        ClaimKind.account, HOOLI_DEAL, "Hooli", DIRECT_REASON, ("0011HOOLI", "Hooli Holdings")
    ),
    "opportunity": DirectCase(
        ClaimKind.opportunity,
        {
            **ACME_DEAL,
            "company": "Pied Piper",
            "website": "piedpiper.com",
            "contact_email": "bill@piedpiper.com",
        },
        "Pied Piper",
        PIPER_REASON,
        ("0065PIPER", "Pied Piper Compression Pilot"),
    ),
}


@dataclass(frozen=True, slots=True)
class DirectSettlement:
    """A resolution of Acme's AR-0001 against the direct team, and what Acme is told."""

    action: Action
    acme: RegistrationStatus
    acme_told: str


DIRECT_SETTLEMENTS = {
    "award-to-this-partner": DirectSettlement(
        Action.resolve_award_partner, RegistrationStatus.approved, "*AR-0001* is approved"
    ),
    "award-to-the-existing-owner": DirectSettlement(
        Action.resolve_award_existing, RegistrationStatus.rejected, "*AR-0001* was not approved"
    ),
    "co-sell": DirectSettlement(
        Action.resolve_co_sell, RegistrationStatus.approved, "*AR-0001* is approved as a co-sell"
    ),
    "mark-duplicate": DirectSettlement(
        Action.resolve_duplicate, RegistrationStatus.rejected, "*AR-0001* was not approved"
    ),
    "reject-both": DirectSettlement(
        Action.resolve_reject_both, RegistrationStatus.rejected, "*AR-0001* was not approved"
    ),
    "request-info": DirectSettlement(
        Action.resolve_request_info, RegistrationStatus.info_requested, DIRECT_QUESTION
    ),
}


@pytest.mark.parametrize(
    ("kind", "settlement"),
    [
        pytest.param(kind, settlement, id=f"{kind}-{name}")
        for kind in DIRECT_CASES
        for name, settlement in DIRECT_SETTLEMENTS.items()
        if settlement.action in OFFERED[kind]
    ],
)
async def test_every_resolution_against_the_direct_team_keeps_it_private(
    world: World, witness: Witness, kind: str, settlement: DirectSettlement
) -> None:
    """Acme registers a customer the direct team holds (AR-0001): Dora says I'm working
    this, both partners poke the desk's buttons, the desk settles it with a reason naming
    the direct team (or asks Acme a question), and both partners list theirs."""
    case = DIRECT_CASES[kind]
    await import_the_direct_team(world)
    await world.link_globex()
    await register_after_precheck(world, p.PARTNER_REP, ACME_CHANNEL, case.deal, case.company)
    async with world.deps.uow() as uow:
        found = await uow.findings.for_registration(1)
    assert [f.claim.kind for f in found] == [case.claim], "one direct claim of this kind"
    await work_this(world, DORA, "AR-0001", f"{WORKING_NOTE}; {WORKING_MARK}.", WORKING_LINK)
    await partners_poke_the_desk(world, (1,), PARTNERS)
    assert offered(await evidence(world, "AR-0001")) == OFFERED[kind]

    asking = settlement.action is Action.resolve_request_info
    reason = DIRECT_QUESTION if asking else case.reason
    await settle_conflict(world, settlement.action, reason, "AR-0001")
    await my_registrations(world, p.PARTNER_REP, ACME_CHANNEL)
    await my_registrations(world, p.OTHER_PARTNER_REP, GLOBEX_CHANNEL)

    assert (await world.registration(1)).status is settlement.acme
    shown = shown_to_partners(world, witness)
    assert_covers(shown, ACME, *EVERY_KIND)
    assert_covers(shown, GLOBEX, "response_url post", "views.update")
    assert_told(shown, ACME, APPROVERS_ONLY, INTERNAL_ONLY, settlement.acme_told)
    assert_told(shown, GLOBEX, APPROVERS_ONLY, INTERNAL_ONLY)
    desk_words = (WORKING_NOTE, WORKING_MARK, WORKING_LINK, DIRECT_CALL, case.reason)
    acme_words = ("AR-0001", DIRECT_QUESTION) if asking else ("AR-0001",)
    assert_private(shown, with_references(acme=acme_words, desk=desk_words))
    desk_sees(world, WORKING_MARK, WORKING_LINK, f"<@{OWNER_ID}>", *case.owner_shown)
    if not asking:
        desk_sees(world, DIRECT_CALL)
    await audited(world, 1, reason)
