"""Outbox payloads to and from the row: the `data` JSON column holds the payload's fields
under a type tag (the kind). Rows queued before payloads were typed hold a flat dict of
strings and no tag; `decode` reads those too, so nothing queued by an older version is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

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
from domain.references import legacy_reference

TAG = "type"
"""The key of the type tag in `data`; rows without one are in the old shape."""
_ADAPTERS: dict[MessageKind, TypeAdapter[Any]] = {
    kind: TypeAdapter(payload) for kind, payload in MESSAGE_TYPES.items()
}


class Unreadable(ValueError):
    """A stored message that no payload type can be read from (it can never be delivered)."""


def encode(message: OutboxMessage) -> dict[str, Any]:
    """The `data` column of `message`: its type tag and its fields, as JSON values."""
    kind = message.kind
    return {TAG: kind.value, **_ADAPTERS[kind].dump_python(message, mode="json")}


def decode(
    kind: str,
    data: Mapping[str, Any],
    *,
    registration_id: int | None,
    partner_id: int | None,
    notice: str | None,
) -> OutboxMessage:
    """The message a row holds (its `kind`, `data` and, for old rows, the other columns);
    Unreadable when it holds none."""
    try:
        tag = data.get(TAG)
        if tag is not None:
            payload = {key: value for key, value in data.items() if key != TAG}
            message: OutboxMessage = _ADAPTERS[MessageKind(tag)].validate_python(payload)
            return message
        old = _OLD_SHAPES[MessageKind(kind)]
        return old(registration_id, partner_id, notice, {k: str(v) for k, v in data.items()})
    except (KeyError, TypeError, ValueError, ValidationError) as error:
        raise Unreadable(f"unreadable {kind} message: {error}") from error


# ---------------------------------------------------------------- rows of the old shape


_E = TypeVar("_E", Resolution, OwnershipRule, Decision, Still)


def _member(enum: type[_E], value: str | None) -> _E | None:
    """The member `value` names, None for a missing or unknown value (shown generically)."""
    try:
        return enum(value or "")
    except ValueError:
        return None


def _rid(registration_id: int | None) -> int:
    if registration_id is None:
        raise ValueError("no registration")
    return registration_id


def _old_launcher(rid: int | None, partner_id: int | None, _: str | None, __: Any) -> Launcher:
    if partner_id is None:
        raise ValueError("no partner")
    return Launcher(partner_id)


def _old_partner_card(rid: int | None, *_: Any) -> PartnerCard:
    return PartnerCard(_rid(rid))


def _old_review_card(rid: int | None, *_: Any) -> ReviewCard:
    return ReviewCard(_rid(rid))


def _old_partner_notice(
    rid: int | None, _: int | None, notice: str | None, data: dict[str, str]
) -> PartnerNotice:
    return PartnerNotice(_rid(rid), Notice(notice or ""), _member(Still, data.get("still")))


def _old_desk_notice(
    rid: int | None, _: int | None, notice: str | None, data: dict[str, str]
) -> DeskNotice:
    """A resolution's detail named its subject by id (and, since references were stored,
    by reference); a working note's named who left it."""
    registration_id, subject = _rid(rid), data.get("subject", "")
    resolution = _member(Resolution, data.get("resolution"))
    detail = None
    if resolution is not None:
        subject_id = int(subject) if subject.isdigit() else registration_id
        detail = ResolutionDetail(
            resolution,
            subject_id,
            data.get("subject_reference") or legacy_reference(subject_id),
            data.get("reason", ""),
            _member(OwnershipRule, data.get("rule")),
        )
    working = None
    if notice == Notice.working.value:
        working = WorkingDetail(
            data.get("by") or None, data.get("note", ""), data.get("link") or None
        )
    return DeskNotice(registration_id, Notice(notice or ""), detail, working)


def _old_evidence(
    rid: int | None, _: int | None, __: str | None, data: dict[str, str]
) -> EvidenceHead | EvidencePage:
    """The head (`edit_only` "1" to edit only), or a follow-up page: `page` "first-last",
    `n` its number."""
    page = data.get("page")
    if page is None:
        return EvidenceHead(_rid(rid), edit_only=bool(data.get("edit_only")))
    first, _sep, last = page.partition("-")
    number = data.get("n", "")
    if not (first.isdigit() and last.isdigit() and number.isdigit()):
        raise ValueError(f"bad page {page!r} (number {number!r})")
    return EvidencePage(_rid(rid), int(number), int(first), int(last))


def _old_direct_notice(
    rid: int | None, _: int | None, __: str | None, data: dict[str, str]
) -> DirectNotice:
    """Who (`owner_slack_id`, `owner_email`, `role` "working"), what (`resolution` or
    `decision`, `reason`) and who is told already (`told`, comma-joined)."""
    return DirectNotice(
        _rid(rid),
        data.get("owner_slack_id") or None,
        data.get("owner_email") or None,
        working=data.get("role") == "working",
        resolution=_member(Resolution, data.get("resolution")),
        decision=_member(Decision, data.get("decision")),
        reason=data.get("reason", ""),
        told=tuple(user for user in data.get("told", "").split(",") if user),
    )


_OLD_SHAPES: dict[
    MessageKind, Callable[[int | None, int | None, str | None, dict[str, str]], OutboxMessage]
] = {
    MessageKind.launcher: _old_launcher,
    MessageKind.partner_card: _old_partner_card,
    MessageKind.review_card: _old_review_card,
    MessageKind.partner_notice: _old_partner_notice,
    MessageKind.desk_notice: _old_desk_notice,
    MessageKind.evidence: _old_evidence,
    MessageKind.direct_notice: _old_direct_notice,
}
