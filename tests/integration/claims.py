"""Partners claiming customers through the real use cases, for storage-level tests of what
happens between claims (conflicts, resolutions, races)."""

from __future__ import annotations

from datetime import datetime

from domain.partner import Partner
from domain.registration import Registration
from domain.services import SubmitRegistration
from tests.builders import NOW, a_partner, a_rep, calling, services, some_details
from tests.integration.conftest import NewUow


async def partners(new_uow: NewUow, count: int) -> list[Partner]:
    """`count` partners, each with its own Slack team and channel."""
    made = [a_partner(id=None, slack_team_id=f"T0PARTNER{n}") for n in range(count)]
    async with new_uow() as uow:
        for partner in made:
            await uow.partners.add(partner)
        await uow.commit()
    return made


async def register(
    new_uow: NewUow, partner: Partner, customer: str, *, at: datetime = NOW
) -> Registration:
    """`partner` registers `customer` at its `.example` website, which gives no domain signal:
    registrations of one customer overlap by its name."""
    slug = customer.split(maxsplit=1)[0].lower()
    details = some_details(
        company=customer,
        website=f"{slug}.example",
        contact_email=f"buyer@{slug}.example",
        country="DE",
    )
    rep = calling(a_rep(team_id=partner.slack_team_id), partner.channel_id)
    outcome = await services(new_uow, at=at).registrations.submit(SubmitRegistration(details), rep)
    return outcome.registration
