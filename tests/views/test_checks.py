"""`/dibs check` replies and `dibs check` lines: every finding with its claim and evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.views.checks import (
    MAX_SHOWN,
    build_check_result,
    check_lines,
    parse_check_text,
)
from domain.checks import CompanyCheck
from domain.conflicts import Claim, ClaimKind, ConflictRules, find_conflicts
from domain.matching import CompanyRef
from domain.registration import RegistrationStatus
from tests.builders import NOW, a_partner
from tests.views.blockkit import all_text, assert_valid_message

HOSTILE = "<!channel> & Co"
SUBJECT = CompanyRef("Globex", domain="globex.com", country="DE")


def a_check(*claims: Claim) -> CompanyCheck:
    findings = find_conflicts(SUBJECT, claims, ConflictRules())
    return CompanyCheck(SUBJECT, tuple(findings), {7: a_partner(name=HOSTILE)})


def account(claim_id: int = 1, name: str = "Globex GmbH", **facts: object) -> Claim:
    return Claim(
        ClaimKind.account,
        claim_id,
        CompanyRef(name, domain="globex.com", country="DE"),
        external_id=f"ACC{claim_id}",
        **facts,  # type: ignore[arg-type]
    )


class TestParse:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Globex Corp", CompanyRef("Globex Corp")),
            ("Globex Corp globex.com", CompanyRef("Globex Corp", domain="globex.com")),
            (
                "Globex https://www.globex.de/x",
                CompanyRef("Globex", domain="https://www.globex.de/x"),
            ),
            ("Globex hank@globex.com", CompanyRef("Globex", email="hank@globex.com")),
            ("globex.com", CompanyRef("globex.com")),
            ("   ", None),
        ],
    )
    def test_reads_a_name_and_an_optional_website_or_email(
        self, text: str, expected: CompanyRef | None
    ) -> None:
        assert parse_check_text(text) == expected


class TestResult:
    def test_names_the_claim_its_holder_and_every_signal_with_its_score(self) -> None:
        registration = Claim(
            ClaimKind.registration,
            3,
            CompanyRef("Globex Corporation", domain="www.globex.com", country="DE"),
            partner_id=7,
            status=RegistrationStatus.approved,
            protected_until=NOW + timedelta(days=90),
            reference="IN-0003",
        )
        check = a_check(registration, account(is_customer=True, owner_slack_id="U0DIRECT"))

        text = all_text(assert_valid_message(build_check_result(check)))

        for expected in [
            "2 conflicts", "Registration IN-0003", "by &lt;!channel&gt; &amp; Co", "Approved",
            "protected until <!date^", "Account ACC1 Globex GmbH (globex.com, DE)", "customer",
            "owner <@U0DIRECT>", "same domain 1.00: globex.com", "country agrees 1.00: DE",
        ]:  # fmt: skip
            assert expected in text, expected
        assert "<!channel>" not in text

    def test_an_owner_that_is_not_a_slack_id_is_shown_as_text(self) -> None:
        check = a_check(account(owner_slack_id="<!here>"))

        text = all_text(assert_valid_message(build_check_result(check)))

        assert "owner &lt;!here&gt;" in text

    def test_no_finding_says_so(self) -> None:
        message = build_check_result(a_check())

        assert "No existing claim found." in all_text(assert_valid_message(message))

    def test_many_findings_stay_within_slacks_limits(self) -> None:
        check = a_check(*(account(n, name="G" * 250 + " Globex") for n in range(MAX_SHOWN + 5)))

        text = all_text(assert_valid_message(build_check_result(check)))

        assert "…and 5 more" in text

    def test_command_line_lines_are_plain_text(self) -> None:
        lines = check_lines(a_check(account(is_named=True, owner_email="dana@vendor.example")))

        assert lines == [
            "1 conflict.",
            "- Account ACC1 Globex GmbH (globex.com, DE): named account, owner dana@vendor.example",
            "  conflict (score 1.00): same domain 1.00: globex.com, name equal 1.00: globex;"
            " country agrees 1.00: DE",
        ]
