"""The conflict desk settles overlaps from the evidence thread under a review card.

Two partners register the same customer, or a partner registers a direct account; an
approver clicks a resolution, gives a reason, and every registration involved moves at once,
each party told its own story. Refusals and races are told privately.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.ids import Action, Block, Callback
from bot.settings import get_settings
from bot.views.common import RegistrationRef
from bot.views.resolution_modals import ResolutionContext
from domain.crm import Account
from domain.ownership import Resolution
from domain.registration import RegistrationStatus, RejectionReason
from domain.slack_ids import SlackUserId
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, GLOBEX_CHANNEL, World, form_values, text_of
from tests.slack.moves import (
    ask,
    button_value,
    click_in_evidence,
    evidence,
    open_modal,
    reason_values,
    reject,
    working_values,
)

DIRECT_OWNER = SlackUserId("U0DIRECTOWNER")
# Matches the form's default company (Initech, initech.com) by its website only.
NAMED_ACCOUNT = Account(
    "0011ACCT",
    "Initrode Global",
    domain="initech.com",
    is_named=True,
    owner_slack_id=DIRECT_OWNER,
)
DESK_ONLY_REASON = "Kept by Rita's enterprise team since 2019."
REASON = "Globex brought us the <champion> & ran the pilot; Acme only sent a price list."


async def import_account(world: World, account: Account = NAMED_ACCOUNT) -> None:
    """The direct team's CRM account, as `dibs import accounts` stores it."""
    async with world.deps.uow() as uow:
        await uow.crm.upsert_accounts([account])
        await uow.commit()


async def two_partners_register(world: World) -> None:
    """Acme registers Initech (AR-0001), then Globex registers the same website (GC-0001):
    each partner's first registration."""
    await world.link_globex()
    await world.register()
    await world.delivered()
    await world.register(p.OTHER_PARTNER_REP, channel_id=GLOBEX_CHANNEL)
    await world.delivered()


async def settle(
    world: World, action: Action, reason: str = REASON, reference: str = "GC-0001"
) -> None:
    """Open the modal from the evidence thread and submit it with `reason`."""
    view = await open_modal(world, action, reference)
    reply = await world.submit(
        p.APPROVER,
        Callback.resolve_submit,
        reason_values(reason),
        metadata=view["private_metadata"],
    )
    assert reply.json() is None  # the modal closes
    world.deps.kick_outbox()
    await world.delivered()


# --- the evidence thread and the modal -------------------------------------------------------


async def test_second_registration_gets_evidence_with_buttons_under_its_review_card(
    world: World,
) -> None:
    await two_partners_register(world)

    review = await world.card(DESK, "GC-0001")
    message = await evidence(world, "GC-0001")

    assert message["thread_ts"] == review["ts"]
    shown = text_of(message)
    assert "AR-0001" in shown
    assert "Acme Resellers" in shown
    assert Action.resolve_co_sell not in {
        e.get("action_id") for b in message["blocks"] for e in b.get("elements", [])
    }  # co-selling is with the direct team: between partners it is not offered
    for action in (
        Action.resolve_award_partner,
        Action.resolve_award_existing,
        Action.resolve_duplicate,
        Action.resolve_reject_both,
        Action.resolve_request_info,
        Action.conflict_working,
    ):
        ref = RegistrationRef.model_validate_json(button_value(message, action))
        version = (await world.registration(2)).version
        assert ref == RegistrationRef(id=2, version=version, reference="GC-0001")


async def test_resolution_button_opens_the_modal_for_this_registration(world: World) -> None:
    await two_partners_register(world)

    await click_in_evidence(world, p.APPROVER, Action.resolve_award_partner)

    [opened] = await world.fake.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == Callback.resolve_submit
    meta = ResolutionContext.model_validate_json(view["private_metadata"])
    assert (meta.id, meta.resolution) == (2, Resolution.award_partner)
    assert meta.version == (await world.registration(2)).version
    assert "Award to this partner" in text_of(view)
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [Block.resolve_reason]


async def test_filled_modal_shows_the_company_and_the_recommendation(world: World) -> None:
    await two_partners_register(world)

    view = await open_modal(world, Action.resolve_reject_both)

    shown = text_of(view)
    assert "GC-0001" in shown
    assert "Initech" in shown
    assert "Recommended: *Award to the existing owner*" in shown
    assert "You are choosing otherwise" in shown


# --- award to this partner -----------------------------------------------------------------


async def test_award_to_this_partner_moves_both_registrations_at_once(world: World) -> None:
    await two_partners_register(world)

    await settle(world, Action.resolve_award_partner)

    winner, loser = await world.registration(2), await world.registration(1)
    assert winner.status is RegistrationStatus.approved
    assert winner.protected_until is not None
    assert loser.status is RegistrationStatus.rejected
    assert loser.rejection_reason == "duplicate"
    assert winner.decided_at == loser.decided_at  # one transaction, one moment
    for registration in (winner, loser):
        assert registration.decided_by is not None
        assert registration.decided_by.user_id == p.APPROVER.user_id


async def test_award_to_this_partner_updates_both_partner_cards(world: World) -> None:
    await two_partners_register(world)
    acme_card = await world.card(ACME_CHANNEL, "AR-0001")
    globex_card = await world.card(GLOBEX_CHANNEL, "GC-0001")

    await settle(world, Action.resolve_award_partner)

    updated = {(c.params["channel"], c.params["ts"]) for c in world.fake.calls_to("chat.update")}
    assert (ACME_CHANNEL, acme_card["ts"]) in updated
    assert (GLOBEX_CHANNEL, globex_card["ts"]) in updated
    assert "Approved" in text_of(await world.card(GLOBEX_CHANNEL, "GC-0001"))
    assert "Rejected" in text_of(await world.card(ACME_CHANNEL, "AR-0001"))


async def test_award_tells_each_partner_its_own_story_and_the_loser_hears_no_names(
    world: World,
) -> None:
    await two_partners_register(world)

    await settle(world, Action.resolve_award_partner)

    [won] = await world.thread_replies(GLOBEX_CHANNEL, "GC-0001")
    assert "GC-0001" in won["text"]
    assert "is approved" in won["text"]
    [lost] = await world.thread_replies(ACME_CHANNEL, "AR-0001")
    assert "AR-0001" in lost["text"]
    assert "was not approved" in lost["text"]
    acme_side = world.fake.all_text_sent_to(ACME_CHANNEL)
    for secret in ("Globex", "GC-0001", p.APPROVER.user_id, "champion", "pilot"):
        assert secret not in acme_side, secret
    assert "champion" not in world.fake.all_text_sent_to(GLOBEX_CHANNEL)


async def test_award_is_announced_in_both_review_threads_with_the_reason(world: World) -> None:
    await two_partners_register(world)

    await settle(world, Action.resolve_award_partner)

    for reference in ("AR-0001", "GC-0001"):
        replies = text_of({"r": await world.thread_replies(DESK, reference)})
        assert "&lt;champion&gt; &amp; ran the pilot" in replies, reference
        assert f"<@{p.APPROVER.user_id}>" in replies, reference


async def test_settled_evidence_loses_its_buttons(world: World) -> None:
    await two_partners_register(world)

    await settle(world, Action.resolve_award_partner)

    shown = text_of(await evidence_after(world, "GC-0001"))
    assert "Settled" in shown
    assert "approved" in shown
    assert Action.resolve_award_partner not in shown


async def evidence_after(world: World, reference: str) -> dict[str, Any]:
    """The evidence message under `reference` (found by its ts), as it looks now."""
    replies = await world.thread_replies(DESK, reference)
    [message] = [m for m in replies if "existing claim" in m.get("text", "")]
    return message


async def test_rejecting_the_first_on_its_review_card_updates_the_evidence_naming_it(
    world: World,
) -> None:
    await two_partners_register(world)
    before = await evidence(world, "GC-0001")
    assert "Recommended: Award to the existing owner" in text_of(before)

    await reject(world, 1, "not_qualified")
    world.deps.kick_outbox()
    await world.delivered()

    after = await evidence_after(world, "GC-0001")
    assert after["ts"] == before["ts"]  # edited in place, nothing new posted
    shown = text_of(after)
    assert "no longer a claim" in shown
    assert "No claim holds any more" in shown
    review = text_of(await world.card(DESK, "GC-0001"))
    assert "no claim found holds any more" in review


async def test_the_first_registration_shows_the_later_one_and_both_point_to_one_case(
    world: World,
) -> None:
    await two_partners_register(world)

    first_review = text_of(await world.card(DESK, "AR-0001"))
    assert "Conflict check:* 1 conflict" in first_review
    first_case = text_of(await evidence(world, "AR-0001"))
    assert "registration *GC-0001* by *Globex Corporation*" in first_case
    second_case = text_of(await evidence(world, "GC-0001"))
    assert "registration *AR-0001* by *Acme Resellers*" in second_case
    assert [r.kind for r in await world.outbox_rows() if r.failed_at is not None] == []


async def test_the_rival_sees_its_own_evidence_settled_too(world: World) -> None:
    await two_partners_register(world)
    before = await evidence(world, "AR-0001")

    await settle(world, Action.resolve_award_partner)

    after = await evidence_after(world, "AR-0001")
    assert after["ts"] == before["ts"]
    assert f":x: *Settled:* AR-0001 rejected by <@{p.APPROVER.user_id}>" in text_of(after)
    assert "Recommended" not in text_of(after)
    assert "actions" not in [b["type"] for b in after["blocks"]]


async def exported_audit(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, str]]:
    """`dibs export audit` on the world's database, as an operator would run it."""
    monkeypatch.setenv("DIBS_DATABASE_URL", database_url)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    get_settings.cache_clear()
    try:
        result = await asyncio.to_thread(
            CliRunner().invoke, main, ["export", "audit", "--format", "csv"]
        )
    finally:
        get_settings.cache_clear()
        root.handlers[:] = handlers  # `main` points logging at the runner's stderr
        root.setLevel(level)
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


async def test_award_is_kept_as_a_precedent_on_every_registration_it_moved(
    world: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await two_partners_register(world)

    await settle(world, Action.resolve_award_partner)

    rows = [r for r in await exported_audit(database_url, monkeypatch) if r["action"]]
    settled = {r["registration"]: r for r in rows if r["action"].startswith("adjudicate:")}
    assert set(settled) == {"AR-0001", "GC-0001"}
    precedent = f"Award to this partner [first_registered]: {REASON}"
    for reference, to_status in (("GC-0001", "approved"), ("AR-0001", "rejected")):
        row = settled[reference]
        assert row["action"] == "adjudicate:award_partner"
        assert (row["actor_team"], row["actor_user"]) == (p.HOST_TEAM, p.APPROVER.user_id)
        assert (row["from_status"], row["to_status"]) == ("under_review", to_status)
        assert row["reason"] == precedent
    assert settled["AR-0001"]["at"] == settled["GC-0001"]["at"]


# --- a direct account: award to the existing owner, co-sell ---------------------------------


async def acme_registers_a_named_account(world: World) -> None:
    await import_account(world)
    await world.register()
    await world.delivered()


async def test_award_to_the_existing_owner_rejects_and_messages_the_direct_owner(
    world: World,
) -> None:
    await acme_registers_a_named_account(world)

    await settle(world, Action.resolve_award_existing, DESK_ONLY_REASON, reference="AR-0001")

    registration = await world.registration(1)
    assert registration.status is RegistrationStatus.rejected
    assert registration.rejection_reason == "named_account"
    [dm] = [
        c for c in world.fake.calls_to("chat.postMessage") if c.params["channel"] == DIRECT_OWNER
    ]
    assert "AR-0001" in text_of(dm.params)
    assert "Kept by Rita's enterprise team" in text_of(dm.params)
    [lost] = await world.thread_replies(ACME_CHANNEL, "AR-0001")
    assert "was not approved" in lost["text"]
    acme_side = world.fake.all_text_sent_to(ACME_CHANNEL)
    for secret in ("Initrode", DIRECT_OWNER, "0011ACCT", "Kept by Rita"):
        assert secret not in acme_side, secret


async def a_partner_registers_an_account_known_by_e_mail(world: World) -> None:
    """Rita (U0RITA in Slack) owns the account, which the CRM knows only her e-mail for; a
    partner registers the customer (AR-0001) and its cards are delivered."""
    world.fake.add_user("U0RITA", name="Rita", email="rita@vendor.example")
    by_email = Account(
        "0011MAIL", "Initrode", domain="initech.com", owner_email="rita@vendor.example"
    )
    await import_account(world, by_email)
    await world.register()
    await world.delivered()


async def test_an_owner_known_only_by_e_mail_is_found_in_slack_mentioned_and_told(
    world: World,
) -> None:
    await a_partner_registers_an_account_known_by_e_mail(world)
    [head] = await world.thread_replies(DESK, "AR-0001")
    assert "<@U0RITA>" in text_of(head)

    await settle(world, Action.resolve_award_existing, DESK_ONLY_REASON, reference="AR-0001")

    [dm] = [c for c in world.fake.calls_to("chat.postMessage") if c.params["channel"] == "U0RITA"]
    assert "AR-0001" in text_of(dm.params)
    lookups = world.fake.calls_to("users.lookupByEmail")
    assert {c.params["email"] for c in lookups} == {"rita@vendor.example"}


async def test_co_sell_approves_the_partner_and_tells_the_direct_owner(world: World) -> None:
    await acme_registers_a_named_account(world)

    await settle(world, Action.resolve_co_sell, "Joint pursuit agreed.", reference="AR-0001")

    registration = await world.registration(1)
    assert registration.status is RegistrationStatus.approved
    [told] = await world.thread_replies(ACME_CHANNEL, "AR-0001")
    assert "co-sell" in told["text"]
    assert world.fake.messages_in(DIRECT_OWNER), "the direct owner got no message"
    trail = await world.audit_actions(1)
    assert trail[-1] == ("adjudicate:co_sell", p.APPROVER.user_id)


# --- mark duplicate, reject both -------------------------------------------------------------


async def test_mark_duplicate_rejects_only_this_registration(world: World) -> None:
    await two_partners_register(world)

    await settle(world, Action.resolve_duplicate)

    duplicate, first = await world.registration(2), await world.registration(1)
    assert duplicate.status is RegistrationStatus.rejected
    assert duplicate.rejection_reason == "duplicate"
    assert first.status is RegistrationStatus.under_review
    assert (await world.audit_actions(2))[-1] == ("adjudicate:duplicate", p.APPROVER.user_id)
    assert [a for a, _ in await world.audit_actions(1)] == ["submit", "review"]


async def test_reject_both_rejects_every_registration_involved(world: World) -> None:
    await two_partners_register(world)

    await settle(world, Action.resolve_reject_both)

    for registration_id in (1, 2):
        registration = await world.registration(registration_id)
        assert registration.status is RegistrationStatus.rejected
        assert (await world.audit_actions(registration_id))[-1] == (
            "adjudicate:reject_both",
            p.APPROVER.user_id,
        )
    for channel, reference in ((ACME_CHANNEL, "AR-0001"), (GLOBEX_CHANNEL, "GC-0001")):
        [told] = await world.thread_replies(channel, reference)
        assert "was not approved" in told["text"]


async def test_reject_both_against_a_direct_account_gives_that_reason(world: World) -> None:
    await acme_registers_a_named_account(world)

    await settle(world, Action.resolve_reject_both, DESK_ONLY_REASON, reference="AR-0001")

    registration = await world.registration(1)
    assert registration.status is RegistrationStatus.rejected
    assert registration.rejection_reason == "named_account"
    [told] = await world.thread_replies(ACME_CHANNEL, "AR-0001")
    assert "*AR-0001* was not approved: Named account." in told["text"]
    assert "Duplicate" not in world.fake.all_text_sent_to(ACME_CHANNEL)
    desk = text_of({"r": await world.thread_replies(DESK, "AR-0001")})
    assert "rejected (Named account)" in desk
    assert "Duplicate" not in desk


async def test_a_partner_whose_two_registrations_are_rejected_is_not_told_one_stays(
    world: World,
) -> None:
    await world.link_globex()
    for _ in range(2):  # Acme registers Initech twice: AR-0001, AR-0002
        await world.register()
        await world.delivered()
    await world.register(p.OTHER_PARTNER_REP, channel_id=GLOBEX_CHANNEL)  # GC-0001
    await world.delivered()

    await settle(world, Action.resolve_reject_both, reference="GC-0001")

    for reference in ("AR-0001", "AR-0002"):
        [told] = await world.thread_replies(ACME_CHANNEL, reference)
        assert "was not approved" in told["text"], reference
        assert "earlier registration" not in told["text"], reference
        assert "Nothing is protected for you on this customer" in told["text"], reference


# --- request info ----------------------------------------------------------------------------

QUESTION = "Who at Initech asked you for a quote, and when?"


async def test_request_info_asks_the_partner_and_keeps_the_precedent(world: World) -> None:
    await two_partners_register(world)

    await settle(world, Action.resolve_request_info, QUESTION)

    asked = await world.registration(2)
    assert asked.status is RegistrationStatus.info_requested
    assert asked.info_request == QUESTION
    assert (await world.registration(1)).status is RegistrationStatus.under_review
    card = await world.card(GLOBEX_CHANNEL, "GC-0001")
    assert QUESTION in text_of(card)
    assert Action.card_provide_info in text_of(card)
    [notice] = await world.thread_replies(GLOBEX_CHANNEL, "GC-0001")
    assert QUESTION in notice["text"]
    assert [a for a, _ in await world.audit_actions(2)][-2:] == [
        "adjudicate:request_info",
        "request_info",
    ]


async def test_partner_answers_through_provide_info_and_the_evidence_follows(
    world: World,
) -> None:
    await two_partners_register(world)
    await settle(world, Action.resolve_request_info, QUESTION)
    ref = RegistrationRef(id=2, version=(await world.registration(2)).version)

    await world.click(
        p.OTHER_PARTNER_REP,
        Action.card_provide_info,
        ref.model_dump_json(),
        channel_id=GLOBEX_CHANNEL,
    )
    [opened] = await world.fake.wait_for(
        "views.open",
        where=lambda c: c.params["view"].get("callback_id") == Callback.registration_submit,
    )
    reply = await world.submit(
        p.OTHER_PARTNER_REP,
        Callback.registration_submit,
        form_values(notes="Bill Lumbergh asked us on 3 March."),
        metadata=opened.params["view"]["private_metadata"],
    )

    assert reply.status == 200
    answered = await world.status_becomes(RegistrationStatus.under_review, 2)
    assert answered.details.notes == "Bill Lumbergh asked us on 3 March."
    current = RegistrationRef(id=2, version=answered.version, reference="GC-0001")
    message = await evidence(world, "GC-0001")
    assert (
        RegistrationRef.model_validate_json(button_value(message, Action.resolve_award_partner))
        == current
    )


# --- refusals, validation, races -------------------------------------------------------------

APPROVERS_ONLY = "Only the deal desk's approvers can settle conflicts."


async def nothing_changed(world: World) -> None:
    await world.delivered()
    for registration_id in (1, 2):
        registration = await world.registration(registration_id)
        assert registration.status is RegistrationStatus.under_review
        assert [a for a, _ in await world.audit_actions(registration_id)] == ["submit", "review"]


@pytest.mark.parametrize("person", [p.OTHER_PARTNER_REP, p.INTERNAL_REP], ids=["partner", "rep"])
async def test_only_approvers_get_the_resolution_modal(world: World, person: p.Person) -> None:
    await two_partners_register(world)

    await click_in_evidence(world, person, Action.resolve_award_partner)

    [told] = await world.fake.wait_for_hook_posts()
    assert told.body["text"] == APPROVERS_ONLY
    assert told.body["response_type"] == "ephemeral"
    assert world.fake.calls_to("views.open") == []
    await nothing_changed(world)


async def test_a_forged_resolution_submission_from_a_partner_changes_nothing(
    world: World,
) -> None:
    await two_partners_register(world)
    meta = ResolutionContext(
        id=2, version=(await world.registration(2)).version, resolution=Resolution.award_partner
    )

    reply = await world.submit(
        p.OTHER_PARTNER_REP,
        Callback.resolve_submit,
        reason_values("mine"),
        metadata=meta.model_dump_json(),
    )

    assert reply.json() == {
        "response_action": "errors",
        "errors": {Block.resolve_reason: APPROVERS_ONLY},
    }
    await nothing_changed(world)


async def test_a_missing_reason_is_sent_back_next_to_the_field(world: World) -> None:
    await two_partners_register(world)
    view = await open_modal(world, Action.resolve_reject_both)

    reply = await world.submit(
        p.APPROVER, Callback.resolve_submit, reason_values("   "), metadata=view["private_metadata"]
    )

    body = reply.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {Block.resolve_reason}
    await nothing_changed(world)


async def test_a_missing_question_is_sent_back_next_to_the_field(world: World) -> None:
    await two_partners_register(world)
    view = await open_modal(world, Action.resolve_request_info)

    reply = await world.submit(
        p.APPROVER, Callback.resolve_submit, reason_values(None), metadata=view["private_metadata"]
    )

    assert reply.json()["errors"] == {Block.resolve_reason: "Ask the partner a question."}
    await nothing_changed(world)


async def test_a_decision_first_is_named_next_to_the_reason_and_nothing_more_happens(
    world: World,
) -> None:
    await two_partners_register(world)
    view = await open_modal(world, Action.resolve_award_partner)
    await reject(world, 2, "not_qualified")

    reply = await world.submit(
        p.APPROVER,
        Callback.resolve_submit,
        reason_values(REASON),
        metadata=view["private_metadata"],
    )

    error = reply.json()["errors"][Block.resolve_reason]
    assert error == f"GC-0001 is already rejected by <@{p.APPROVER.user_id}>. Nothing was changed."
    assert (await world.registration(1)).status is RegistrationStatus.under_review
    assert not [a for a, _ in await world.audit_actions(2) if a.startswith("adjudicate")]


async def click_stale(world: World, stale: dict[str, Any], action: Action) -> dict[str, Any]:
    """An approver clicks `action` on an evidence message as it was before the case moved
    (the second modal of the test opens): the view the modal is updated to."""
    payload = p.block_actions(
        p.APPROVER,
        action_id=action,
        value=button_value(stale, action),
        channel_id=DESK,
        message=stale,
        response_url=world.fake.hook_url(channel=DESK),
    )
    await world.slack.send_interaction(payload)
    [*_, opened] = await world.fake.wait_for("views.open", count=2)
    view_id = opened.response["view"]["id"]
    [closed] = await world.fake.wait_for(
        "views.update", where=lambda c: c.params.get("view_id") == view_id
    )
    view: dict[str, Any] = closed.params["view"]
    return view


async def test_a_stale_click_after_settlement_says_so_in_the_modal(world: World) -> None:
    await two_partners_register(world)
    stale = await evidence(world, "GC-0001")
    await settle(world, Action.resolve_reject_both)

    closed = await click_stale(world, stale, Action.resolve_duplicate)

    assert "GC-0001 is already rejected" in text_of(closed)
    assert "submit" not in closed
    assert (await world.audit_actions(2))[-1] == ("adjudicate:reject_both", p.APPROVER.user_id)


async def test_a_stale_click_after_an_info_request_names_who_asked(world: World) -> None:
    await two_partners_register(world)
    stale = await evidence(world, "GC-0001")
    await settle(world, Action.resolve_request_info, "Which office runs the pilot?")

    closed = await click_stale(world, stale, Action.resolve_award_partner)

    assert (
        f"GC-0001 is already waiting for the partner's answer to an info request from "
        f"<@{p.APPROVER.user_id}>" in text_of(closed)
    )


# --- I'm working this ------------------------------------------------------------------------

NOTE = "Met their CFO last week; a <proposal> goes out Friday."
LINK = "https://crm.example.com/opportunities/0061"


async def open_working(world: World, person: p.Person = p.INTERNAL_REP) -> dict[str, Any]:
    await click_in_evidence(world, person, Action.conflict_working)
    [opened] = await world.fake.wait_for(
        "views.open", where=lambda c: c.params["view"]["callback_id"] == Callback.working_submit
    )
    view: dict[str, Any] = opened.params["view"]
    return view


async def test_a_rep_working_the_customer_tells_the_desk_and_never_the_partner(
    world: World,
) -> None:
    await two_partners_register(world)
    review = await world.card(DESK, "GC-0001")
    view = await open_working(world)

    reply = await world.submit(
        p.INTERNAL_REP,
        Callback.working_submit,
        working_values(NOTE, LINK),
        metadata=view["private_metadata"],
    )

    assert reply.json() is None
    await world.delivered()
    replies = text_of({"r": await world.thread_replies(DESK, "GC-0001")})
    assert f"<@{p.INTERNAL_REP.user_id}>" in replies
    assert "a &lt;proposal&gt; goes out Friday" in replies
    assert LINK in replies
    assert any(c.params["ts"] == review["ts"] for c in world.fake.calls_to("chat.update"))
    assert "is working this" in text_of(await evidence(world, "GC-0001"))
    for channel in (GLOBEX_CHANNEL, ACME_CHANNEL):
        shown = world.fake.all_text_sent_to(channel)
        assert "proposal" not in shown
        assert p.INTERNAL_REP.user_id not in shown
    assert (await world.audit_actions(2))[-1] == ("dispute", p.INTERNAL_REP.user_id)
    assert (await world.registration(2)).status is RegistrationStatus.under_review


async def work_this(world: World, person: p.Person, reference: str = "GC-0001") -> None:
    """`person` presses I'm working this under `reference` and tells the desk why."""
    await click_in_evidence(world, person, Action.conflict_working, reference)
    [opened] = await world.fake.wait_for(
        "views.open", where=lambda c: c.params["view"]["callback_id"] == Callback.working_submit
    )
    reply = await world.submit(
        person,
        Callback.working_submit,
        working_values(NOTE, LINK),
        metadata=opened.params["view"]["private_metadata"],
    )
    assert reply.json() is None
    await world.delivered()


def direct_messages_to(world: World, user_id: str) -> list[dict[str, Any]]:
    return [
        c.params for c in world.fake.calls_to("chat.postMessage") if c.params["channel"] == user_id
    ]


async def test_the_rep_working_the_customer_is_told_how_the_desk_settled_it(
    world: World,
) -> None:
    await two_partners_register(world)
    await work_this(world, p.INTERNAL_REP)

    await settle(world, Action.resolve_award_partner)

    [dm] = direct_messages_to(world, p.INTERNAL_REP.user_id)
    shown = text_of(dm)
    assert "a customer you said you are working" in shown
    assert "GC-0001" in shown
    assert "Award to this partner" in shown
    assert "&lt;champion&gt; &amp; ran the pilot" in shown


async def test_a_plain_decision_on_the_review_card_tells_the_rep_working_the_customer(
    world: World,
) -> None:
    await two_partners_register(world)
    await work_this(world, p.INTERNAL_REP)

    await reject(world, 2, RejectionReason.not_qualified.value)
    world.deps.kick_outbox()
    await world.delivered()

    [dm] = direct_messages_to(world, p.INTERNAL_REP.user_id)
    shown = text_of(dm)
    assert "a customer you said you are working" in shown
    assert "GC-0001" in shown
    assert "*Rejected*: the desk rejected the partner's registration on its review card" in shown
    assert RejectionReason.not_qualified.label in shown


async def test_a_question_to_the_partner_tells_the_rep_nothing_yet(world: World) -> None:
    await two_partners_register(world)
    await work_this(world, p.INTERNAL_REP)

    await ask(world, 2, "Which office runs the pilot?")
    world.deps.kick_outbox()
    await world.delivered()

    assert direct_messages_to(world, p.INTERNAL_REP.user_id) == []


async def test_an_owner_who_is_also_working_the_customer_gets_one_message(world: World) -> None:
    await acme_registers_a_named_account(world)
    await work_this(world, p.Person(DIRECT_OWNER, p.HOST_TEAM, name="dora"), "AR-0001")

    await settle(world, Action.resolve_award_existing, DESK_ONLY_REASON, reference="AR-0001")

    [dm] = direct_messages_to(world, DIRECT_OWNER)
    assert "Kept by Rita's enterprise team" in text_of(dm)


async def test_an_owner_known_by_e_mail_who_is_working_the_customer_gets_one_message(
    world: World,
) -> None:
    await a_partner_registers_an_account_known_by_e_mail(world)
    await work_this(world, p.Person(SlackUserId("U0RITA"), p.HOST_TEAM, name="rita"), "AR-0001")

    await settle(world, Action.resolve_award_existing, DESK_ONLY_REASON, reference="AR-0001")

    [dm] = direct_messages_to(world, "U0RITA")
    assert "a customer you said you are working" in text_of(dm)


async def test_working_this_needs_a_note_and_a_real_link(world: World) -> None:
    await two_partners_register(world)
    view = await open_working(world)

    reply = await world.submit(
        p.INTERNAL_REP,
        Callback.working_submit,
        working_values(None, "javascript:alert(1)"),
        metadata=view["private_metadata"],
    )

    body = reply.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {Block.working_note, Block.working_link}
    await nothing_changed(world)


async def test_a_partner_clicking_working_this_is_refused_privately(world: World) -> None:
    await two_partners_register(world)

    await click_in_evidence(world, p.OTHER_PARTNER_REP, Action.conflict_working)

    [told] = await world.fake.wait_for_hook_posts()
    assert told.body["text"] == "Only the vendor's own team can claim a customer."
    assert told.body["response_type"] == "ephemeral"
    assert world.fake.calls_to("views.open") == []
    await nothing_changed(world)


async def test_a_forged_working_submission_from_a_partner_changes_nothing(world: World) -> None:
    await two_partners_register(world)
    ref = RegistrationRef(id=2, version=(await world.registration(2)).version)

    reply = await world.submit(
        p.OTHER_PARTNER_REP,
        Callback.working_submit,
        working_values("We are working this too"),
        metadata=ref.model_dump_json(),
    )

    assert reply.json()["errors"] == {
        Block.working_note: "Only the vendor's own team can claim a customer."
    }
    await nothing_changed(world)
