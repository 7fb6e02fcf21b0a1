"""The outbox's use cases: leasing what is due, and recording how each delivery went."""

from __future__ import annotations

from datetime import timedelta

from domain.deliveries import Delivery, MessageRef
from domain.messages import Launcher, MessageKind, Notice, PartnerCard, PartnerNotice, ReviewCard
from tests.services.conftest import HOUR, World

LEASE = timedelta(minutes=1)


async def owe(world: World, *messages: PartnerCard | ReviewCard | Launcher) -> None:
    async with world.storage.uow() as uow:
        await uow.outbox.put(list(messages), now=world.clock())
        await uow.commit()


class TestClaim:
    async def test_leases_one_message_per_card_so_a_card_goes_before_its_replies(
        self, world: World
    ) -> None:
        await owe(world, PartnerCard(1), PartnerCard(1), ReviewCard(1), PartnerCard(2))

        leased = await world.app.deliveries.claim(worker="w1", lease=LEASE, limit=10)

        assert [(e.message.kind, e.message.registration_id) for e in leased] == [
            (MessageKind.partner_card, 1),
            (MessageKind.review_card, 1),
            (MessageKind.partner_card, 2),
        ]

    async def test_a_leased_message_is_not_leased_again_until_its_lease_runs_out(
        self, world: World
    ) -> None:
        await owe(world, PartnerCard(1))
        first = await world.app.deliveries.claim(worker="w1", lease=LEASE, limit=10)

        assert await world.app.deliveries.claim(worker="w2", lease=LEASE, limit=10) == []
        world.clock.advance(LEASE)
        again = await world.app.deliveries.claim(worker="w2", lease=LEASE, limit=10)

        assert [e.id for e in again] == [e.id for e in first]


class TestRecord:
    async def test_a_delivered_message_is_no_longer_pending(self, world: World) -> None:
        await owe(world, PartnerCard(1), PartnerCard(2))
        leased = await world.app.deliveries.claim(worker="w1", lease=LEASE, limit=10)

        await world.app.deliveries.record([Delivery(leased[0])])

        assert await world.app.deliveries.pending() == 1

    async def test_a_retry_waits_its_delay_then_comes_back_with_one_more_attempt(
        self, world: World
    ) -> None:
        await owe(world, PartnerCard(1))
        [entry] = await world.app.deliveries.claim(worker="w1", lease=LEASE, limit=10)

        await world.app.deliveries.record([Delivery(entry, retry_in=3600, error="ratelimited")])

        assert await world.app.deliveries.claim(worker="w1", lease=LEASE, limit=10) == []
        world.clock.advance(HOUR)
        [again] = await world.app.deliveries.claim(worker="w1", lease=LEASE, limit=10)
        assert (again.id, again.attempts) == (entry.id, 1)

    async def test_a_message_given_up_is_kept_out_of_the_way(self, world: World) -> None:
        await owe(world, PartnerCard(1), PartnerCard(1))
        first, *_ = await world.app.deliveries.claim(worker="w1", lease=LEASE, limit=10)

        await world.app.deliveries.record([Delivery(first, give_up=True, error="is_archived")])

        [next_one] = await world.app.deliveries.claim(worker="w1", lease=LEASE, limit=10)
        assert next_one.id != first.id
        assert await world.app.deliveries.pending() == 1

    async def test_keeps_where_cards_went_and_queues_what_the_posts_owe(self, world: World) -> None:
        registration = await world.register(await world.partner("T0ACME"))
        rid = registration.id or 0
        leased = await world.app.deliveries.claim(worker="w1", lease=LEASE, limit=10)
        [entry] = [e for e in leased if e.message == PartnerCard(rid)]
        world.storage.take_queued()
        posted = MessageRef("C0ACME", "1700000000.000100")
        owed = PartnerNotice(rid, notice=Notice.received)

        await world.app.deliveries.record(
            [Delivery(entry, posted={(MessageKind.partner_card, rid): posted}, follow_ups=[owed])]
        )

        snapshot = await world.app.deliveries.snapshot([PartnerCard(rid)])
        assert snapshot.refs == {(MessageKind.partner_card, rid): posted}
        assert world.storage.take_queued() == [owed]

    async def test_remembers_the_launcher_it_posted_for_a_partner(self, world: World) -> None:
        partner = await world.partner("T0ACME")
        assert partner.id is not None
        await owe(world, Launcher(partner.id))
        [entry] = await world.app.deliveries.claim(worker="w1", lease=LEASE, limit=10)

        await world.app.deliveries.record([Delivery(entry, launched=(partner.id, "17.5"))])

        [stored] = await world.app.partners.all()
        assert stored.launcher_ts == "17.5"
