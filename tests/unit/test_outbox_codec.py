"""Typed outbox messages: each kind declares its side and card once, has one deliverer, and
makes the trip through storage's serialisation (JSON, as the `data` column keeps it)."""

from __future__ import annotations

import inspect
import json
import typing

import pytest

from bot.outbox import DELIVERERS, DESK_SIDE
from domain.messages import (
    MESSAGE_TYPES,
    DeskNotice,
    DirectNotice,
    EvidenceHead,
    EvidencePage,
    Launcher,
    MessageKind,
    Notice,
    OutboxMessage,
    PartnerCard,
    PartnerNotice,
    ResolutionDetail,
    ReviewCard,
    Side,
    Still,
    WorkingDetail,
)
from domain.ownership import Decision, OwnershipRule, Resolution
from storage.outbox_codec import TAG, Unreadable, decode, encode

Kind = MessageKind
MESSAGES: list[OutboxMessage] = [
    Launcher(3),
    PartnerCard(7),
    ReviewCard(7),
    PartnerNotice(7, Notice.received),
    PartnerNotice(7, Notice.conflict_lost, Still.protection_ended),
    DeskNotice(7, Notice.withdrawn),
    DeskNotice(
        7,
        Notice.co_sell,
        resolution=ResolutionDetail(Resolution.co_sell, 6, "GC-0006", "<both> & engaged"),
    ),
    DeskNotice(
        7,
        Notice.conflict_lost,
        resolution=ResolutionDetail(
            Resolution.duplicate, 7, "AR-0007", "", OwnershipRule.first_approved
        ),
    ),
    DeskNotice(7, Notice.working, working=WorkingDetail(None, "note\nwith lines")),
    EvidenceHead(7),
    EvidenceHead(7, edit_only=True),
    EvidencePage(7, number=8, first=140, last=160),
    DirectNotice(7, "U0OWNER", resolution=Resolution.award_partner, reason="r"),
    DirectNotice(7, None, "o@v.example", resolution=Resolution.reject_both, told=("U0A",)),
    DirectNotice(7, "U0REP", working=True, decision=Decision.approve),
]


def stored(message: OutboxMessage) -> OutboxMessage:
    """`message` written to the row as storage writes it, and read back."""
    data = json.loads(json.dumps(encode(message)))
    return decode(
        message.kind.value,
        data,
        registration_id=message.registration_id,
        partner_id=message.partner_id if isinstance(message, Launcher) else None,
        notice=None,
    )


class TestKinds:
    @pytest.mark.parametrize(
        ("kind", "side", "card"),
        [
            (Kind.launcher, Side.partner, None),
            (Kind.partner_card, Side.partner, Kind.partner_card),
            (Kind.partner_notice, Side.partner, Kind.partner_card),
            (Kind.review_card, Side.desk, Kind.review_card),
            (Kind.desk_notice, Side.desk, Kind.review_card),
            (Kind.evidence, Side.desk, Kind.review_card),
            (Kind.evidence_page, Side.desk, Kind.review_card),
            (Kind.direct_notice, Side.direct, None),
        ],
    )
    def test_each_kind_says_where_it_goes_and_the_card_it_lives_on(
        self, kind: MessageKind, side: Side, card: MessageKind | None
    ) -> None:
        assert (kind.side, kind.card) == (side, card)

    def test_only_the_desk_side_waits_for_a_shared_desk_channel(self) -> None:
        assert {Kind.review_card, Kind.desk_notice, Kind.evidence, Kind.evidence_page} == (
            DESK_SIDE
        )

    def test_a_kind_is_read_back_from_its_stored_value(self) -> None:
        assert [MessageKind(kind.value) for kind in MessageKind] == list(MessageKind)
        assert Kind.evidence.value == "evidence"  # posted evidence heads are stored by it

    def test_every_kind_has_one_payload_type_and_one_deliverer_for_it(self) -> None:
        assert set(MESSAGE_TYPES) == set(DELIVERERS) == set(MessageKind)
        for kind, deliverer in DELIVERERS.items():
            first = next(iter(inspect.signature(deliverer).parameters))
            hints = typing.get_type_hints(deliverer)
            assert hints[first] is MESSAGE_TYPES[kind], kind

    def test_a_direct_notice_goes_out_apart_from_both_cards(self) -> None:
        keys = {m.key for m in (PartnerCard(7), ReviewCard(7), DirectNotice(7, "U0OWNER"))}
        assert keys == {"registration:7:partner", "registration:7:desk", "registration:7:direct"}


class TestStoredForm:
    @pytest.mark.parametrize("message", MESSAGES, ids=repr)
    def test_every_message_makes_the_trip(self, message: OutboxMessage) -> None:
        assert stored(message) == message

    def test_every_kind_is_tried(self) -> None:
        assert {type(m) for m in MESSAGES} == set(MESSAGE_TYPES.values())

    def test_the_data_is_plain_json_under_the_kind_as_tag(self) -> None:
        message = DirectNotice(7, None, "o@v.example", decision=Decision.reject, told=("U0A",))

        assert encode(message) == {
            TAG: "direct_notice",
            "registration_id": 7,
            "user": None,
            "email": "o@v.example",
            "working": False,
            "resolution": None,
            "decision": "reject",
            "reason": "",
            "told": ["U0A"],
        }

    @pytest.mark.parametrize(
        "data",
        [
            {TAG: "evidence_page", "registration_id": 7, "number": "two", "first": 0, "last": 1},
            {TAG: "no_such_kind", "registration_id": 7},
            {TAG: "partner_notice", "registration_id": 7, "notice": "applauded"},
            {TAG: "review_card"},
        ],
    )
    def test_a_row_that_holds_no_message_is_unreadable(self, data: dict[str, object]) -> None:
        with pytest.raises(Unreadable):
            decode("review_card", data, registration_id=7, partner_id=None, notice=None)
