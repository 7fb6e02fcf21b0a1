"""Reading a registration's audit trail: who moved it where it stands."""

from __future__ import annotations

from domain.actor import Actor
from domain.ports import UnitOfWork
from domain.registration import Registration


async def moved_by(uow: UnitOfWork, registration: Registration) -> Actor | None:
    """Who moved the registration into the status it has now, by its audit trail (a request
    for info is no decision, so `decided_by` does not say who asked). Needs an open `uow`."""
    assert registration.id is not None
    history = await uow.registrations.history(registration.id)
    for event in reversed(history):
        if event.to_status is registration.status and event.from_status is not event.to_status:
            return event.actor
    return registration.decided_by
