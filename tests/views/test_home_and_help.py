"""The desk's App Home, `/dibs list` and `/dibs help`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.ids import Action
from bot.views.common import RegistrationRef
from bot.views.help import build_help, build_pending_list
from bot.views.home_tab import build_home
from domain.cases import RegistrationWithPartner
from domain.policy import ProgramPolicy
from domain.registration import RegistrationStatus
from tests.builders import NOW, a_partner, a_registration, some_details
from tests.views.blockkit import all_text, assert_valid_message, assert_valid_view

PROGRAM = ProgramPolicy()
HOSTILE = "<!channel> & <http://evil|x>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;http://evil|x&gt;"


def waiting(n: int, *, days_ago: int, **overrides: Any) -> RegistrationWithPartner:
    """Registration `n`, the first of partner `n` (code `Pn`)."""
    registration = a_registration(
        id=n,
        created_at=NOW - timedelta(days=days_ago),
        assigned_reference=f"P{n}-0001",
        **overrides,
    )
    return RegistrationWithPartner(registration, a_partner(name=f"Partner {n}", code=f"P{n}"))


def many(count: int) -> list[RegistrationWithPartner]:
    company = "<&>" * 66 + "ab"
    partner = a_partner(name="&" * 200)
    return [
        RegistrationWithPartner(
            a_registration(id=n, details=some_details(company=company), version=n), partner
        )
        for n in range(1, count + 1)
    ]


class TestHome:
    def test_lists_waiting_registrations_oldest_first_with_buttons(self) -> None:
        pending = [waiting(2, days_ago=1), waiting(1, days_ago=3, version=5)]
        view = assert_valid_view(build_home(pending, program=PROGRAM, now=NOW, can_decide=True))
        assert view["type"] == "home"
        assert view["blocks"][0]["text"]["text"] == "Waiting for a decision (2)"
        text = all_text(view)
        assert text.index("P1-0001") < text.index("P2-0001")
        assert "Acme Corp · Partner 1 · USD 84,500 · 3 days" in text
        actions = [b for b in view["blocks"] if b["type"] == "actions"]
        assert [b["block_id"] for b in actions] == ["home-actions-1", "home-actions-2"]
        first = {e["action_id"]: e["value"] for e in actions[0]["elements"]}
        assert set(first) == {
            Action.review_approve,
            Action.review_reject,
            Action.review_request_info,
        }
        assert RegistrationRef.model_validate_json(first[Action.review_approve]) == (
            RegistrationRef(id=1, version=5)
        )

    def test_no_buttons_for_people_who_cannot_decide(self) -> None:
        pending = [waiting(1, days_ago=1)]
        view = assert_valid_view(build_home(pending, program=PROGRAM, now=NOW, can_decide=False))
        assert not [b for b in view["blocks"] if b["type"] == "actions"]
        assert "Only the desk's approvers can decide." in all_text(view)

    def test_info_requested_waits_for_the_partner_without_buttons(self) -> None:
        pending = [waiting(1, days_ago=1, status=RegistrationStatus.info_requested)]
        view = assert_valid_view(build_home(pending, program=PROGRAM, now=NOW, can_decide=True))
        assert "waiting for the partner" in all_text(view)
        assert not [b for b in view["blocks"] if b["type"] == "actions"]

    def test_empty_state(self) -> None:
        view = assert_valid_view(build_home([], program=PROGRAM, now=NOW, can_decide=True))
        assert view["blocks"][0]["text"]["text"] == "Waiting for a decision (0)"
        assert "Nothing is waiting" in all_text(view)

    def test_caps_the_list_under_100_blocks(self) -> None:
        view = assert_valid_view(build_home(many(60), program=PROGRAM, now=NOW, can_decide=True))
        assert view["blocks"][0]["text"]["text"] == "Waiting for a decision (60)"
        assert "…and 15 more" in all_text(view)
        assert "<!channel>" not in all_text(view)

    def test_escapes_company_and_partner(self) -> None:
        pending = [
            RegistrationWithPartner(
                a_registration(details=some_details(company=HOSTILE)), a_partner(name=HOSTILE)
            )
        ]
        view = assert_valid_view(build_home(pending, program=PROGRAM, now=NOW, can_decide=True))
        assert f"{ESCAPED} · {ESCAPED}" in all_text(view)
        assert "<!channel>" not in all_text(view)


class TestHelp:
    def test_lists_the_commands_and_the_launcher(self) -> None:
        message = build_help()
        text = all_text(assert_valid_message(message))
        for command in ["`/dibs`", "`/dibs list`", "`/dibs show REFERENCE`", "`/dibs setup`",
                        "`/dibs help`"]:  # fmt: skip
            assert command in text
        assert "*Register a deal*" in text

    def test_pending_list_is_oldest_first(self) -> None:
        pending = [waiting(2, days_ago=1), waiting(1, days_ago=3)]
        message = build_pending_list(pending, program=PROGRAM, now=NOW)
        text = all_text(assert_valid_message(message))
        assert message.text == "Waiting for a decision (2)"
        assert text.index("P1-0001") < text.index("P2-0001")

    def test_overdue_is_marked(self) -> None:
        pending = [waiting(1, days_ago=3, decision_due_at=NOW - timedelta(hours=1))]
        text = all_text(assert_valid_message(build_pending_list(pending, program=PROGRAM, now=NOW)))
        assert "3 days · *overdue*" in text

    def test_empty_pending_list(self) -> None:
        message = build_pending_list([], program=PROGRAM, now=NOW)
        assert "Nothing is waiting." in all_text(assert_valid_message(message))

    def test_long_pending_list_fits_a_message(self) -> None:
        message = build_pending_list(many(60), program=PROGRAM, now=NOW)
        text = all_text(assert_valid_message(message))
        assert "…and 20 more" in text
        assert "<!channel>" not in text
