"""Channel messages: launcher, partner status card, desk review card and thread notices."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.ids import Action
from bot.views.common import RegistrationRef
from bot.views.direct_notices import build_direct_notice
from bot.views.launcher import build_launcher
from bot.views.notices import build_notice
from bot.views.partner_card import OVERLAP_LINE, build_partner_card
from bot.views.review_card import build_review_card
from domain.actor import SYSTEM, Actor
from domain.matching import Strength
from domain.messages import (
    DeskNotice,
    DirectNotice,
    Notice,
    ResolutionDetail,
    Still,
    WorkingDetail,
)
from domain.ownership import Decision, OwnershipRule, Resolution, StoredFinding
from domain.policy import PrivacyPolicy, ProgramPolicy
from domain.registration import (
    AuditEvent,
    Registration,
    RegistrationStatus,
    RejectionReason,
)
from domain.slack_ids import SlackUserId
from storage.outbox_codec import decode
from tests.builders import (
    HOST_TEAM,
    NOW,
    a_direct_claim,
    a_partner,
    a_registration,
    a_rival,
    some_details,
)
from tests.views.blockkit import all_text, assert_valid_message

PROGRAM = ProgramPolicy(products=("Analytics", "Edge"))
SHOWN = PrivacyPolicy(partners_see_overlaps=True)
HOSTILE = "<!channel> & <http://evil|x>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;http://evil|x&gt;"
APPROVER = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0APPROVER"))
Status = RegistrationStatus


def decided(status: RegistrationStatus, **overrides: Any) -> Registration:
    """A registration the desk has moved to `status`, the way the domain records it."""
    later = NOW + timedelta(hours=3)
    fields: dict[str, Any] = {"status": status, "version": 2, "updated_at": later}
    if status in {Status.approved, Status.rejected}:
        fields |= {"decided_by": APPROVER, "decided_at": later}
    if status is Status.approved:
        fields["protected_until"] = later + timedelta(days=90)
    if status is Status.rejected:
        fields |= {"rejection_reason": RejectionReason.duplicate, "decision_note": "Globex had it"}
    if status is Status.info_requested:
        fields["info_request"] = "Who is the economic buyer?"
        fields["events"] = [
            AuditEvent(later, APPROVER, "request_info", Status.under_review, status, "?")
        ]
    fields.update(overrides)
    return a_registration(**fields)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def maximal() -> Registration:
    details = some_details(
        company="<&>" * 66 + "ab",
        website="https://" + "w" * 240 + ".com",
        contact_name="&" * 200,
        contact_email="e" * 240 + "@acme.com",
        products=tuple(f"Product {n} " + "p" * 60 for n in range(100)),
        notes="&<>\n" * 750,
    )
    return decided(
        Status.info_requested, details=details, info_request="<&>\n" * 750, decision_note="&" * 3000
    )


class TestLauncher:
    def test_offers_register_and_mine_for_the_partner(self) -> None:
        blocks = assert_valid_message(build_launcher(a_partner(name=HOSTILE)))
        actions = buttons(blocks)
        assert set(actions) == {Action.launcher_register, Action.launcher_mine}
        assert actions[Action.launcher_register]["style"] == "primary"
        assert {b["value"] for b in actions.values()} == {"7"}
        assert "Register a deal" in all_text(blocks)
        assert ESCAPED in all_text(blocks)
        assert "<!channel>" not in all_text(blocks)


class TestPartnerCard:
    def card(self, registration: Registration, **kwargs: Any) -> list[dict[str, Any]]:
        message = build_partner_card(registration, a_partner(), program=PROGRAM, **kwargs)
        return assert_valid_message(message)

    @pytest.mark.parametrize("status", list(RegistrationStatus))
    def test_every_status_lints_and_shows_its_label(self, status: RegistrationStatus) -> None:
        blocks = self.card(decided(status))
        assert status.label in all_text(blocks)
        assert "IN-0001 · Acme Corp" in all_text(blocks)
        assert "USD 84,500" in all_text(blocks)
        assert "30 Jun 2025" in all_text(blocks)

    def test_in_review_says_when_a_decision_is_due_and_offers_withdraw(self) -> None:
        blocks = self.card(a_registration())
        assert "The desk will decide by <!date^" in all_text(blocks)
        withdraw = buttons(blocks)[Action.card_withdraw]
        assert set(buttons(blocks)) == {Action.card_withdraw}
        assert RegistrationRef.model_validate_json(withdraw["value"]) == RegistrationRef(
            id=1, version=1
        )
        assert withdraw["confirm"]["confirm"]["text"] == "Withdraw"

    def test_info_requested_shows_the_question_and_both_buttons(self) -> None:
        blocks = self.card(decided(Status.info_requested, info_request=HOSTILE))
        assert f"*The desk asks:*\n>{ESCAPED}" in all_text(blocks)
        actions = buttons(blocks)
        assert set(actions) == {Action.card_provide_info, Action.card_withdraw}
        ref = RegistrationRef.model_validate_json(actions[Action.card_provide_info]["value"])
        assert ref == RegistrationRef(id=1, version=2)

    def test_approved_says_protected_until(self) -> None:
        blocks = self.card(decided(Status.approved))
        assert "Approved, protected until <!date^" in all_text(blocks)
        assert buttons(blocks) == {}

    def test_rejected_gives_reason_and_note(self) -> None:
        blocks = self.card(decided(Status.rejected, decision_note=HOSTILE))
        assert "Not approved: Duplicate registration." in all_text(blocks)
        assert ESCAPED in all_text(blocks)
        assert buttons(blocks) == {}

    @pytest.mark.parametrize("status", list(RegistrationStatus))
    def test_never_names_the_approver(self, status: RegistrationStatus) -> None:
        text = all_text(self.card(decided(status)))
        assert "U0APPROVER" not in text
        assert HOST_TEAM not in text

    def test_never_shows_another_partners_name(self) -> None:
        text = all_text(self.card(decided(Status.rejected, decision_note="Duplicate.")))
        assert "Globex" not in text
        assert "Initech" in text

    def test_buttons_only_while_open(self) -> None:
        for status in RegistrationStatus:
            present = Action.card_withdraw in buttons(self.card(decided(status)))
            assert present == status.is_open, status

    def test_escapes_the_company_everywhere(self) -> None:
        registration = a_registration(details=some_details(company=HOSTILE))
        message = build_partner_card(registration, a_partner(), program=PROGRAM)
        blocks = assert_valid_message(message)
        assert "<!channel>" not in message.text
        assert "<!channel>" in blocks[0]["text"]["text"]  # the header is plain_text: no pings
        assert "<!channel>" not in all_text(blocks[1:])

    def test_maximal_data_stays_within_limits(self) -> None:
        self.card(maximal())
        self.card(decided(Status.rejected, decision_note="&" * 3000))

    @pytest.mark.parametrize("status", list(RegistrationStatus))
    def test_by_default_it_reads_the_same_whatever_the_check_found(
        self, status: RegistrationStatus
    ) -> None:
        registration = decided(status)
        plain = build_partner_card(registration, a_partner(), program=PROGRAM)
        flagged = build_partner_card(registration, a_partner(), program=PROGRAM, overlap=True)
        assert flagged == plain
        assert "overlap" not in all_text(assert_valid_message(flagged)) + flagged.text

    @pytest.mark.parametrize("status", [Status.submitted, Status.under_review])
    def test_by_default_in_review_it_says_only_when_the_desk_will_decide(
        self, status: RegistrationStatus
    ) -> None:
        blocks = self.card(a_registration(status=status), overlap=True)
        sections = [all_text(b) for b in blocks if b["type"] == "section"]
        assert len(sections) == 2  # the facts, then the decision's due date
        assert sections[1].startswith("The desk will decide by <!date^")

    @pytest.mark.parametrize("status", [Status.submitted, Status.under_review])
    def test_when_partners_see_overlaps_it_says_the_neutral_line_and_nothing_more(
        self, status: RegistrationStatus
    ) -> None:
        registration = a_registration(status=status)
        plain = build_partner_card(registration, a_partner(), program=PROGRAM, privacy=SHOWN)
        flagged = build_partner_card(
            registration, a_partner(), program=PROGRAM, overlap=True, privacy=SHOWN
        )
        blocks = assert_valid_message(flagged)
        assert OVERLAP_LINE == "In review: this may overlap an existing claim."
        assert f":mag: {OVERLAP_LINE}" in all_text(blocks)
        added = [b for b in blocks if b not in plain.block_dicts()]
        assert [all_text(b) for b in added] == [f":mag: {OVERLAP_LINE}\nmrkdwn\nsection"]
        assert flagged.text == plain.text
        assert "onflict" not in all_text(blocks) + flagged.text
        assert plain == build_partner_card(registration, a_partner(), program=PROGRAM)

    @pytest.mark.parametrize(
        "status",
        [s for s in RegistrationStatus if s not in {Status.submitted, Status.under_review}],
    )
    def test_once_out_of_review_the_overlap_line_goes(self, status: RegistrationStatus) -> None:
        message = build_partner_card(
            decided(status), a_partner(), program=PROGRAM, overlap=True, privacy=SHOWN
        )
        assert "overlap" not in all_text(assert_valid_message(message))


class TestReviewCard:
    def card(self, registration: Registration, **kwargs: Any) -> list[dict[str, Any]]:
        partner = a_partner(name="Initech & Co", tier="Gold")
        message = build_review_card(registration, partner, program=PROGRAM, now=NOW, **kwargs)
        return assert_valid_message(message)

    def test_shows_every_field_and_who_submitted(self) -> None:
        text = all_text(self.card(a_registration()))
        for expected in [
            "IN-0001 · Acme Corp", "acme.com", "United States", "USD 84,500", "30 Jun 2025",
            "Analytics", "Wile E. Coyote", "wile@acme.com", "Qualification",
            "Met them at the spring fair.", "Initech &amp; Co (Gold)", "<@U0REP> (team T0PARTNER)",
            "Submitted <!date^", "decision due <!date^",
        ]:  # fmt: skip
            assert expected in text, expected

    def test_internal_submitter_has_no_team_suffix(self) -> None:
        registration = a_registration(
            submitted_by=Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0AE"))
        )
        text = all_text(self.card(registration, host_team_id=HOST_TEAM))
        assert "<@U0AE>" in text
        assert "(team" not in text

    @pytest.mark.parametrize("status", [Status.submitted, Status.under_review])
    def test_open_card_has_the_three_decision_buttons(self, status: RegistrationStatus) -> None:
        actions = buttons(self.card(a_registration(status=status, version=3)))
        assert list(actions) == [
            Action.review_approve,
            Action.review_reject,
            Action.review_request_info,
        ]
        assert actions[Action.review_approve]["style"] == "primary"
        assert actions[Action.review_reject]["style"] == "danger"
        for button in actions.values():
            assert RegistrationRef.model_validate_json(button["value"]).version == 3

    @pytest.mark.parametrize(
        ("status", "line"),
        [
            (Status.approved, "Approved by <@U0APPROVER> on <!date^"),
            (Status.rejected, "Rejected by <@U0APPROVER> on <!date^"),
            (Status.info_requested, "Info requested by <@U0APPROVER>:\n>Who is the economic"),
            (Status.withdrawn, "Withdrawn by the partner"),
            (Status.expired, "Status: Expired."),
        ],
    )
    def test_decided_card_says_who_and_has_no_buttons(
        self, status: RegistrationStatus, line: str
    ) -> None:
        blocks = self.card(decided(status))
        assert line in all_text(blocks)
        assert buttons(blocks) == {}
        assert ("decision due" in all_text(blocks)) == status.is_open

    def test_rejection_line_has_reason_and_note(self) -> None:
        text = all_text(self.card(decided(Status.rejected)))
        assert "— Duplicate registration.\n>Globex had it" in text

    def test_auto_approval_names_dibs(self) -> None:
        text = all_text(self.card(decided(Status.approved, decided_by=SYSTEM)))
        assert "Approved by Dibs (automatic)" in text

    def test_info_request_without_events_names_the_desk(self) -> None:
        text = all_text(self.card(decided(Status.info_requested, events=[])))
        assert "Info requested by the desk:" in text

    def test_overdue_registration_says_so(self) -> None:
        registration = a_registration(decision_due_at=NOW - timedelta(hours=5))
        assert "(overdue by 5 hours)" in all_text(self.card(registration))

    def test_escapes_user_text(self) -> None:
        details = some_details(company=HOSTILE, notes=HOSTILE, contact_name=HOSTILE)
        blocks = self.card(a_registration(details=details))
        assert "<!channel>" not in all_text(blocks[1:])
        assert ESCAPED in all_text(blocks[1:])

    def test_maximal_data_stays_within_limits(self) -> None:
        self.card(maximal())
        self.card(decided(Status.rejected, details=maximal().details, decision_note="&" * 3000))

    @pytest.mark.parametrize(
        ("findings", "line"),
        [
            (
                [a_rival(5), a_direct_claim(), a_rival(6, strength=Strength.possible)],
                "Conflict check:* 2 conflicts, 1 possible conflict. Settle who owns",
            ),
            ([a_rival()], "Conflict check:* 1 conflict. Settle who owns the customer"),
            (
                [a_rival(n, strength=Strength.possible) for n in (5, 6, 7)],
                "Conflict check:* 3 possible conflicts",
            ),
            ([], "Conflict check:* no existing claim found"),
            (
                [a_rival(status=Status.rejected), a_rival(6)],
                "Conflict check:* 1 conflict (1 claim found no longer held)",
            ),
            (
                [a_rival(status=Status.withdrawn)],
                "Conflict check:* no claim found holds any more (1 claim found no longer held)",
            ),
        ],
    )
    def test_says_what_the_conflict_check_found_as_it_is_now(
        self, findings: list[StoredFinding], line: str
    ) -> None:
        assert line in all_text(self.card(a_registration(), findings=findings))

    def test_a_decided_card_does_not_ask_to_settle(self) -> None:
        text = all_text(self.card(decided(Status.rejected), findings=[a_rival()]))
        assert "Conflict check:* 1 conflict" in text
        assert "Settle who owns" not in text

    def test_without_a_check_there_is_no_conflict_line(self) -> None:
        assert "Conflict check" not in all_text(self.card(a_registration()))

    def test_approving_beside_a_likeness_asks_first_naming_it(self) -> None:
        weak = a_rival(strength=Strength.possible, partner_name="<Globex> & Co")
        approve = buttons(self.card(a_registration(), findings=[weak]))[Action.review_approve]
        text = approve["confirm"]["text"]["text"]
        assert "GC-0005 by &lt;Globex&gt; &amp; Co (Acme Corporation, in review)" in text
        assert "never blocks" in text
        assert len(text) <= 300

    def test_many_likenesses_are_counted_within_slacks_limit(self) -> None:
        weak = [
            a_rival(n, strength=Strength.possible, company_name="x" * 150) for n in range(2, 11)
        ]
        approve = buttons(self.card(a_registration(), findings=weak))[Action.review_approve]
        text = approve["confirm"]["text"]["text"]
        assert "and 7 more" in text
        assert len(text) <= 300

    def test_a_conflict_needs_no_confirmation_the_server_asks_who_owns_it(self) -> None:
        findings = [a_rival(), a_rival(6, strength=Strength.possible)]
        approve = buttons(self.card(a_registration(), findings=findings))[Action.review_approve]
        assert "confirm" not in approve
        assert approve["text"]["text"] == "Approve"

    def test_disputes_name_who_disputes_once_each(self) -> None:
        text = all_text(
            self.card(a_registration(), findings=[a_rival()],
                      working_by=("U0REP", "U0OTHER", "U0REP"))
        )  # fmt: skip
        assert ":raising_hand: Disputed by <@U0REP>, <@U0OTHER>" in text
        assert "Conflict check:* 1 conflict" in text

    def test_no_dispute_no_line(self) -> None:
        assert "Disputed" not in all_text(self.card(a_registration()))

    def test_the_partner_card_never_mentions_the_conflict_check(self) -> None:
        message = build_partner_card(a_registration(), a_partner(), program=PROGRAM)
        assert "onflict" not in all_text(assert_valid_message(message)) + message.text


class TestNotices:
    @pytest.mark.parametrize("notice", list(Notice))
    @pytest.mark.parametrize("audience", ["partner", "desk"])
    def test_every_notice_lints(self, notice: Notice, audience: Any) -> None:
        status = {
            Notice.approved: Status.approved,
            Notice.rejected: Status.rejected,
            Notice.info_requested: Status.info_requested,
            Notice.withdrawn: Status.withdrawn,
        }.get(notice, Status.under_review)
        message = build_notice(decided(status), notice, audience=audience, program=PROGRAM)
        blocks = assert_valid_message(message)
        assert "IN-0001" in message.text
        if audience == "partner":
            assert "U0APPROVER" not in all_text(blocks) + message.text

    def notice(self, registration: Registration, notice: Notice, audience: Any) -> str:
        message = build_notice(registration, notice, audience=audience, program=PROGRAM)
        assert_valid_message(message)
        return message.text

    def test_received(self) -> None:
        text = self.notice(a_registration(), Notice.received, "partner")
        assert text.startswith("We received *IN-0001* for Acme Corp.")

    def test_approved_has_protected_until(self) -> None:
        registration = decided(Status.approved)
        partner = self.notice(registration, Notice.approved, "partner")
        assert "protected for you until <!date^" in partner
        desk = self.notice(registration, Notice.approved, "desk")
        assert "approved by <@U0APPROVER>" in desk

    def test_rejected_has_reason_and_note(self) -> None:
        text = self.notice(decided(Status.rejected), Notice.rejected, "partner")
        assert "not approved: Duplicate registration.\n>Globex had it" in text

    def test_info_requested_asks_partner_to_use_provide_info(self) -> None:
        registration = decided(Status.info_requested, info_request=HOSTILE)
        text = self.notice(registration, Notice.info_requested, "partner")
        assert f">{ESCAPED}" in text
        assert "Use *Provide info* on the card" in text
        desk = self.notice(registration, Notice.info_requested, "desk")
        assert desk.startswith(":question: <@U0APPROVER> asked the partner")

    def test_resubmitted_and_withdrawn(self) -> None:
        assert "back with the desk" in self.notice(a_registration(), Notice.resubmitted, "partner")
        assert "back in review" in self.notice(a_registration(), Notice.resubmitted, "desk")
        assert "is withdrawn" in self.notice(a_registration(), Notice.withdrawn, "partner")
        assert "partner withdrew" in self.notice(a_registration(), Notice.withdrawn, "desk")

    def test_company_is_escaped(self) -> None:
        registration = a_registration(details=some_details(company=HOSTILE))
        text = self.notice(registration, Notice.received, "partner")
        assert ESCAPED in text
        assert "<!channel>" not in text

    def test_maximal_data_stays_within_limits(self) -> None:
        for notice in Notice:
            for audience in ("partner", "desk"):
                self.notice(maximal(), notice, audience)


# What the desk's side of a resolution carries: none of it may reach a partner.
DESK_RESOLUTION = ResolutionDetail(
    resolution=Resolution.award_existing,
    subject_id=2,
    subject_reference="GC-0001",
    reason="Globex Corporation got there first; CRM account 0011ACCT, EUR 120,000",
    rule=OwnershipRule.existing_customer,
)
DESK_WORKING = WorkingDetail(by_user_id="U0DIRECTOWNER", note="Working it since January")
DIRECT_OWNER = DirectNotice(1, "U0DIRECTOWNER", "dora@vendor.com")
OTHER_SIDE = (
    "Globex", "0011ACCT", "EUR", "U0DIRECTOWNER", "dora@vendor.com", "GC-0001", "U0APPROVER",
    "January", "Existing customers go", "first",
)  # fmt: skip
CONFLICT_NOTICES = [Notice.conflict_won, Notice.conflict_lost, Notice.co_sell, Notice.working]


def won(**overrides: Any) -> Registration:
    return decided(Status.approved, **overrides)


def lost(**overrides: Any) -> Registration:
    fields: dict[str, Any] = {
        "rejection_reason": RejectionReason.existing_customer,
    }
    return decided(Status.rejected, **fields | overrides)


class TestConflictNotices:
    def text(self, registration: Registration, notice: Notice, audience: Any, **detail: Any) -> str:
        message = build_notice(registration, notice, audience=audience, program=PROGRAM, **detail)
        blocks = assert_valid_message(message)
        assert message.text in all_text(blocks)
        return message.text

    @pytest.mark.parametrize("notice", CONFLICT_NOTICES)
    @pytest.mark.parametrize("still", list(Still))
    def test_partner_texts_never_carry_the_other_sides_data(
        self, notice: Notice, still: Still
    ) -> None:
        for registration in (won(), lost(), decided(Status.cancelled, decided_by=APPROVER)):
            text = self.text(
                registration,
                notice,
                "partner",
                resolution=DESK_RESOLUTION,
                working=DESK_WORKING,
                still=still,
            )
            for secret in OTHER_SIDE:
                assert secret not in text, (notice, still, secret)

    def test_won_tells_the_partner_it_is_protected(self) -> None:
        text = self.text(won(), Notice.conflict_won, "partner")
        assert text.startswith(":white_check_mark: *IN-0001* is approved. Acme Corp is protected")
        assert "for you until <!date^" in text

    def test_co_sell_says_so(self) -> None:
        text = self.text(won(), Notice.co_sell, "partner")
        assert "approved as a co-sell with our direct team" in text

    @pytest.mark.parametrize(
        ("still", "ending"),
        [
            (Still.nothing, "Nothing is protected for you on this customer; you are welcome "
                            "to register other deals."),
            (Still.own_earlier, "Your earlier registration for this customer stays as it is."),
            (Still.own_other, "Your other registration for this customer stands."),
            (None, "was not approved: Existing customer."),
        ],
    )  # fmt: skip
    def test_lost_gives_the_closed_list_reason_and_what_still_stands(
        self, still: Still | None, ending: str
    ) -> None:
        text = self.text(lost(), Notice.conflict_lost, "partner", still=still)
        assert text.startswith(
            ":information_source: *IN-0001* was not approved: Existing customer."
        )
        assert "overlap" not in text  # a reason from the closed list, nothing of another claim
        assert text.endswith(ending)

    def test_a_lost_approval_says_the_protection_ended(self) -> None:
        registration = decided(Status.cancelled, decided_by=APPROVER, decided_at=NOW)
        text = self.text(
            registration, Notice.conflict_lost, "partner", still=Still.protection_ended
        )
        assert text == (
            ":information_source: The desk has withdrawn its approval of *IN-0001*. "
            "Your protection on this customer has ended."
        )

    def test_the_desk_hears_who_settled_what_and_why_in_the_subjects_thread(self) -> None:
        detail = replace(DESK_RESOLUTION, subject_id=1, resolution=Resolution.duplicate)
        text = self.text(lost(rejection_reason=RejectionReason.duplicate), Notice.conflict_lost,
                         "desk", resolution=detail)  # fmt: skip
        assert text.startswith(
            ":scales: <@U0APPROVER> settled the conflict: *Mark duplicate*. *IN-0001* is "
            "rejected (Duplicate registration).\n>Globex Corporation got there first"
        )
        assert text.endswith("The rules pointed to: Existing customers go to the incumbent.")

    def test_a_rivals_thread_names_the_registration_that_was_settled(self) -> None:
        text = self.text(won(), Notice.conflict_won, "desk", resolution=DESK_RESOLUTION)
        assert text.startswith(
            ":scales: <@U0APPROVER> settled the conflict on *GC-0001* (*Award to the existing "
            "owner*): *IN-0001* is approved, protected until <!date^"
        )

    def test_a_notice_queued_before_references_were_stored_names_the_legacy_one(self) -> None:
        old = {  # as the version before typed payloads queued it: the subject by id only
            "resolution": "award_existing",
            "subject": "2",
            "reason": DESK_RESOLUTION.reason,
            "rule": "existing_customer",
        }
        queued = decode("desk_notice", old, registration_id=1, partner_id=None,
                        notice="conflict_won")  # fmt: skip
        assert isinstance(queued, DeskNotice)
        text = self.text(won(), queued.notice, "desk", resolution=queued.resolution)
        assert text.startswith(
            ":scales: <@U0APPROVER> settled the conflict on *DR-0002* (*Award to the existing "
            "owner*): *IN-0001* is approved"
        )

    def test_a_dispute_tells_the_desk_who_works_the_customer(self) -> None:
        note = WorkingDetail("U0REP", HOSTILE, "https://crm.example.com/1")
        text = self.text(a_registration(), Notice.working, "desk", working=note)
        assert text == (
            ":raising_hand: <@U0REP> is working Acme Corp directly and disputes *IN-0001*:\n"
            f">{ESCAPED} (<https://crm.example.com/1|evidence>)"
        )

    def test_a_dispute_without_a_user_or_a_web_link_stays_well_formed(self) -> None:
        note = WorkingDetail(None, "x", "javascript:alert(1)")
        text = self.text(a_registration(), Notice.working, "desk", working=note)
        assert "Someone on the direct team is working" in text
        assert "<@>" not in text
        assert "javascript" not in text

    def test_the_partner_never_hears_of_a_dispute(self) -> None:
        told = {"resolution": DESK_RESOLUTION, "working": DESK_WORKING}
        assert self.text(a_registration(), Notice.working, "partner", **told) == (
            "*IN-0001* is in review."
        )


class TestDirectNotice:
    def test_tells_the_owner_how_the_overlap_was_settled(self) -> None:
        partner = a_partner(name=HOSTILE)
        notice = replace(DIRECT_OWNER, resolution=Resolution.co_sell, reason="Both engaged")
        message = build_direct_notice(won(), partner, notice)
        text = all_text(assert_valid_message(message))
        assert message.text.startswith(
            ":scales: The deal desk settled an overlap with a customer you own in the CRM: "
            f"IN-0001 (Acme Corp) from partner {ESCAPED}.\n"
            "*Co-sell*: a co-sell: you and the partner work it together.\n>Both engaged"
        )
        assert "<!channel>" not in text

    def test_tells_a_rep_working_the_customer_as_such(self) -> None:
        notice = DirectNotice(
            1, "U0REP", working=True, resolution=Resolution.reject_both, reason="Neither engaged"
        )
        message = build_direct_notice(lost(), a_partner(), notice)
        assert_valid_message(message)
        assert message.text.startswith(
            ":scales: The deal desk settled an overlap with a customer you said you are "
            "working: IN-0001 (Acme Corp) from partner Initech.\n*Reject both*: "
        )
        assert "you own in the CRM" not in message.text

    @pytest.mark.parametrize(
        ("decision", "says"),
        [
            (Decision.approve, "*Approved*: the desk approved the partner's registration"),
            (Decision.reject, "*Rejected*: the desk rejected the partner's registration"),
        ],
    )
    def test_a_plain_decision_reads_as_one_not_as_a_resolution(
        self, decision: Decision, says: str
    ) -> None:
        notice = DirectNotice(
            1, "U0REP", working=True, decision=decision, reason="Not qualified: <no budget>"
        )
        message = build_direct_notice(lost(), a_partner(), notice)
        text = all_text(assert_valid_message(message))
        assert f"from partner Initech.\n{says} on its review card.\n" in message.text
        assert "&lt;no budget&gt;" in text
        assert "Resolved" not in text

    @pytest.mark.parametrize("resolution", [*Resolution, None])
    def test_every_resolution_reads(self, resolution: Resolution | None) -> None:
        notice = replace(DIRECT_OWNER, resolution=resolution, reason="r" * 5000)
        message = build_direct_notice(maximal(), a_partner(), notice)
        assert_valid_message(message)
        assert "settled an overlap" in message.text
