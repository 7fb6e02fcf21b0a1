"""What every deliverer works with: the batch's snapshot and Slack, and the record of how one
entry went (`domain.deliveries.Delivery`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import DibsConfig
from bot.owners import OwnerResolver
from bot.views.common import Message
from domain.cases import Case
from domain.deliveries import Delivery, DeliverySnapshot, MessageRef
from domain.messages import MessageKind
from domain.ownership import recommend
from domain.partner import Partner
from domain.registration import Registration

M_contra = TypeVar("M_contra", contravariant=True)


class Undeliverable(Exception):
    """The entry can never be delivered (its registration or partner is gone)."""


@dataclass(frozen=True, slots=True)
class Courier:
    """One batch's deliveries: Slack, the policies, the clock and the snapshot they show."""

    client: AsyncWebClient
    config: DibsConfig
    clock: Callable[[], datetime]
    owners: OwnerResolver
    host_team: Callable[[], Awaitable[str | None]]
    """Our own workspace (so internal submitters show no team), None if unknown."""
    snapshot: DeliverySnapshot

    def subject(self, registration_id: int, kind: MessageKind) -> tuple[Registration, Partner]:
        """The registration a message is about and its partner; Undeliverable if either is
        gone."""
        registration = self.snapshot.registrations.get(registration_id)
        if registration is None or registration.id is None:
            raise Undeliverable(f"{kind}: the registration is gone")
        partner = self.snapshot.partners.get(registration.partner_id)
        if partner is None:
            raise Undeliverable(f"{kind}: the partner is gone")
        return registration, partner

    def card(self, kind: MessageKind, registration_id: int) -> MessageRef | None:
        """Where the card a message of `kind` is posted as or under was posted, if it was."""
        card = kind.card
        return None if card is None else self.snapshot.refs.get((card, registration_id))

    def case(self, registration: Registration) -> Case:
        """The registration's case as the snapshot has it, the rules' recommendation now."""
        assert registration.id is not None
        findings = tuple(self.snapshot.findings.get(registration.id, ()))
        return Case(
            registration,
            findings,
            recommend(registration, findings, now=self.clock()),
            tuple(self.snapshot.working.get(registration.id, ())),
        )

    async def post(
        self, channel: str, message: Message, *, thread: MessageRef | None = None
    ) -> MessageRef:
        """Post `message` (in `thread` if given); where it went."""
        response = await self.client.chat_postMessage(
            channel=thread.channel_id if thread else channel,
            thread_ts=thread.ts if thread else None,
            text=message.text,
            blocks=message.block_dicts(),
        )
        return MessageRef(str(response["channel"]), str(response["ts"]))

    async def edit(self, ref: MessageRef, message: Message) -> None:
        await self.client.chat_update(
            channel=ref.channel_id, ts=ref.ts, text=message.text, blocks=message.block_dicts()
        )

    async def owner_users(self, case: Case) -> dict[str, str]:
        """The Slack users of the direct owners the CRM names by e-mail only, to mention."""
        emails = {
            f.claim.owner_email
            for f in case.findings
            if f.claim.owner_email and not f.claim.owner_slack_id
        }
        found = {email: await self.owners.resolve_owner(None, email) for email in sorted(emails)}
        return {email: user for email, user in found.items() if user is not None}


class Deliverer(Protocol[M_contra]):
    """Delivers one kind of message, recording what it posted in `result`."""

    async def __call__(self, message: M_contra, courier: Courier, result: Delivery, /) -> None: ...


Deliverers = dict[MessageKind, Deliverer[Any]]
