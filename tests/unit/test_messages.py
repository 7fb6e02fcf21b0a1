"""Outbox messages: which ones must go out in order (one key), and what a change owes."""

from __future__ import annotations

from domain.messages import (
    DeskNotice,
    Launcher,
    MessageKind,
    Notice,
    OutboxMessage,
    PartnerCard,
    PartnerNotice,
    ResolutionDetail,
    ReviewCard,
    Still,
    cards_for,
)
from domain.ownership import Resolution

Kind = MessageKind
CARDS: dict[MessageKind, type[PartnerCard | ReviewCard]] = {
    Kind.partner_card: PartnerCard,
    Kind.review_card: ReviewCard,
}


def for_registration(kind: MessageKind, registration_id: int = 1) -> OutboxMessage:
    return CARDS[kind](registration_id)


class TestKeys:
    def test_the_partner_side_and_the_desk_side_of_a_registration_are_independent(self) -> None:
        assert for_registration(Kind.partner_card).key != for_registration(Kind.review_card).key

    def test_a_partner_card_and_its_thread_replies_share_a_key(self) -> None:
        card = for_registration(Kind.partner_card)
        reply = PartnerNotice(1, Notice.approved)

        assert card.key == reply.key

    def test_a_review_card_and_its_thread_replies_share_a_key(self) -> None:
        card = for_registration(Kind.review_card)
        reply = DeskNotice(1, Notice.approved)

        assert card.key == reply.key

    def test_two_registrations_never_share_a_key(self) -> None:
        assert (
            for_registration(Kind.partner_card, 1).key != for_registration(Kind.partner_card, 2).key
        )

    def test_the_launcher_is_keyed_by_its_partner(self) -> None:
        acme = Launcher(7)
        globex = Launcher(8)

        assert acme.key == "partner:7"
        assert acme.key != globex.key

    def test_a_launcher_does_not_share_a_key_with_a_registration_of_the_same_number(
        self,
    ) -> None:
        launcher = Launcher(1)

        assert launcher.key not in {
            for_registration(Kind.partner_card, 1).key,
            for_registration(Kind.review_card, 1).key,
        }

    def test_keys_fit_the_outbox_column(self) -> None:
        assert len(for_registration(Kind.review_card, 2**63 - 1).key) <= 64


class TestCardsFor:
    def test_refreshes_both_cards_then_tells_both_sides(self) -> None:
        messages = cards_for(5, notice=Notice.rejected)

        assert [m.kind for m in messages] == [
            Kind.partner_card,
            Kind.review_card,
            Kind.partner_notice,
            Kind.desk_notice,
        ]
        assert {m.registration_id for m in messages} == {5}

    def test_the_notices_carry_what_happened_and_its_details(self) -> None:
        resolved = ResolutionDetail(Resolution.duplicate, 5, "AR-0005", "duplicate")
        messages = cards_for(
            5, notice=Notice.conflict_lost, still=Still.nothing, resolution=resolved
        )

        notices = [m for m in messages if isinstance(m, PartnerNotice | DeskNotice)]
        assert [m.kind for m in notices] == [Kind.partner_notice, Kind.desk_notice]
        assert all(notice.notice is Notice.conflict_lost for notice in notices)
        # Each side hears its own details: the partner what it still holds, the desk why.
        assert notices == [
            PartnerNotice(5, Notice.conflict_lost, still=Still.nothing),
            DeskNotice(5, Notice.conflict_lost, resolution=resolved),
        ]

    def test_the_cards_carry_no_notice(self) -> None:
        cards = cards_for(5, notice=Notice.approved)[:2]

        assert cards == [PartnerCard(5), ReviewCard(5)]

    def test_each_card_goes_out_before_the_reply_in_its_thread(self) -> None:
        messages = cards_for(5, notice=Notice.withdrawn)

        by_key: dict[str, list[MessageKind]] = {}
        for message in messages:
            by_key.setdefault(message.key, []).append(message.kind)
        assert by_key == {
            "registration:5:partner": [Kind.partner_card, Kind.partner_notice],
            "registration:5:desk": [Kind.review_card, Kind.desk_notice],
        }
