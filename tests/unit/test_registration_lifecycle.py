"""The registration lifecycle: every legal move, every illegal one refused without a trace."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from domain.actor import SYSTEM, Actor
from domain.errors import InvalidInput, InvalidTransition
from domain.references import format_reference, legacy_reference, parse_reference
from domain.registration import (
    AuditEvent,
    Registration,
    RegistrationStatus,
    RejectionReason,
)
from domain.slack_ids import SlackUserId
from tests.builders import HOST_TEAM, NOW, PARTNER_TEAM, a_registration, some_details

Status = RegistrationStatus
REP = Actor(team_id=PARTNER_TEAM, user_id=SlackUserId("U0REP"))
APPROVER = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0APPROVER"))
LATER = NOW + timedelta(hours=5)
PROTECTION = timedelta(days=90)
REVIEW_SLA = timedelta(hours=48)

Move = Callable[[Registration], None]


def in_status(status: RegistrationStatus, **overrides: Any) -> Registration:
    """A stored registration (id 1) in `status`, with no events waiting to be saved."""
    return a_registration(status=status, **overrides)


def approve(registration: Registration) -> None:
    registration.approve(by=APPROVER, now=LATER, protection=PROTECTION)


def reject(registration: Registration) -> None:
    registration.reject(by=APPROVER, now=LATER, reason=RejectionReason.duplicate)


def reject_other(registration: Registration) -> None:
    registration.reject(
        by=APPROVER, now=LATER, reason=RejectionReason.other, note="Not our market."
    )


def request_info(registration: Registration) -> None:
    registration.request_info(by=APPROVER, now=LATER, question="Who is the sponsor?")


def resubmit(registration: Registration) -> None:
    registration.resubmit(by=REP, now=LATER, details=some_details(company="Acme Holdings"))


def withdraw(registration: Registration) -> None:
    registration.withdraw(by=REP, now=LATER)


def expire(registration: Registration) -> None:
    registration.expire(now=LATER)


MOVES: dict[str, tuple[Move, frozenset[RegistrationStatus]]] = {
    "approve": (approve, frozenset({Status.under_review})),
    "reject": (reject, frozenset({Status.under_review})),
    "reject_other": (reject_other, frozenset({Status.under_review})),
    "request_info": (request_info, frozenset({Status.under_review})),
    "resubmit": (resubmit, frozenset({Status.info_requested})),
    "withdraw": (
        withdraw,
        frozenset({Status.submitted, Status.under_review, Status.info_requested}),
    ),
    "expire": (expire, frozenset({Status.approved})),
}

LEGAL = [
    pytest.param(name, status, id=f"{name}-from-{status}")
    for name, (_, allowed) in MOVES.items()
    for status in sorted(allowed)
]
# DESIGN.md lets a future auto-approval policy move submitted -> approved directly, so
# that one pair is left open here rather than pinned as illegal.
UNDECIDED_BY_DESIGN = {("approve", Status.submitted)}
ILLEGAL = [
    pytest.param(name, status, id=f"{name}-from-{status}")
    for name, (_, allowed) in MOVES.items()
    for status in Status
    if status not in allowed and (name, status) not in UNDECIDED_BY_DESIGN
]


class TestSubmit:
    def submitted(self) -> Registration:
        return Registration.submit(
            partner_id=7, details=some_details(), by=REP, now=NOW, review_sla=REVIEW_SLA
        )

    def test_a_new_registration_goes_straight_into_review(self) -> None:
        registration = self.submitted()

        assert registration.status is Status.under_review

    def test_records_the_submission_and_the_move_into_review(self) -> None:
        registration = self.submitted()

        assert registration.events == [
            AuditEvent(NOW, REP, "submit", None, Status.submitted),
            AuditEvent(NOW, SYSTEM, "review", Status.submitted, Status.under_review),
        ]

    def test_starts_at_version_one(self) -> None:
        assert self.submitted().version == 1

    def test_decision_is_due_one_review_sla_after_submission(self) -> None:
        registration = self.submitted()

        assert registration.decision_due_at == NOW + REVIEW_SLA

    def test_keeps_who_submitted_what_for_which_partner(self) -> None:
        registration = Registration.submit(
            partner_id=7,
            details=some_details(),
            by=REP,
            now=NOW,
            review_sla=REVIEW_SLA,
            submission_key="view-123",
        )

        assert (registration.partner_id, registration.submitted_by) == (7, REP)
        assert registration.details == some_details()
        assert registration.submission_key == "view-123"
        assert registration.created_at == registration.updated_at == NOW

    def test_has_no_id_and_no_decision_yet(self) -> None:
        registration = self.submitted()

        assert registration.id is None
        assert registration.decided_at is None
        assert registration.decided_by is None
        assert not registration.is_decided


class TestApprove:
    def test_approval_protects_the_partner_from_the_decision_on(self) -> None:
        registration = in_status(Status.under_review)

        approve(registration)

        assert registration.status is Status.approved
        assert registration.protected_until == LATER + PROTECTION

    def test_approval_records_who_decided_and_when(self) -> None:
        registration = in_status(Status.under_review)

        approve(registration)

        assert (registration.decided_by, registration.decided_at) == (APPROVER, LATER)
        assert registration.updated_at == LATER
        assert registration.is_decided

    def test_approval_is_audited(self) -> None:
        registration = in_status(Status.under_review)

        approve(registration)

        assert registration.events == [
            AuditEvent(LATER, APPROVER, "approve", Status.under_review, Status.approved)
        ]


class TestReject:
    @pytest.mark.parametrize(
        "reason", [r for r in RejectionReason if r is not RejectionReason.other]
    )
    def test_rejects_for_a_reason_from_the_closed_list(self, reason: RejectionReason) -> None:
        registration = in_status(Status.under_review)

        registration.reject(by=APPROVER, now=LATER, reason=reason)

        assert registration.status is Status.rejected
        assert registration.rejection_reason is reason
        assert registration.decision_note is None
        assert (registration.decided_by, registration.decided_at) == (APPROVER, LATER)
        assert registration.events == [
            AuditEvent(
                LATER, APPROVER, "reject", Status.under_review, Status.rejected, reason.value
            )
        ]

    def test_a_note_on_a_listed_reason_is_kept_with_the_reason(self) -> None:
        registration = in_status(Status.under_review)

        registration.reject(
            by=APPROVER, now=LATER, reason=RejectionReason.named_account, note=" Globex owns it "
        )

        assert registration.decision_note == "Globex owns it"
        assert registration.events[-1].reason == "named_account: Globex owns it"

    def test_other_with_a_note_records_the_note(self) -> None:
        registration = in_status(Status.under_review)

        reject_other(registration)

        assert registration.status is Status.rejected
        assert registration.rejection_reason is RejectionReason.other
        assert registration.decision_note == "Not our market."
        assert registration.events[-1].reason == "other: Not our market."

    @pytest.mark.parametrize("note", [None, "", "   "])
    def test_other_without_a_note_is_refused_and_changes_nothing(self, note: str | None) -> None:
        registration = in_status(Status.under_review)
        before = copy.deepcopy(registration)

        with pytest.raises(InvalidInput) as raised:
            registration.reject(by=APPROVER, now=LATER, reason=RejectionReason.other, note=note)

        assert raised.value.field == "note"
        assert registration == before


class TestRequestInfo:
    def test_waits_for_the_partner_with_the_question(self) -> None:
        registration = in_status(Status.under_review)

        registration.request_info(by=APPROVER, now=LATER, question="  Who is the sponsor? ")

        assert registration.status is Status.info_requested
        assert registration.info_request == "Who is the sponsor?"
        assert registration.events == [
            AuditEvent(
                LATER,
                APPROVER,
                "request_info",
                Status.under_review,
                Status.info_requested,
                "Who is the sponsor?",
            )
        ]

    def test_asking_is_not_a_decision(self) -> None:
        registration = in_status(Status.under_review)

        request_info(registration)

        assert registration.decided_at is None
        assert registration.decided_by is None
        assert not registration.is_decided

    @pytest.mark.parametrize("question", ["", "  \n "])
    def test_a_blank_question_is_refused_and_changes_nothing(self, question: str) -> None:
        registration = in_status(Status.under_review)
        before = copy.deepcopy(registration)

        with pytest.raises(InvalidInput) as raised:
            registration.request_info(by=APPROVER, now=LATER, question=question)

        assert raised.value.field == "question"
        assert registration == before


class TestResubmit:
    def test_replaces_the_details_and_goes_back_to_review(self) -> None:
        registration = in_status(Status.info_requested)
        updated = some_details(company="Acme Holdings", website="acmeholdings.com")

        registration.resubmit(by=REP, now=LATER, details=updated)

        assert registration.status is Status.under_review
        assert registration.details == updated
        assert registration.events == [
            AuditEvent(LATER, REP, "resubmit", Status.info_requested, Status.under_review)
        ]


class TestWithdraw:
    @pytest.mark.parametrize(
        "status", [Status.submitted, Status.under_review, Status.info_requested]
    )
    def test_the_partner_withdraws_an_open_registration(self, status: Status) -> None:
        registration = in_status(status)

        registration.withdraw(by=REP, now=LATER)

        assert registration.status is Status.withdrawn
        assert registration.events == [AuditEvent(LATER, REP, "withdraw", status, Status.withdrawn)]

    def test_withdrawing_is_not_a_decision(self) -> None:
        registration = in_status(Status.under_review)

        withdraw(registration)

        assert registration.decided_by is None
        assert registration.decided_at is None


class TestExpire:
    def test_an_approved_registration_expires_by_the_system(self) -> None:
        registration = in_status(Status.approved, protected_until=LATER)

        registration.expire(now=LATER)

        assert registration.status is Status.expired
        assert registration.events == [
            AuditEvent(LATER, SYSTEM, "expire", Status.approved, Status.expired)
        ]


class TestEveryMove:
    @pytest.mark.parametrize(("move", "status"), LEGAL)
    def test_a_legal_move_bumps_the_version_once(self, move: str, status: Status) -> None:
        registration = in_status(status, version=4)

        MOVES[move][0](registration)

        assert registration.version == 5

    @pytest.mark.parametrize(("move", "status"), LEGAL)
    def test_a_legal_move_records_one_event_at_its_time(self, move: str, status: Status) -> None:
        registration = in_status(status)

        MOVES[move][0](registration)

        [event] = registration.events
        assert (event.at, event.from_status, event.to_status) == (
            LATER,
            status,
            registration.status,
        )
        assert registration.updated_at == LATER

    @pytest.mark.parametrize(("move", "status"), ILLEGAL)
    def test_an_illegal_move_is_refused_and_changes_nothing(
        self, move: str, status: Status
    ) -> None:
        registration = in_status(status, version=4)
        before = copy.deepcopy(registration)

        with pytest.raises(InvalidTransition):
            MOVES[move][0](registration)

        assert registration.status is status
        assert registration.version == 4
        assert registration.events == []
        assert registration == before

    def test_refusal_names_the_registration_and_its_status(self) -> None:
        registration = in_status(Status.approved, id=12)

        with pytest.raises(InvalidTransition) as raised:
            approve(registration)

        assert raised.value.message == "IN-0012 is approved, so it cannot be approved."
        assert raised.value.code == "invalid_transition"

    def test_refusal_before_the_registration_is_stored_still_reads_well(self) -> None:
        registration = in_status(Status.withdrawn, id=None)

        with pytest.raises(InvalidTransition) as raised:
            expire(registration)

        assert raised.value.message == "This registration is withdrawn, so it cannot be expired."

    def test_a_whole_lifecycle_counts_one_version_per_move(self) -> None:
        registration = Registration.submit(
            partner_id=7, details=some_details(), by=REP, now=NOW, review_sla=REVIEW_SLA
        )

        request_info(registration)
        resubmit(registration)
        approve(registration)
        expire(registration)

        assert registration.version == 5
        assert [e.action for e in registration.events] == [
            "submit",
            "review",
            "request_info",
            "resubmit",
            "approve",
            "expire",
        ]


class TestPendingEvents:
    def test_hands_the_recorded_events_over_once(self) -> None:
        registration = in_status(Status.under_review)
        approve(registration)

        handed = registration.pending_events()

        assert [e.action for e in handed] == ["approve"]
        assert registration.pending_events() == []

    def test_later_moves_hand_over_only_their_own_events(self) -> None:
        registration = in_status(Status.under_review)
        request_info(registration)
        registration.pending_events()

        resubmit(registration)

        assert [e.action for e in registration.pending_events()] == ["resubmit"]


class TestReference:
    @pytest.mark.parametrize(
        ("code", "number", "reference"),
        [("NW", 1, "NW-0001"), ("AR", 42, "AR-0042"), ("GC2", 9999, "GC2-9999"),
         ("NW", 12345, "NW-12345")],
    )  # fmt: skip
    def test_a_reference_is_the_partner_code_and_its_own_number_padded_to_four_digits(
        self, code: str, number: int, reference: str
    ) -> None:
        assert format_reference(code, number) == reference

    @pytest.mark.parametrize(
        ("registration_id", "reference"),
        [(1, "DR-0001"), (42, "DR-0042"), (9999, "DR-9999"), (12345, "DR-12345")],
    )
    def test_a_legacy_reference_is_the_id_after_dr(
        self, registration_id: int, reference: str
    ) -> None:
        assert legacy_reference(registration_id) == reference

    def test_the_reference_is_the_one_storage_gave_not_the_id(self) -> None:
        assert a_registration(id=12, assigned_reference="NW-0007").reference == "NW-0007"

    def test_there_is_no_reference_before_the_registration_is_stored(self) -> None:
        registration = a_registration(id=None)

        with pytest.raises(ValueError, match="no reference"):
            _ = registration.reference


class TestParseReference:
    @pytest.mark.parametrize(
        ("typed", "reference"),
        [
            ("NW-0007", "NW-0007"),
            ("nw-0007", "NW-0007"),
            ("  Nw-0007 \n", "NW-0007"),
            ("NW-7", "NW-0007"),
            ("NW - 7", "NW-0007"),
            ("NW-00007", "NW-0007"),
            ("GC2-12345", "GC2-12345"),
            ("DR-0012", "DR-0012"),
            ("DR-12", "DR-0012"),
            ("dr-12", "DR-0012"),
        ],
    )
    def test_reads_new_and_legacy_references_in_their_stored_form(
        self, typed: str, reference: str
    ) -> None:
        assert parse_reference(typed) == reference

    @pytest.mark.parametrize(
        "typed", ["", "  ", "NW", "NW-", "-7", "N-7", "NORTHWND-7", "7W-7", "NW-7a", "NW 7", "#7"]
    )
    def test_anything_else_is_no_reference(self, typed: str) -> None:
        assert parse_reference(typed) is None
