"""One owner per customer under random use: a hypothesis state machine drives the real app.

Three partners register three customers (one of them, as the example chooses, a direct
account or a direct open opportunity of the vendor) in any order; approvers approve from the
review card, from App Home and from stale cards, settle cases from the conflict thread or from
the choice Approve opens, reject, ask for info; partners answer (possibly about another
customer) and withdraw. After every step:

- at most one owner per customer: of the registrations of one customer that still hold a
  claim, at most one is approved, and one beside a direct claim only as a co-sell; and, read
  from the stored findings, no conflict pair has both sides approved (a direct side counts as
  approved unless the registration was co-sold);
- no partner channel shows anything of another party's claim: another partner's name,
  reference or amount, the direct team's records, the desk's typed reasons, or words saying
  that some claim overlaps.

SQLite here (one process, so the steps are sequential); `test_one_owner_races.py` runs the
decisive steps concurrently on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef
from domain.crm import Account, Opportunity
from domain.ownership import Resolution
from domain.registration import RegistrationStatus
from domain.services import LinkPartner
from domain.slack_ids import SlackChannelId, SlackTeamId, SlackUserId
from storage.migrate import upgrade
from storage.models import RegistrationRow
from tests.slack import payloads as p
from tests.slack.conftest import (
    ACME_CHANNEL,
    DESK,
    ENV_NAMES,
    GLOBEX_CHANNEL,
    World,
    dibs_config,
    form_values,
    running_dibs,
    text_of,
)
from tests.slack.fake_slack import FakeSlack
from tests.slack.one_owner import approve_buttons, assert_one_owner

T = TypeVar("T")

SOYLENT_REP = p.Person(SlackUserId("U0SOYLENT"), SlackTeamId("T0SOYLENT"), name="sol.soylent")
SOYLENT_CHANNEL = SlackChannelId("C0SOYLENT")
DIRECT_OWNER = SlackUserId("U0DORA")
DESK_MARK = "DESK-ONLY"
"""In every reason the desk types for itself (not questions to partners): partners must
never read it."""


@dataclass(frozen=True, slots=True)
class Customer:
    company: str
    website: str


CUSTOMERS = (
    Customer("Initech", "initech.com"),
    Customer("Hooli", "hooli.com"),
    Customer("Umbrella Pharma", "umbrella.example"),
)
DIRECT_CUSTOMER = CUSTOMERS[0]
"""The customer the direct team may hold (as the example chooses)."""


@dataclass(frozen=True, slots=True)
class Seat:
    """A partner as the machine drives it: who clicks, where, and its tell-tale amount."""

    name: str
    person: p.Person
    channel: str
    amount: str


SEATS = (
    Seat("Acme Resellers", p.PARTNER_REP, ACME_CHANNEL, "10101"),
    Seat("Globex Corporation", p.OTHER_PARTNER_REP, GLOBEX_CHANNEL, "20202"),
    Seat("Soylent Partners", SOYLENT_REP, SOYLENT_CHANNEL, "30303"),
)
WAITING = (RegistrationStatus.under_review,)
STEP_TIMEOUT = 10.0


def formatted(amount: str) -> str:
    return f"{Decimal(amount):,.0f}"


class OneOwnerMachine(RuleBasedStateMachine):
    """One Dibs (app, outbox worker, fake Slack, SQLite file) per example."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.stack = contextlib.AsyncExitStack()
        self.folder = Path(tempfile.mkdtemp(prefix="dibs-machine-"))
        shutil.copy(TEMPLATE.path, self.folder / "dibs.db")
        self.world: World = self.run(self._start(f"sqlite+aiosqlite:///{self.folder}/dibs.db"))
        self.seat_of: dict[int, Seat] = {}
        """Which seat submitted each registration (by id)."""
        self.first_buttons: dict[int, str] = {}
        """Each registration's Approve button as its review card first showed it (stale)."""
        self.direct: str = "none"

    # --- plumbing ---------------------------------------------------------------------------

    def run(self, coroutine: Awaitable[T]) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, 60))

    async def _start(self, url: str) -> World:
        fake = await self.stack.enter_async_context(FakeSlack())
        fake.add_channel(ACME_CHANNEL, connected_team_ids=[p.HOST_TEAM, "T0ACME"])
        fake.add_channel(SOYLENT_CHANNEL, connected_team_ids=[p.HOST_TEAM, "T0SOYLENT"])
        world = await self.stack.enter_async_context(running_dibs(url, fake, config=dibs_config()))
        await world.link_globex()
        await world.deps.services.partners.link(
            LinkPartner(
                "Soylent Partners",
                "Silver",
                SOYLENT_CHANNEL,
                slack_team_id=SlackTeamId("T0SOYLENT"),
            )
        )
        world.deps.kick_outbox()
        await world.delivered()
        return world

    def teardown(self) -> None:
        try:
            self.run(self.stack.aclose())
        finally:
            self.loop.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    async def _status(self, registration_id: int) -> RegistrationStatus:
        return (await self.world.registration(registration_id)).status

    async def _marks(self) -> tuple[int, ...]:
        fake = self.world.fake
        async with self.world.deps.engine.connect() as connection:
            versions = tuple(
                (await connection.execute(select(RegistrationRow.version))).scalars().all()
            )
        return (
            len(fake.calls_to("views.open")),
            len(fake.calls_to("chat.postEphemeral")),
            len(fake.hook_posts),
            sum(versions),
        )

    async def _click_and_wait(self, send: Callable[[], Awaitable[Any]]) -> None:
        """Send a click and wait for what it does after its ack: a decision, a modal or a
        private answer (every click ends in one of them), then for the outbox."""
        before = await self._marks()
        await send()
        deadline = self.loop.time() + STEP_TIMEOUT
        while await self._marks() == before:
            assert self.loop.time() < deadline, "a click did nothing visible"
            await asyncio.sleep(0.02)
        self.world.deps.kick_outbox()
        await self.world.delivered(timeout=STEP_TIMEOUT)

    def _pick(self, index: int, *statuses: RegistrationStatus) -> int | None:
        """A registration id (by `index`), among those in `statuses` if given."""
        ids = sorted(self.seat_of)
        if statuses:
            ids = [i for i in ids if self.run(self._status(i)) in statuses]
        return ids[index % len(ids)] if ids else None

    # --- the direct team ---------------------------------------------------------------------

    @initialize(direct=st.sampled_from(["none", "account", "opportunity"]))
    def the_direct_team(self, direct: str) -> None:
        self.direct = direct
        if direct == "none":
            return

        async def load() -> None:
            async with self.world.deps.uow() as uow:
                if direct == "account":
                    await uow.crm.upsert_accounts(
                        [
                            Account(
                                "0011INITECH",
                                "Initech Holdings",
                                domain=DIRECT_CUSTOMER.website,
                                owner_slack_id=DIRECT_OWNER,
                            )
                        ]
                    )
                else:
                    await uow.crm.upsert_opportunities(
                        [
                            Opportunity(
                                "0063INITECH",
                                None,
                                "Initech Renewal",
                                domain=DIRECT_CUSTOMER.website,
                                stage="Proposal",
                                owner_slack_id=DIRECT_OWNER,
                            )
                        ]
                    )
                await uow.commit()

        self.run(load())

    # --- partners ------------------------------------------------------------------------------

    @rule(seat=st.sampled_from(SEATS), customer=st.sampled_from(CUSTOMERS))
    def register(self, seat: Seat, customer: Customer) -> None:
        async def go() -> None:
            count = await self.world.registration_count()
            reply = await self.world.register(
                seat.person,
                channel_id=seat.channel,
                company=customer.company,
                website=f"https://www.{customer.website}",
                contact_email=f"buyer@{customer.website}",
                amount=seat.amount,
            )
            assert "errors" not in reply.text, reply.text
            assert await self.world.registration_count() == count + 1
            registration_id = count + 1
            self.seat_of[registration_id] = seat
            await self.world.delivered(timeout=STEP_TIMEOUT)
            card = await self.world.card(DESK, await self._reference(registration_id))
            self.first_buttons[registration_id] = _approve_button(card)["value"]

        self.run(go())

    @precondition(lambda self: self.seat_of)
    @rule(index=st.integers(0, 30), customer=st.sampled_from(CUSTOMERS))
    def partner_answers_an_info_request(self, index: int, customer: Customer) -> None:
        registration_id = self._pick(index, RegistrationStatus.info_requested)
        if registration_id is None:
            return
        seat = self.seat_of[registration_id]

        async def go() -> None:
            asked = await self.world.registration(registration_id)
            ref = RegistrationRef(id=registration_id, version=asked.version).model_dump_json()
            before = len(self.world.views_opened(Callback.registration_submit))
            await self.world.click(
                seat.person, Action.card_provide_info, ref, channel_id=seat.channel
            )
            forms = await self.world.fake.wait_for(
                "views.open",
                count=before + 1,
                where=lambda c: c.params["view"]["callback_id"] == Callback.registration_submit,
            )
            form = forms[-1].response["view"]
            await self.world.submit(
                seat.person,
                Callback.registration_submit,
                form_values(
                    company=customer.company,
                    website=f"https://www.{customer.website}",
                    contact_email=f"buyer@{customer.website}",
                    amount=seat.amount,
                ),
                metadata=form["private_metadata"],
                view_id=form["id"],
            )
            self.world.deps.kick_outbox()
            await self.world.delivered(timeout=STEP_TIMEOUT)

        self.run(go())

    @precondition(lambda self: self.seat_of)
    @rule(index=st.integers(0, 30))
    def partner_withdraws(self, index: int) -> None:
        registration_id = self._pick(
            index, RegistrationStatus.under_review, RegistrationStatus.info_requested
        )
        if registration_id is None:
            return
        seat = self.seat_of[registration_id]

        async def go() -> None:
            current = await self.world.registration(registration_id)
            ref = RegistrationRef(id=registration_id, version=current.version).model_dump_json()
            await self._click_and_wait(
                lambda: self.world.click(
                    seat.person, Action.card_withdraw, ref, channel_id=seat.channel
                )
            )

        self.run(go())

    # --- the desk ------------------------------------------------------------------------------

    @precondition(lambda self: self.seat_of)
    @rule(index=st.integers(0, 30), from_home=st.booleans())
    def approver_clicks_approve(self, index: int, from_home: bool) -> None:
        """Approve on the review card or in App Home; a choice it opens is left unanswered."""
        registration_id = self._pick(index, *WAITING)
        if registration_id is None:
            return
        self.run(self._approve(registration_id, from_home=from_home))

    @precondition(lambda self: self.first_buttons)
    @rule(index=st.integers(0, 30))
    def approver_clicks_a_stale_approve(self, index: int) -> None:
        """Approve on a card as it was first posted, whatever happened since."""
        registration_id = sorted(self.first_buttons)[index % len(self.first_buttons)]
        value = self.first_buttons[registration_id]
        self.run(self._click_and_wait(lambda: self._send_approve(value, home=None)))

    @precondition(lambda self: self.seat_of)
    @rule(
        index=st.integers(0, 30),
        resolution=st.sampled_from(list(Resolution)),
        through_approve=st.booleans(),
    )
    def approver_settles(self, index: int, resolution: Resolution, through_approve: bool) -> None:
        """A resolution from the conflict thread's buttons, or from the choice Approve opens
        (a resolution the case does not offer is refused next to the field)."""
        registration_id = self._pick(index, *WAITING)
        if registration_id is None:
            return

        async def go() -> None:
            if through_approve:
                view = await self._approve(registration_id, from_home=False)
            else:
                view = await self._open_from_thread(registration_id, resolution)
            if view is None or view.get("callback_id") != Callback.resolve_submit:
                return
            asking = resolution is Resolution.request_info  # the partner reads a question
            reason = "Who signs on your side?" if asking else f"{DESK_MARK}: desk call."
            values: dict[str, Any] = {Block.resolve_reason: p.text_value(reason)}
            if any(b.get("block_id") == Block.resolve_choice for b in view["blocks"]):
                values[Block.resolve_choice] = p.radio_value(resolution.value)
            await self.world.submit(
                p.APPROVER,
                Callback.resolve_submit,
                p.values(values),
                metadata=view["private_metadata"],
            )
            self.world.deps.kick_outbox()
            await self.world.delivered(timeout=STEP_TIMEOUT)

        self.run(go())

    @precondition(lambda self: self.seat_of)
    @rule(index=st.integers(0, 30), ask=st.booleans())
    def approver_rejects_or_asks(self, index: int, ask: bool) -> None:
        registration_id = self._pick(index, *WAITING)
        if registration_id is None:
            return
        action = Action.review_request_info if ask else Action.review_reject
        callback = Callback.request_info_submit if ask else Callback.reject_submit

        async def go() -> None:
            before = len(self.world.views_opened(callback))
            await self.world.decide(
                p.APPROVER, action, await self.world.registration(registration_id)
            )
            opened = await self.world.fake.wait_for(
                "views.open",
                count=before + 1,
                where=lambda c: c.params["view"]["callback_id"] == callback,
            )
            values: dict[str, Any]
            if ask:
                values = {Block.info_question: p.text_value("Who signs on your side?")}
            else:
                values = {
                    Block.reject_reason: p.select_value("not_qualified"),
                    Block.reject_note: p.text_value(None),
                }
            await self.world.submit(
                p.APPROVER,
                callback,
                p.values(values),
                metadata=opened[-1].params["view"]["private_metadata"],
            )
            self.world.deps.kick_outbox()
            await self.world.delivered(timeout=STEP_TIMEOUT)

        self.run(go())

    async def _reference(self, registration_id: int) -> str:
        return (await self.world.registration(registration_id)).reference

    async def _send_approve(self, value: str, *, home: dict[str, Any] | None) -> None:
        payload = p.block_actions(
            p.APPROVER,
            action_id=Action.review_approve,
            value=value,
            channel_id=None if home is not None else DESK,
            view=home,
            response_url=None if home is not None else self.world.fake.hook_url(channel=DESK),
        )
        assert (await self.world.slack.send_interaction(payload)).status == 200

    async def _approve(self, registration_id: int, *, from_home: bool) -> dict[str, Any] | None:
        """Click Approve (or Settle conflict…) and return the modal it opened, if any."""
        if from_home:
            published = len(self.world.fake.calls_to("views.publish"))
            envelope = p.event_callback(p.app_home_opened(p.APPROVER))
            await self.world.slack.send_event(envelope)
            calls = await self.world.fake.wait_for("views.publish", count=published + 1)
            home = calls[-1].params["view"]
            buttons = [
                b
                for b in approve_buttons(home)
                if RegistrationRef.model_validate_json(b["value"]).id == registration_id
            ]
            if not buttons:  # not among the rows App Home shows
                return None
            value, where = buttons[0]["value"], {"type": "home", "blocks": home["blocks"]}
        else:
            card = await self.world.card(DESK, await self._reference(registration_id))
            value, where = _approve_button(card)["value"], None
        opened = len(self.world.fake.calls_to("views.open"))
        await self._click_and_wait(lambda: self._send_approve(value, home=where))
        calls = self.world.fake.calls_to("views.open")
        if len(calls) == opened:
            return None
        view: dict[str, Any] = calls[-1].params["view"]
        return view

    async def _open_from_thread(
        self, registration_id: int, resolution: Resolution
    ) -> dict[str, Any] | None:
        reference = await self._reference(registration_id)
        replies = await self.world.thread_replies(DESK, reference)
        action = RESOLUTION_ACTIONS[resolution]
        evidence = [m for m in replies if action in text_of(m)]
        if not evidence:  # no case, or this resolution is not offered
            return None
        message = evidence[-1]
        value = next(
            e["value"]
            for b in message["blocks"]
            for e in b.get("elements", [])
            if e.get("action_id") == action
        )
        opened = len(self.world.fake.calls_to("views.open"))
        payload = p.block_actions(
            p.APPROVER,
            action_id=action,
            value=value,
            block_id="conflict-resolve",
            channel_id=DESK,
            message=message,
            response_url=self.world.fake.hook_url(channel=DESK),
        )
        assert (await self.world.slack.send_interaction(payload)).status == 200
        calls = await self.world.fake.wait_for("views.open", count=opened + 1)
        view_id = calls[-1].response["view"]["id"]
        [filled] = await self.world.fake.wait_for(
            "views.update", where=lambda c: c.params.get("view_id") == view_id
        )
        view: dict[str, Any] = filled.params["view"]
        return view

    # --- what must hold after every step --------------------------------------------------------

    @invariant()
    def one_owner_per_customer(self) -> None:
        self.run(self._one_owner())

    @invariant()
    def partners_see_only_their_own(self) -> None:
        self.run(self._private())

    async def _one_owner(self) -> None:
        direct = {DIRECT_CUSTOMER.website} if self.direct != "none" else set()
        await assert_one_owner(self.world.deps.engine, direct_websites=direct)

    async def _private(self) -> None:
        references = {r: (await self.world.registration(r)).reference for r in sorted(self.seat_of)}
        for seat in SEATS:
            shown = self.world.fake.all_text_sent_to(seat.channel)
            secrets = [DESK_MARK, DIRECT_OWNER, "0011INITECH", "0063INITECH", "overlap"]
            secrets += ["existing claim", "Initech Holdings", "Initech Renewal"]
            for other in SEATS:
                if other is seat:
                    continue
                secrets += [other.name, formatted(other.amount), other.person.user_id]
                secrets += [ref for r, ref in references.items() if self.seat_of[r] is other]
            for secret in secrets:
                assert secret not in shown, f"{seat.name}'s channel shows {secret!r}"


RESOLUTION_ACTIONS = {
    Resolution.award_partner: Action.resolve_award_partner,
    Resolution.award_existing: Action.resolve_award_existing,
    Resolution.co_sell: Action.resolve_co_sell,
    Resolution.duplicate: Action.resolve_duplicate,
    Resolution.reject_both: Action.resolve_reject_both,
    Resolution.request_info: Action.resolve_request_info,
}


def _approve_button(card: dict[str, Any]) -> dict[str, Any]:
    [button] = approve_buttons(card)
    return button


@dataclass
class Template:
    """A migrated database file each example copies (migrating takes longer than a step)."""

    path: Path = Path()


TEMPLATE = Template()


@pytest.fixture
def migrated_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    TEMPLATE.path = path
    return path


def test_one_owner_per_customer_whatever_the_desk_and_partners_do(
    migrated_template: Path,
) -> None:
    run_state_machine_as_test(
        OneOwnerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
