"""Moves people make through the registration form and the desk's modals, step by step as
Slack sends them: open the form, type, press Enter (the pre-check), ask, answer, reject."""

from __future__ import annotations

from typing import Any

from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef
from domain.registration import RegistrationStatus
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, World, acked, form_values
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
