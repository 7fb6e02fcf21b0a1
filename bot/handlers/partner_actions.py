"""What partners do from their channel besides registering: withdraw, answer, look up."""

from __future__ import annotations

from bot.answers import Audience
from bot.handlers.edge import Click, Listeners
from bot.ids import Action
from bot.views.blocks import build_message_modal
from bot.views.common import FormContext
from bot.views.partner_views import build_my_registrations_modal
from bot.views.registration_modal import build_registration_modal
from domain.errors import DomainError

listeners = Listeners()


@listeners.click(Action.card_withdraw, audience=Audience.partner)
async def withdraw(click: Click) -> None:
    """The partner takes a registration back; the cards change through the outbox."""
    await click.deps.services.registrations.withdraw(click.ref.id, click.caller)


@listeners.click(Action.card_provide_info, audience=Audience.partner)
async def provide_info(click: Click) -> None:
    """Reopen the form, prefilled, with the desk's question on top."""
    found = await click.deps.services.registrations.waiting_for_answer(click.ref.id, click.caller)
    registration = found.registration
    form = build_registration_modal(
        program=click.deps.config.program,
        context=FormContext(
            channel_id=click.caller.channel_id,
            partner_id=found.partner.id,
            registration_id=registration.id,
            version=registration.version,
        ),
        prefill=registration.details,
        info_request=registration.info_request,
    )
    await click.client.views_open(trigger_id=click.trigger_id, view=form)


@listeners.click(Action.launcher_mine, audience=Audience.partner)
async def my_registrations(click: Click) -> None:
    """Open a modal at once, then fill it with this partner's registrations (only theirs)."""
    opened = await click.client.views_open(
        trigger_id=click.trigger_id, view=build_message_modal("My registrations", "Loading…")
    )
    services = click.deps.services
    try:
        partner = await services.partners.acting(click.caller)
        registrations = await services.registrations.of_partner(partner.id or 0)
        view = build_my_registrations_modal(
            partner, registrations, program=click.deps.config.program
        )
    except DomainError as error:
        view = build_message_modal("My registrations", error.message)
    await click.update_view(opened["view"], view)
