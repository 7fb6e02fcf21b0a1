"""Moves people make through the registration form and the desk's modals, step by step as
Slack sends them: open the form, type, press Enter (the pre-check), ask, answer, reject; and
on the conflict desk: click a button of the evidence message, give the reason, settle."""

from __future__ import annotations

from typing import Any

from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef
from domain.ownership import Resolution
from domain.registration import RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, World, acked, form_values, text_of
from tests.slack.signing import Reply


def typed(company: str | None, website: str | None) -> p.StateValues:
    """What the user has typed in the company and website fields."""
    return p.values({Block.company: p.text_value(company), Block.website: p.text_value(website)})


async def open_form(
    world: World, person: p.Person = p.PARTNER_REP, *, channel_id: str = ACME_CHANNEL
) -> str:
    """Click the launcher in a partner channel; the id of the form Dibs opened."""
    before = len(world.fake.calls_to("views.open"))
    await world.click(person, Action.launcher_register, "1", channel_id=channel_id)
    opened = await world.fake.wait_for("views.open", count=before + 1)
    return str(opened[-1].response["view"]["id"])


async def press_enter(
    world: World,
    view_id: str,
    values: p.StateValues,
    *,
    person: p.Person = p.PARTNER_REP,
    field: Block = Block.website,
    view: dict[str, Any] | None = None,
) -> Reply:
    """Type `values` into the open form, then press Enter in `field` (sent as Slack does).
    `view`: send this (older) copy of the form instead of the one Slack shows now."""
    current = world.fake.type_into(view_id, values)
    sent = view if view is not None else current
    value = current["state"]["values"].get(field, {}).get(field, {}).get("value")
    payload = p.input_entered(person, view=sent, action_id=field, value=value)
    return acked(await world.slack.send_interaction(payload))


async def precheck(
    world: World, view_id: str, values: p.StateValues, *, person: p.Person = p.PARTNER_REP
) -> dict[str, Any]:
    """Press Enter in the website field and wait for the pre-check; the view sent."""
    before = len(world.fake.calls_to("views.update"))
    await press_enter(world, view_id, values, person=person)
    updates = await world.fake.wait_for("views.update", count=before + 1)
    view: dict[str, Any] = updates[-1].params["view"]
    return view


async def _desk_modal(world: World, action: Action, registration_id: int) -> str:
    """Click a decision button that opens a modal; that modal's private_metadata."""
    reject = action is Action.review_reject
    callback = Callback.reject_submit if reject else Callback.request_info_submit
    before = len(world.views_opened(callback))
    await world.decide(p.APPROVER, action, await world.registration(registration_id))
    opened = await world.fake.wait_for(
        "views.open", count=before + 1, where=lambda c: c.params["view"]["callback_id"] == callback
    )
    return str(opened[-1].params["view"]["private_metadata"])


async def ask(world: World, registration_id: int, question: str) -> None:
    """The desk requests info; waits until the partner's card shows the question."""
    metadata = await _desk_modal(world, Action.review_request_info, registration_id)
    await world.submit(
        p.APPROVER,
        Callback.request_info_submit,
        p.values({Block.info_question: p.text_value(question)}),
        metadata=metadata,
    )
    await world.status_becomes(RegistrationStatus.info_requested, registration_id)


async def reject(world: World, registration_id: int, reason: str) -> None:
    """The desk rejects with a reason from the closed list."""
    metadata = await _desk_modal(world, Action.review_reject, registration_id)
    await world.submit(
        p.APPROVER,
        Callback.reject_submit,
        p.values(
            {Block.reject_reason: p.select_value(reason), Block.reject_note: p.text_value(None)}
        ),
        metadata=metadata,
    )
    await world.status_becomes(RegistrationStatus.rejected, registration_id)


async def approve(world: World, registration_id: int) -> None:
    await world.decide(p.APPROVER, Action.review_approve, await world.registration(registration_id))
    await world.status_becomes(RegistrationStatus.approved, registration_id)


async def approve_through_case(
    world: World, registration_id: int, resolution: Resolution, reason: str
) -> dict[str, Any]:
    """Approve on the review card of a registration in a conflict: Dibs opens the choice of
    how to settle it, and the approver picks `resolution` with `reason`. The choice, as
    opened."""
    before = len(world.views_opened(Callback.resolve_submit))
    await world.decide(p.APPROVER, Action.review_approve, await world.registration(registration_id))
    [*_, choice] = await world.fake.wait_for(
        "views.open",
        count=before + 1,
        where=lambda c: c.params["view"]["callback_id"] == Callback.resolve_submit,
    )
    view: dict[str, Any] = choice.params["view"]
    reply = await world.submit(
        p.APPROVER,
        Callback.resolve_submit,
        p.values(
            {
                Block.resolve_choice: p.radio_value(resolution.value),
                Block.resolve_reason: p.text_value(reason),
            }
        ),
        metadata=view["private_metadata"],
    )
    assert reply.json() is None, reply.text  # the modal closes
    world.deps.kick_outbox()
    await world.delivered()
    return view


async def provide_info(
    world: World, person: p.Person, channel_id: str, registration_id: int
) -> dict[str, Any]:
    """The partner clicks Provide info on its card; the form Dibs reopened (as opened)."""
    asked = await world.registration(registration_id)
    ref = RegistrationRef(id=registration_id, version=asked.version).model_dump_json()
    before = len(world.views_opened(Callback.registration_submit))
    await world.click(person, Action.card_provide_info, ref, channel_id=channel_id)
    forms = await world.fake.wait_for(
        "views.open",
        count=before + 1,
        where=lambda c: c.params["view"]["callback_id"] == Callback.registration_submit,
    )
    view: dict[str, Any] = forms[-1].response["view"]
    return view


async def answer(world: World, person: p.Person, form: dict[str, Any], **fields: Any) -> Reply:
    """Resubmit the reopened form with `fields` (the answer to the desk's question)."""
    reply = await world.submit(
        person,
        Callback.registration_submit,
        form_values(**fields),
        metadata=form["private_metadata"],
        view_id=form["id"],
    )
    return reply


async def withdraw(world: World, person: p.Person, channel_id: str, registration_id: int) -> None:
    current = await world.registration(registration_id)
    ref = RegistrationRef(id=registration_id, version=current.version).model_dump_json()
    await world.click(person, Action.card_withdraw, ref, channel_id=channel_id)
    await world.status_becomes(RegistrationStatus.withdrawn, registration_id)


async def my_registrations(world: World, person: p.Person, channel_id: str) -> dict[str, Any]:
    """Click My registrations on the launcher; the list Dibs filled in."""
    before = len(world.fake.calls_to("views.update"))
    await world.click(person, Action.launcher_mine, "x", channel_id=channel_id)
    updates = await world.fake.wait_for("views.update", count=before + 1)
    view: dict[str, Any] = updates[-1].params["view"]
    return view


# --- the conflict desk --------------------------------------------------------------------


async def evidence(world: World, reference: str) -> dict[str, Any]:
    """The evidence message in the review card's thread (the one with the buttons)."""
    replies = await world.thread_replies(DESK, reference)
    found = [m for m in replies if Action.conflict_working in text_of(m)]
    assert len(found) == 1, f"{len(found)} evidence messages under {reference}"
    return found[0]


def button_value(message: dict[str, Any], action_id: str) -> str:
    """The value of the button `action_id` in a message (a RegistrationRef)."""
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button")


async def click_in_evidence(
    world: World, person: p.Person, action: Action, reference: str = "GC-0001"
) -> None:
    """Click a button of the evidence message under `reference`'s review card."""
    message = await evidence(world, reference)
    payload = p.block_actions(
        person,
        action_id=action,
        value=button_value(message, action),
        block_id="conflict-resolve",
        channel_id=DESK,
        message=message,
        response_url=world.fake.hook_url(channel=DESK),
    )
    reply = await world.slack.send_interaction(payload)
    assert reply.status == 200
    assert reply.json() is None  # a bare ack: nothing is done before it


async def open_modal(world: World, action: Action, reference: str = "GC-0001") -> dict[str, Any]:
    """An approver clicks a resolution; the modal as it looks once filled in."""
    opened_before = len(world.fake.calls_to("views.open"))
    await click_in_evidence(world, p.APPROVER, action, reference)
    opened = await world.fake.wait_for("views.open", count=opened_before + 1)
    view_id = opened[-1].response["view"]["id"]
    [filled] = await world.fake.wait_for(
        "views.update", where=lambda c: c.params.get("view_id") == view_id
    )
    view: dict[str, Any] = filled.params["view"]
    return view


def reason_values(reason: str | None) -> p.StateValues:
    return p.values({Block.resolve_reason: p.text_value(reason)})


async def settle_conflict(
    world: World, action: Action, reason: str, reference: str = "GC-0001"
) -> None:
    """An approver clicks a resolution in the evidence thread under `reference`, gives the
    reason (or the question) and submits; waits until every party has been told."""
    view = await open_modal(world, action, reference)
    reply = await world.submit(
        p.APPROVER,
        Callback.resolve_submit,
        reason_values(reason),
        metadata=view["private_metadata"],
    )
    assert reply.json() is None, reply.text  # the modal closes
    world.deps.kick_outbox()
    await world.delivered()


def working_values(note: str | None, link: str | None = None) -> p.StateValues:
    return p.values({Block.working_note: p.text_value(note), Block.working_link: p.url_value(link)})


async def work_this(
    world: World, person: p.Person, reference: str, note: str, link: str | None = None
) -> None:
    """A direct rep clicks I'm working this in the evidence thread and tells the desk."""

    def working(call: Any) -> bool:
        return bool(call.params["view"]["callback_id"] == Callback.working_submit)

    before = len(world.views_opened(Callback.working_submit))
    await click_in_evidence(world, person, Action.conflict_working, reference)
    opened = await world.fake.wait_for("views.open", count=before + 1, where=working)
    reply = await world.submit(
        person,
        Callback.working_submit,
        working_values(note, link),
        metadata=opened[-1].params["view"]["private_metadata"],
    )
    assert reply.json() is None, reply.text
    world.deps.kick_outbox()
    await world.delivered()
