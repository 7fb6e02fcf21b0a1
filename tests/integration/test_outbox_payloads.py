"""Outbox payloads through the outbox table, on SQLite and PostgreSQL: every kind comes back as
it was queued, and rows queued by the version before typed payloads (a flat dict of strings,
no type tag) are still read, or set aside when nothing can be read from them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.deliveries import OutboxEntry
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
    Still,
    WorkingDetail,
)
from domain.ownership import Decision, OwnershipRule, Resolution
from storage.models import OutboxMessageRow
from storage.outbox_codec import TAG
from tests.builders import NOW
from tests.integration.conftest import NewUow

Sessions = async_sessionmaker[AsyncSession]
_OUTBOX = cast(Table, OutboxMessageRow.__table__)
HOSTILE = 'Globex got there first <@U0BOSS> & "more", ünïcode'
RESOLVED = ResolutionDetail(
    Resolution.award_existing, 2, "GC-0001", HOSTILE, OwnershipRule.existing_customer
)
# One of every kind, its optional fields set (so each of them makes the trip).
SAMPLES: list[OutboxMessage] = [
    Launcher(3),
    PartnerCard(7),
    ReviewCard(7),
    PartnerNotice(7, Notice.conflict_lost, Still.own_earlier),
    DeskNotice(7, Notice.conflict_won, resolution=RESOLVED),
    DeskNotice(8, Notice.working, working=WorkingDetail("U0REP", HOSTILE, "https://x.example/1")),
    EvidenceHead(7, edit_only=True),
    EvidencePage(7, number=2, first=20, last=40),
    DirectNotice(
        7, None, "d@v.example", resolution=Resolution.co_sell, reason=HOSTILE, told=("U0A", "U0B")
    ),
    DirectNotice(9, "U0REP", working=True, decision=Decision.reject, reason="Not qualified"),
]


async def claim_all(new_uow: NewUow) -> list[OutboxEntry]:
    async with new_uow() as uow:
        entries = await uow.outbox.claim(
            now=NOW, lease=timedelta(minutes=1), limit=100, worker="w1"
        )
        await uow.commit()
    return entries


def test_every_kind_has_a_sample() -> None:
    assert {type(m) for m in SAMPLES} == set(MESSAGE_TYPES.values())


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
async def test_every_kind_comes_back_as_it_was_queued(
    new_uow: NewUow, session_factory: Sessions, message: OutboxMessage
) -> None:
    async with new_uow() as uow:
        await uow.outbox.put([message], now=NOW)
        await uow.commit()

    [entry] = await claim_all(new_uow)

    assert entry.message == message
    async with session_factory() as session:
        [row] = (await session.execute(select(_OUTBOX))).all()
    assert (row.kind, row.key, row.data[TAG]) == (message.kind, message.key, message.kind)
    assert row.registration_id == message.registration_id


# ------------------------------------------------------------ rows of the previous version

DESK_DATA = {
    "resolution": "award_existing",
    "subject": "2",
    "subject_reference": "GC-0001",
    "reason": HOSTILE,
    "rule": "existing_customer",
}
OLD_ROWS: list[tuple[str, int | None, str | None, dict[str, str], OutboxMessage]] = [
    # kind, registration (else the partner, 3), notice, data: as the previous version wrote
    ("launcher", None, None, {}, Launcher(3)),
    ("partner_card", 7, None, {}, PartnerCard(7)),
    ("review_card", 7, None, {}, ReviewCard(7)),
    ("partner_notice", 7, "approved", {}, PartnerNotice(7, Notice.approved)),
    (
        "partner_notice", 7, "conflict_lost", {"still": "own_other"},
        PartnerNotice(7, Notice.conflict_lost, Still.own_other),
    ),
    (
        "desk_notice", 7, "conflict_won", DESK_DATA,
        DeskNotice(7, Notice.conflict_won, resolution=RESOLVED),
    ),
    (  # queued before references were stored: the subject by id only, its legacy reference
        "desk_notice", 7, "conflict_won",
        {k: v for k, v in DESK_DATA.items() if k != "subject_reference"},
        DeskNotice(7, Notice.conflict_won, resolution=ResolutionDetail(
            Resolution.award_existing, 2, "DR-0002", HOSTILE, OwnershipRule.existing_customer
        )),
    ),
    (
        "desk_notice", 7, "conflict_lost", DESK_DATA | {"subject": "7", "rule": ""},
        DeskNotice(7, Notice.conflict_lost, resolution=ResolutionDetail(
            Resolution.award_existing, 7, "GC-0001", HOSTILE
        )),
    ),
    (
        "desk_notice", 7, "disputed", {"by": "U0REP", "note": HOSTILE, "link": ""},
        DeskNotice(7, Notice.working, working=WorkingDetail("U0REP", HOSTILE)),
    ),
    ("evidence", 7, None, {}, EvidenceHead(7)),
    ("evidence", 7, None, {"edit_only": "1"}, EvidenceHead(7, edit_only=True)),
    ("evidence", 7, None, {"page": "20-40", "n": "1"}, EvidencePage(7, 1, 20, 40)),
    (
        "direct_notice", 7, None,
        DESK_DATA | {"owner_slack_id": "", "owner_email": "d@v.com", "told": "U0REP,U0DORA"},
        DirectNotice(7, None, "d@v.com", resolution=Resolution.award_existing, reason=HOSTILE,
                     told=("U0REP", "U0DORA")),
    ),
    (
        "direct_notice", 7, None,
        DESK_DATA | {"owner_slack_id": "U0REP", "owner_email": "", "role": "working"},
        DirectNotice(7, "U0REP", working=True, resolution=Resolution.award_existing,
                     reason=HOSTILE),
    ),
    (
        "direct_notice", 7, None,
        {"decision": "reject", "reason": "Not qualified: x", "owner_slack_id": "U0REP",
         "owner_email": "", "role": "working"},
        DirectNotice(7, "U0REP", working=True, decision=Decision.reject,
                     reason="Not qualified: x"),
    ),
]  # fmt: skip


def old_row(
    n: int, kind: str, registration_id: int | None, notice: str | None, data: dict[str, Any]
) -> dict[str, Any]:
    """An `outbox_message` row as the previous version wrote it (a key of its own each)."""
    return {
        "key": f"old:{n}",
        "kind": kind,
        "registration_id": registration_id,
        "partner_id": 3 if registration_id is None else None,
        "notice": notice,
        "data": data,
        "created_at": NOW,
        "next_attempt_at": NOW,
        "attempts": 0,
    }


async def insert_old(session_factory: Sessions, *rows: dict[str, Any]) -> None:
    async with session_factory() as session:
        await session.execute(insert(_OUTBOX), list(rows))
        await session.commit()


async def test_rows_queued_before_payloads_were_typed_are_read(
    new_uow: NewUow, session_factory: Sessions
) -> None:
    await insert_old(
        session_factory,
        *(old_row(n, kind, rid, notice, data) for n, (kind, rid, notice, data, _) in
          enumerate(OLD_ROWS)),
    )  # fmt: skip

    entries = await claim_all(new_uow)

    assert [e.message for e in entries] == [message for *_, message in OLD_ROWS]
    assert {MessageKind(kind) for kind, *_ in OLD_ROWS} == set(MessageKind) - {
        MessageKind.evidence_page  # the previous version stored pages as "evidence"
    }


async def test_a_row_nothing_can_be_read_from_is_set_aside_and_the_rest_claimed(
    new_uow: NewUow, session_factory: Sessions
) -> None:
    await insert_old(
        session_factory,
        old_row(0, "evidence", 7, None, {"page": "x-y", "n": "1"}),
        old_row(1, "partner_notice", 7, None, {}),  # a notice saying nothing
        old_row(2, "partner_card", 8, None, {}),
        old_row(3, "review_card", None, None, {}),  # about no registration
        old_row(4, "desk_notice", 8, "disputed", {TAG: "desk_notice", "registration_id": "x"}),
    )

    entries = await claim_all(new_uow)

    assert [e.message for e in entries] == [PartnerCard(8)]
    async with session_factory() as session:
        rows = (await session.execute(select(_OUTBOX).order_by(_OUTBOX.c.id))).all()
    given_up = [row for row in rows if row.failed_at is not None]
    assert [row.key for row in given_up] == ["old:0", "old:1", "old:3", "old:4"]
    assert all(row.attempts == 1 and row.locked_by is None for row in given_up)
    assert "unreadable evidence message" in given_up[0].last_error
    async with new_uow() as uow:
        assert await uow.outbox.pending_count() == 1  # only the card, leased
