"""The evidence thread under a review card: entries, mentions, recommendation, pages, limits."""

from __future__ import annotations

import html
import re
import shlex
from datetime import timedelta
from typing import Any

import pytest

from bot.ids import Action
from bot.views.common import RegistrationRef
from bot.views.evidence import (
    EvidenceThread,
    build_evidence,
    build_evidence_page,
    build_evidence_page_gone,
    evidence_thread,
)
from bot.views.evidence_entries import SIGNAL_NAMES
from bot.views.evidence_layout import MAX_MESSAGES, PAGE, TEXT_BUDGET
from domain.actor import Actor
from domain.cases import Case, WorkingNote
from domain.conflicts import ClaimKind
from domain.matching import Finding, Signal, Strength
from domain.ownership import StoredFinding, recommend
from domain.policy import ProgramPolicy
from domain.registration import Registration, RegistrationStatus, RejectionReason
from domain.slack_ids import SlackUserId
from tests.builders import (
    HOST_TEAM,
    NOW,
    a_direct_claim,
    a_registration,
    a_rival,
    some_details,
)
from tests.views.blockkit import all_text, assert_valid_message

PROGRAM = ProgramPolicy(products=("Analytics", "Edge"))
HOSTILE = "<!channel> & <http://evil|x>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;http://evil|x&gt;"
DAY = timedelta(days=1)
SUBJECT = a_registration(id=10, created_at=NOW)
Status = RegistrationStatus


def a_case(
    *findings: StoredFinding,
    subject: Registration = SUBJECT,
    working: tuple[WorkingNote, ...] = (),
) -> Case:
    return Case(subject, findings, recommend(subject, findings, now=NOW), working)


def head(case: Case, **kwargs: Any) -> tuple[str, str, list[dict[str, Any]]]:
    """The head message: (fallback text, every string in its blocks, its blocks)."""
    kwargs.setdefault("partner_name", "Initech")
    message = build_evidence(case, program=PROGRAM, now=NOW, **kwargs)
    blocks = assert_valid_message(message)
    return message.text, all_text(blocks), blocks


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


class TestEntries:
    def test_another_partners_registration_shows_partner_status_amount_and_who_was_first(
        self,
    ) -> None:
        _, text, _ = head(a_case(a_rival()))
        for expected in [
            "*Conflict*: registration *GC-0005* by *Globex Corporation* (Silver) · In review",
            "channel manager <@U0GLOBEXMGR>",
            "Customer: Acme Corporation (acme.com, US)",
            "Registered <!date^", "3 days before IN-0010: *it was first*",
            "Amount: EUR 120,000",
            "Matched on: same website domain 1.00, fuzzy name 0.91",
            "What matched: acme.com · acme ~ acme corp",
        ]:  # fmt: skip
            assert expected in text, expected

    def test_a_later_claim_says_the_subject_was_first(self) -> None:
        _, text, _ = head(a_case(a_rival(created_at=NOW + 5 * timedelta(hours=1))))
        assert "5 hours after IN-0010: *IN-0010 was first*" in text

    def test_seconds_apart_still_say_who_was_first(self) -> None:
        _, text, _ = head(a_case(a_rival(created_at=NOW - timedelta(seconds=20))))
        assert "less than a minute before IN-0010: *it was first*" in text

    def test_a_claim_made_at_the_same_moment_says_so(self) -> None:
        _, text, _ = head(a_case(a_rival(created_at=NOW)))
        assert "at the same moment as IN-0010" in text

    def test_an_approved_claim_shows_its_protection(self) -> None:
        _, text, _ = head(a_case(a_rival(status=Status.approved, protected_until=NOW + 80 * DAY)))
        assert "· Approved" in text
        assert "protected until <!date^" in text

    def test_a_direct_account_shows_its_flags_and_owner(self) -> None:
        _, text, _ = head(a_case(a_direct_claim(is_named=True, is_customer=True)))
        assert (
            "*Conflict*: direct account *0011ACCT* · named account · customer · "
            "owner <@U0DIRECTOWNER>"
        ) in text
        assert "Matched on: same website domain 1.00; also same country" in text
        assert "When:" not in text  # accounts carry no dates

    def test_a_direct_opportunity_shows_stage_owner_amount_and_last_activity(self) -> None:
        _, text, _ = head(a_case(a_direct_claim(ClaimKind.opportunity)))
        for expected in [
            "direct opportunity *0063OPP* · stage Negotiation · owner <@U0DIRECTOWNER>",
            "Opened <!date^", "2 days after IN-0010: *IN-0010 was first*",
            "last activity 5 days ago", "Amount: USD 50,000",
        ]:  # fmt: skip
            assert expected in text, expected

    def test_an_owner_known_by_email_is_mentioned_once_resolved(self) -> None:
        case = a_case(a_direct_claim(owner_slack_id=None, owner_email="dora@vendor.com"))
        assert "owner dora@vendor.com" in head(case)[1]
        fallback, text, _ = head(case, owners={"dora@vendor.com": "U0DORA"})
        assert "owner <@U0DORA>" in text
        assert "<@U0DORA>" in fallback

    def test_an_owner_nobody_knows_says_so(self) -> None:
        assert "owner no owner on record" in head(a_case(a_direct_claim(owner_slack_id=None)))[1]

    def test_a_claim_that_ended_is_marked_and_listed_last(self) -> None:
        ended = a_rival(6, status=Status.rejected)
        _, text, _ = head(a_case(ended, a_direct_claim()))
        assert text.index("0011ACCT") < text.index("GC-0006")
        assert ":white_circle: *Conflict*: registration *GC-0006*" in text
        assert "_no longer a claim_" in text
        assert "2 existing claims*: 2 conflicts, 1 no longer a claim." in text

    def test_possible_conflicts_are_labelled_as_such(self) -> None:
        _, text, _ = head(a_case(a_direct_claim(strength=Strength.possible)))
        assert ":grey_question: *Possible conflict*: direct account" in text

    def test_a_case_whose_findings_went_away_says_so(self) -> None:
        # A resubmission for another customer: nothing left to settle in the thread.
        fallback, text, blocks = head(a_case())
        assert fallback == "IN-0010 (Acme Corp) no longer overlaps a claim."
        assert "the conflict check no longer finds an existing claim." in text
        assert "decide on the review card above" in text
        assert not buttons(blocks)

    def test_a_page_the_evidence_no_longer_needs_says_where_the_list_is(self) -> None:
        gone = build_evidence_page_gone(a_case(a_rival()))
        assert gone.text == "IN-0010: the claims changed; the current list is above."
        assert_valid_message(gone)

    def test_every_signal_has_a_human_name(self) -> None:
        assert set(SIGNAL_NAMES) == set(Signal)
        assert all("_" not in name for name in SIGNAL_NAMES.values())

    def test_user_and_crm_text_is_escaped_everywhere(self) -> None:
        subject = a_registration(id=10, details=some_details(company=HOSTILE))
        hostile = a_rival(partner_name=HOSTILE, partner_tier=HOSTILE, company_name=HOSTILE)
        crm = a_direct_claim(external_id=HOSTILE, stage=HOSTILE, owner_slack_id="<!channel>")
        fallback, text, _ = head(a_case(hostile, crm, subject=subject), partner_name=HOSTILE)
        assert "<!channel>" not in text + fallback
        assert "<http://evil" not in text + fallback
        assert ESCAPED in text


class TestMentionsAndRecommendation:
    def test_the_direct_owner_and_the_other_partners_manager_are_mentioned(self) -> None:
        fallback, _, blocks = head(a_case(a_rival(), a_direct_claim()))
        bell = all_text(blocks[1])
        assert bell.startswith(":bell: Looping in ")
        assert "<@U0DIRECTOWNER> (owner of account 0011ACCT)" in bell
        assert "<@U0GLOBEXMGR> (channel manager of Globex Corporation)" in bell
        # In the fallback text too: that is what Slack's notifications read.
        assert "<@U0DIRECTOWNER>" in fallback
        assert "<@U0GLOBEXMGR>" in fallback

    def test_each_person_is_mentioned_once_and_ended_claims_not_at_all(self) -> None:
        fallback, _, blocks = head(
            a_case(
                a_direct_claim(),
                a_direct_claim(ClaimKind.opportunity, 2),
                a_rival(6, status=Status.expired),
            )
        )
        assert fallback.count("<@U0DIRECTOWNER>") == 1
        assert "U0GLOBEXMGR" not in all_text(blocks[1]) + fallback

    def test_no_one_to_mention_no_bell(self) -> None:
        fallback, text, _ = head(a_case(a_rival(partner_manager=None)))
        assert ":bell:" not in text
        assert "<@" not in fallback

    def test_a_later_registration_for_an_approved_customer_is_recommended_duplicate(
        self,
    ) -> None:
        approved = a_rival(status=Status.approved, protected_until=NOW + 60 * DAY)
        fallback, text, blocks = head(a_case(approved))
        assert (
            ":scales: *Recommended: Mark duplicate.* The first approved registration wins; "
            "later ones are duplicates. Deciding claim: GC-0005 by Globex Corporation, approved."
        ) in text
        assert "Recommended: Mark duplicate." in fallback
        assert buttons(blocks)[Action.resolve_duplicate]["style"] == "primary"

    def test_the_rule_and_the_deciding_direct_claim_are_named(self) -> None:
        _, text, _ = head(a_case(a_rival(), a_direct_claim(is_customer=True)))
        assert "*Recommended: Award to the existing owner.* Existing customers go to the " in text
        assert "Deciding claim: direct account 0011ACCT (customer)." in text

    def test_co_sell_when_the_partner_was_before_the_opportunity(self) -> None:
        _, text, _ = head(a_case(a_direct_claim(ClaimKind.opportunity)))
        assert "*Recommended: Co-sell.* An active direct opportunity wins" in text

    def test_weak_evidence_recommends_the_partner(self) -> None:
        _, text, _ = head(a_case(a_direct_claim(strength=Strength.possible)))
        assert "*Recommended: Award to this partner.* Only a weak likeness" in text

    def test_when_every_claim_ended_nothing_stands_in_the_way(self) -> None:
        _, text, _ = head(a_case(a_rival(status=Status.withdrawn)))
        assert "No claim holds any more" in text

    def test_buttons_carry_the_registration_its_reference_and_the_version_seen(self) -> None:
        subject = a_registration(id=10, version=4)
        actions = buttons(head(a_case(a_rival(), subject=subject))[2])
        assert list(actions) == [
            Action.resolve_award_partner,
            Action.resolve_award_existing,
            Action.resolve_duplicate,
            Action.resolve_reject_both,
            Action.resolve_request_info,
            Action.conflict_working,
        ]
        for button in actions.values():
            assert RegistrationRef.model_validate_json(button["value"]) == RegistrationRef(
                id=10, version=4, reference="IN-0010"
            )

    @pytest.mark.parametrize("kind", [ClaimKind.account, ClaimKind.opportunity])
    def test_co_sell_is_offered_where_the_direct_team_holds_a_claim(self, kind: ClaimKind) -> None:
        """...and awarding the partner alone is not: the direct claim would stay an owner."""
        actions = buttons(head(a_case(a_rival(), a_direct_claim(kind)))[2])
        assert list(actions)[:3] == [
            Action.resolve_award_existing,
            Action.resolve_co_sell,
            Action.resolve_duplicate,
        ]
        assert Action.resolve_award_partner not in actions

    @pytest.mark.parametrize(
        "weak_or_ended",
        [
            a_direct_claim(strength=Strength.possible),
            a_direct_claim(ClaimKind.opportunity, stage="Closed Won"),
        ],
        ids=["a likeness of an account", "a closed opportunity"],
    )
    def test_no_co_sell_with_a_direct_claim_that_is_only_a_likeness_or_has_ended(
        self, weak_or_ended: StoredFinding
    ) -> None:
        actions = buttons(head(a_case(a_rival(), weak_or_ended))[2])
        assert Action.resolve_co_sell not in actions
        assert Action.resolve_award_existing in actions
        assert [b.get("style") for b in actions.values()].count("primary") == 1

    def test_working_notes_show_who_works_the_customer(self) -> None:
        note = WorkingNote(10, "U0REP", HOST_TEAM, NOW, f"Demo booked {HOSTILE}", "https://crm/1")
        _, text, _ = head(a_case(a_direct_claim(), working=(note,)))
        assert ":raising_hand: <@U0REP> is working this customer (<!date^" in text
        assert f"Demo booked {ESCAPED} (<https://crm/1|evidence>)" in text


APPROVER = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0APPROVER"))


class TestOutcome:
    def settled(self, **overrides: Any) -> list[dict[str, Any]]:
        fields: dict[str, Any] = {"id": 10, "decided_by": APPROVER, "decided_at": NOW + DAY}
        blocks = head(a_case(a_rival(), subject=a_registration(**fields | overrides)))[2]
        assert buttons(blocks) == {}
        assert "Recommended" not in all_text(blocks)
        return blocks

    def test_approved(self) -> None:
        blocks = self.settled(status=Status.approved, protected_until=NOW + 91 * DAY)
        assert ":white_check_mark: *Settled:* IN-0010 approved by <@U0APPROVER> on <!date^" in (
            all_text(blocks)
        )
        assert "protected until <!date^" in all_text(blocks)

    def test_rejected(self) -> None:
        blocks = self.settled(status=Status.rejected, rejection_reason=RejectionReason.duplicate)
        assert ":x: *Settled:* IN-0010 rejected by <@U0APPROVER> on <!date^" in all_text(blocks)
        assert ": Duplicate registration." in all_text(blocks)

    def test_info_requested_waits_for_the_partner(self) -> None:
        blocks = self.settled(status=Status.info_requested)
        assert "waits for the partner's answer" in all_text(blocks)

    def test_withdrawn(self) -> None:
        blocks = self.settled(status=Status.withdrawn, decided_by=None, decided_at=None)
        assert "*Closed:* IN-0010 is withdrawn." in all_text(blocks)


LONG = "&<>" * 700 + "Ü" * 2000


def many(count: int, *, long: bool = False) -> Case:
    """`count` rival claims (long: every name and detail far past Slack's limits)."""
    findings = []
    for n in range(count):
        if n % 2:
            name = LONG if long else f"Partner {n}"
            finding = a_rival(
                100 + n, partner_name=name, partner_tier=LONG if long else "Gold",
                company_name=LONG if long else "Acme",
            )  # fmt: skip
        else:
            finding = a_direct_claim(
                ClaimKind.opportunity, 100 + n, external_id=LONG if long else f"0063{n}",
                stage=LONG if long else "Proposal",
                owner_email=LONG if long else None, owner_slack_id=None if long else "U0OWNER",
            )  # fmt: skip
        if long:
            evidence = tuple(Finding(s, Strength.possible, 0.5, LONG) for s in Signal)
            finding = StoredFinding(finding.details, finding.strength, evidence, NOW)
        findings.append(finding)
    subject = a_registration(id=10, details=some_details(company=LONG, website="acme.com"))
    return a_case(*findings, subject=subject)


def pointer_of(subject: Registration) -> str:
    """The head of a case of 200 claims for `subject`: it ends with the `dibs check` pointer."""
    return all_text(thread(a_case(*many(200).findings, subject=subject)).head.block_dicts())


def thread(case: Case, partner_name: str = "Initech") -> EvidenceThread:
    return evidence_thread(case, partner_name=partner_name, program=PROGRAM, now=NOW)


def every_message(case: Case, partner_name: str = "Initech") -> list[list[dict[str, Any]]]:
    """The head and each follow-up page, linted."""
    laid_out = thread(case, partner_name)
    messages = [assert_valid_message(laid_out.head)]
    for first, last in laid_out.pages:
        page = build_evidence_page(case, first, last, program=PROGRAM, now=NOW)
        assert page is not None
        messages.append(assert_valid_message(page))
    return messages


def entries(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        b["text"]["text"]
        for b in blocks
        if b["type"] == "section" and "onflict*:" in b["text"]["text"]
    ]


def text_size(blocks: list[dict[str, Any]]) -> int:
    """Characters under every `text` key: what Slack sums for `msg_blocks_too_long`."""
    total = 0
    for block in blocks:
        stack: list[Any] = [block]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "text" and isinstance(value, str):
                        total += len(value)
                    else:
                        stack.append(value)
            elif isinstance(node, list):
                stack.extend(node)
    return total


class TestLimits:
    @pytest.mark.parametrize("count", [1, PAGE, PAGE + 1, 200])
    @pytest.mark.parametrize("long", [False, True], ids=["short", "long"])
    def test_every_message_stays_within_slacks_limits(self, count: int, long: bool) -> None:
        case = many(count, long=long)
        messages = every_message(case, LONG if long else "Initech")
        assert len(messages) <= MAX_MESSAGES
        for blocks in messages:
            assert len(blocks) <= 50
            assert text_size(blocks) <= TEXT_BUDGET + 500, text_size(blocks)
        shown = [entry for blocks in messages for entry in entries(blocks)]
        assert len(shown) == len(set(shown)) or long  # short entries are all distinct
        head_text = all_text(messages[0])
        if len(shown) < count:
            assert f"{count - len(shown)} more not shown here: `dibs check" in head_text
        else:
            assert "dibs check" not in head_text

    @pytest.mark.parametrize(("count", "replies"), [(1, 0), (PAGE, 0), (PAGE + 1, 1), (200, 4)])
    def test_short_entries_go_twenty_to_a_message(self, count: int, replies: int) -> None:
        laid_out = thread(many(count))
        assert len(laid_out.pages) == replies
        assert len(entries(laid_out.head.block_dicts())) == min(count, PAGE)
        assert all(last - first <= PAGE for first, last in laid_out.pages)

    def test_long_entries_move_to_the_next_reply_before_the_text_budget(self) -> None:
        laid_out = thread(many(200, long=True), LONG)
        assert len(laid_out.pages) == MAX_MESSAGES - 1
        assert len(entries(laid_out.head.block_dicts())) < PAGE

    def test_the_head_keeps_the_recommendation_and_buttons_however_long_the_list(self) -> None:
        blocks = thread(many(200, long=True), LONG).head.block_dicts()
        assert "Recommended:" in all_text(blocks)
        assert buttons(blocks)

    def test_the_head_says_where_the_rest_are(self) -> None:
        laid_out = thread(many(45))
        assert laid_out.pages == ((20, 40), (40, 45))
        text = all_text(laid_out.head.block_dicts())
        assert "Claims 1–20 of 45 above; 21–45 follow in this thread." in text
        page = build_evidence_page(many(45), 40, 45, program=PROGRAM, now=NOW)
        assert page is not None
        assert page.text == "IN-0010: existing claims 41–45 of 45"

    def test_beyond_five_messages_it_points_to_dibs_check(self) -> None:
        text = pointer_of(a_registration(id=10))
        assert "Claims 1–20 of 200 above; 21–100 follow in this thread. 100 more" in text
        assert (
            "100 more not shown here: `dibs check 'Acme Corp' --domain acme.com "
            "--email wile@acme.com --country US` runs the check again and lists every claim it "
            "finds now."
        ) in text

    @pytest.mark.parametrize(
        "details",
        [
            {"company": "O'Brien & Sons `rm -rf` $(id) <!channel>", "website": "obrien.ie"},
            {"company": "Plain", "contact_email": "o'hara&co`x`@acme.com", "country": "IE"},
        ],
        ids=["company", "e-mail"],
    )
    def test_the_dibs_check_pointer_is_one_safe_shell_command_with_what_was_checked(
        self, details: dict[str, str]
    ) -> None:
        subject = a_registration(id=10, details=some_details(**details))
        text = pointer_of(subject)
        [shown] = re.findall(r"`(dibs check [^`]*)`", text)
        command = html.unescape(shown)  # Slack shows &amp; &lt; &gt; as & < >
        sent = subject.details
        assert shlex.split(command) == [
            "dibs", "check", sent.company.replace("`", "'"),
            "--domain", sent.website,
            "--email", (sent.contact_email or "").replace("`", "'"),
            "--country", sent.country,
        ]  # fmt: skip
        assert "<!channel>" not in text

    def test_without_a_contact_e_mail_the_pointer_leaves_the_option_out(self) -> None:
        text = pointer_of(a_registration(id=10, details=some_details(contact_email=None)))
        assert "`dibs check 'Acme Corp' --domain acme.com --country US` runs the check" in text

    def test_a_command_too_long_to_show_whole_is_described_not_cut(self) -> None:
        text = pointer_of(a_registration(id=10, details=some_details(company="'" * 200)))
        assert (
            "100 more not shown here: `dibs check` with this registration's company, --domain, "
            "--email and --country runs the check again and lists every claim it finds now."
        ) in text

    def test_a_page_the_findings_no_longer_have_is_not_posted(self) -> None:
        assert build_evidence_page(many(3), 20, 40, program=PROGRAM, now=NOW) is None
        page = build_evidence_page(many(25), 20, 40, program=PROGRAM, now=NOW)
        assert page is not None
        assert len(entries(page.block_dicts())) == 5

    def test_long_names_never_cut_a_mention_in_half(self) -> None:
        text = all_text(thread(many(2, long=True), LONG).head.block_dicts())
        assert "channel manager <@U0GLOBEXMGR>" in text
