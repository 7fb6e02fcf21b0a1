"""The registration modal: it lints clean, round-trips its prefill, and explains bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.ids import Block, Callback
from bot.views.blocks import build_message_modal
from bot.views.common import FormContext
from bot.views.precheck import (
    PRECHECK_CLEAR,
    PRECHECK_NONE_OWN,
    PRECHECK_OVERLAP,
    has_precheck,
    precheck_ref,
    with_precheck,
)
from bot.views.registration_form import RegistrationForm, parse_registration_submission
from bot.views.registration_modal import build_registration_modal, build_submitted_view
from domain.checks import PrecheckResult
from domain.matching import CompanyRef
from domain.policy import ProgramPolicy
from domain.registration import DealStage, RegistrationStatus
from tests.builders import NOW, a_partner, a_registration, some_details
from tests.views.blockkit import all_text, assert_valid_view, state_values

PROGRAM = ProgramPolicy(currency="USD", products=("Analytics", "Edge", "Support"))
CONTEXT = FormContext(channel_id="C0PARTNER", partner_id=7)
HOSTILE = "<!channel> & <http://evil|x>"
MAX_FIELDS = 12
Status = RegistrationStatus


def _modal(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("program", PROGRAM)
    kwargs.setdefault("context", CONTEXT)
    return assert_valid_view(build_registration_modal(**kwargs))


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def _submit(
    view: dict[str, Any], *, now: datetime = NOW, **changes: Any
) -> RegistrationForm | dict[str, str]:
    values = state_values(view)
    for block, state in changes.items():
        values[Block[block]][Block[block]].update(state)
    return parse_registration_submission(values, program=PROGRAM, now=now)


class TestBuild:
    def test_blank_form_has_the_fields_in_order(self) -> None:
        view = _modal()
        assert view["callback_id"] == Callback.registration_submit
        assert view["title"]["text"] == "Register a deal"
        assert (view["submit"]["text"], view["close"]["text"]) == ("Submit", "Cancel")
        assert FormContext.model_validate_json(view["private_metadata"]) == CONTEXT
        assert list(_inputs(view)) == [
            Block.company, Block.website, Block.country, Block.amount, Block.close_date,
            Block.products, Block.contact_name, Block.contact_email, Block.stage, Block.notes,
        ]  # fmt: skip
        optional = {k for k, b in _inputs(view).items() if b.get("optional")}
        assert optional == {Block.contact_name, Block.contact_email, Block.stage, Block.notes}

    @pytest.mark.parametrize(
        "partners", [None, [a_partner(), a_partner(id=8, name="Globex")]], ids=["partner", "staff"]
    )
    def test_the_form_has_at_most_twelve_fields(self, partners: Any) -> None:
        """The issue's limit, for a partner's form and for staff's form with the picker,
        with everything else the form can show (a question, a pre-check line) as well."""
        view = _modal(
            partners=partners,
            prefill=some_details(),
            info_request="Who signs?",
            precheck=PrecheckResult(
                checked=CompanyRef("Acme", domain="acme.com"),
                partner=a_partner(),
                own=tuple(a_registration(id=n) for n in range(1, 6)),
                others_may_overlap=True,
            ),
        )
        assert len(_inputs(view)) <= MAX_FIELDS
        assert (Block.partner in _inputs(view)) is bool(partners)

    def test_every_input_action_id_equals_its_block_id(self) -> None:
        view = _modal(partners=[a_partner()])
        for block_id, block in _inputs(view).items():
            assert block["element"]["action_id"] == block_id

    def test_country_picker_offers_every_iso_country_grouped_by_initial(self) -> None:
        country = _inputs(_modal())[Block.country]["element"]
        groups = country["option_groups"]
        codes = [o["value"] for g in groups for o in g["options"]]
        assert len(codes) == len(set(codes)) == 249
        assert {"US", "GB", "DE", "AX", "TW"} <= set(codes)
        labels = [g["label"]["text"] for g in groups]
        assert labels == sorted(labels)
        names = {o["value"]: o["text"]["text"] for g in groups for o in g["options"]}
        assert names["TW"] == "Taiwan"  # common_name, not "Taiwan, Province of China"

    def test_amount_hint_names_the_accepted_forms_and_currency(self) -> None:
        amount = _inputs(_modal(program=replace(PROGRAM, currency="EUR")))[Block.amount]
        assert "84500, 84,500, $84,500 or 84.5k" in amount["hint"]["text"]
        assert "EUR" in amount["hint"]["text"]

    def test_partner_picker_comes_first_only_when_partners_are_given(self) -> None:
        assert Block.partner not in _inputs(_modal())
        assert Block.partner not in _inputs(_modal(partners=[]))
        view = _modal(partners=[a_partner(), a_partner(id=8, name="Globex")])
        assert next(iter(_inputs(view))) == Block.partner
        picker = _inputs(view)[Block.partner]["element"]
        assert [o["value"] for o in picker["options"]] == ["7", "8"]
        assert picker["initial_option"]["value"] == "7"

    def test_info_request_is_shown_escaped_above_the_form(self) -> None:
        view = _modal(info_request=f"Who is {HOSTILE}?", prefill=some_details())
        top = view["blocks"][0]["text"]["text"]
        assert "&lt;!channel&gt; &amp; &lt;http://evil|x&gt;" in top
        assert "<!channel>" not in top

    def test_updating_changes_the_title(self) -> None:
        context = FormContext(channel_id="C1", partner_id=7, registration_id=1, version=2)
        assert _modal(context=context)["title"]["text"] == "Update registration"

    def test_builds_within_limits_with_maximal_data(self) -> None:
        products = tuple(f"Product {n} " + "x" * 160 for n in range(100))
        details = some_details(
            company="<&>" * 66 + "ab",
            notes="&" * 3000,
            products=products[:50],
            contact_name="n" * 200,
        )
        partners = [a_partner(id=n, name=f"Partner {n} " + "y" * 120) for n in range(100)]
        program = replace(PROGRAM, products=products)
        view = _modal(program=program, prefill=details, partners=partners, info_request="<" * 3000)
        assert len(_inputs(view)[Block.products]["element"]["initial_options"]) == 50
        result = parse_registration_submission(state_values(view), program=program, now=NOW)
        assert isinstance(result, RegistrationForm)
        assert result.details.products == products[:50]


class TestRoundTrip:
    @pytest.mark.parametrize(
        "details",
        [
            some_details(),
            some_details(contact_name=None, contact_email=None, stage=None, notes=None),
            some_details(amount=Decimal("1234.56"), products=("Edge", "Support"), country="AX"),
            some_details(stage=DealStage.negotiation, website="https://www.acme.co.uk/path"),
        ],
    )
    def test_prefilled_form_parses_back_to_the_same_details(self, details: Any) -> None:
        result = _submit(_modal(prefill=details))
        assert result == RegistrationForm(details=details, partner_id=None)

    def test_partner_choice_comes_back_as_an_id(self) -> None:
        view = _modal(prefill=some_details(), partners=[a_partner()])
        result = _submit(view)
        assert isinstance(result, RegistrationForm)
        assert result.partner_id == 7

    def test_values_are_stripped(self) -> None:
        view = _modal(prefill=some_details())
        result = _submit(view, company={"value": "  Acme Corp "}, website={"value": " acme.com "})
        assert isinstance(result, RegistrationForm)
        assert (result.details.company, result.details.website) == ("Acme Corp", "acme.com")


class TestParseErrors:
    def _errors(self, **changes: Any) -> dict[str, str]:
        result = _submit(_modal(prefill=some_details()), **changes)
        assert isinstance(result, dict), result
        return result

    def test_an_empty_form_reports_every_required_field(self) -> None:
        errors = parse_registration_submission({}, program=PROGRAM, now=NOW)
        assert isinstance(errors, dict)
        assert set(errors) == {
            Block.company, Block.website, Block.country, Block.amount, Block.close_date,
            Block.products,
        }  # fmt: skip
        assert errors[Block.close_date] == "Pick the expected close date."

    def test_long_company_name(self) -> None:
        errors = self._errors(company={"value": "c" * 201})
        assert errors == {Block.company: "Keep the company name under 200 characters."}

    @pytest.mark.parametrize("website", ["not a site", "acme", "acme .com", "http://", "a@b.com"])
    def test_implausible_website(self, website: str) -> None:
        assert "acme.com" in self._errors(website={"value": website})[Block.website]

    @pytest.mark.parametrize(
        "website",
        ["acme.com", "www.acme.co.uk", "https://www.acme.co.uk/path", "http://a-b.io:8080"],
    )
    def test_plausible_websites_are_kept_as_typed(self, website: str) -> None:
        result = _submit(_modal(prefill=some_details()), website={"value": website})
        assert isinstance(result, RegistrationForm)
        assert result.details.website == website

    @pytest.mark.parametrize("typed", ["84500", "84,500", "$84,500", "84.5k", "USD 84500"])
    def test_amount_forms(self, typed: str) -> None:
        result = _submit(_modal(prefill=some_details()), amount={"value": typed})
        assert isinstance(result, RegistrationForm)
        assert result.details.amount == Decimal("84500.00")
        assert result.details.currency == "USD"

    def test_unreadable_amount_uses_the_domain_message(self) -> None:
        errors = self._errors(amount={"value": "lots"})
        assert errors == {Block.amount: "Enter an amount such as 84500, 84,500, $84,500 or 84.5k."}

    def test_products_outside_the_program(self) -> None:
        errors = self._errors(products={"selected_options": [{"value": "Toaster"}]})
        assert "no longer offered" in errors[Block.products]

    def test_no_products(self) -> None:
        errors = self._errors(products={"selected_options": []})
        assert errors == {Block.products: "Choose at least one product."}

    def test_bad_contact_email(self) -> None:
        errors = self._errors(contact_email={"value": "wile at acme"})
        assert errors == {Block.contact_email: "Enter an e-mail address such as jane@acme.com."}

    def test_unknown_country(self) -> None:
        errors = self._errors(country={"selected_option": {"value": "XX"}})
        assert errors == {Block.country: "Choose a country from the list."}

    def test_notes_over_the_limit(self) -> None:
        errors = self._errors(notes={"value": "n" * 3001})
        assert errors == {Block.notes: "Keep the notes under 3000 characters."}


PAST = {Block.close_date: "The close date can't be in the past."}
TOO_FAR = {Block.close_date: "Pick a date within two years."}


def _at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


class TestCloseDate:
    """The picker gives a date in the user's own time zone, which Slack does not tell us:
    a date that is today anywhere on earth (UTC-12 to UTC+14) is not in the past, and the
    limit is two calendar years after the latest such today."""

    def _close(self, picked: str, now: datetime) -> RegistrationForm | dict[str, str]:
        view = _modal(prefill=some_details())
        return _submit(view, now=now, close_date={"selected_date": picked})

    def _accepted(self, picked: str, now: datetime) -> bool:
        result = self._close(picked, now)
        if isinstance(result, RegistrationForm):
            assert result.details.close_date == date.fromisoformat(picked)
            return True
        return False

    def test_today_in_utc_and_two_calendar_years_on_are_fine(self) -> None:
        assert self._accepted("2025-03-03", NOW)
        assert self._accepted("2027-03-03", NOW)

    def test_yesterday_in_utc_is_still_today_west_of_utc_until_noon(self) -> None:
        # at 09:30 UTC on the 3rd it is 21:30 on the 2nd on Baker Island (UTC-12)
        assert self._accepted("2025-03-02", NOW)

    def test_dates_outside_the_window_are_refused(self) -> None:
        assert self._close("2025-03-01", NOW) == PAST
        assert self._close("2027-03-04", NOW) == TOO_FAR

    def test_west_of_utc_late_in_the_day_their_today_is_not_the_past(self) -> None:
        # 03:00 UTC on the 4th is 19:00 on the 3rd in San Francisco (UTC-8)
        assert self._accepted("2025-03-03", _at("2025-03-04T03:00"))

    def test_a_date_is_today_somewhere_until_noon_utc_of_the_next_day(self) -> None:
        # Baker Island (UTC-12) leaves the 3rd at 12:00 UTC on the 4th
        assert self._accepted("2025-03-03", _at("2025-03-04T11:59:59"))
        assert self._close("2025-03-03", _at("2025-03-04T12:00")) == PAST

    def test_east_of_utc_tomorrow_is_already_today_so_the_two_years_start_there(self) -> None:
        # Kiribati (UTC+14) starts the 4th at 10:00 UTC on the 3rd
        assert self._close("2027-03-04", _at("2025-03-03T09:59:59")) == TOO_FAR
        assert self._accepted("2027-03-04", _at("2025-03-03T10:00"))
        assert self._close("2027-03-05", _at("2025-03-03T10:00")) == TOO_FAR

    def test_two_calendar_years_across_a_leap_day_are_not_730_days(self) -> None:
        now = _at("2026-03-01T00:00")  # 1 March everywhere from UTC-0 to UTC+14
        assert date(2028, 3, 1) - date(2026, 3, 1) == timedelta(days=731)
        assert self._accepted("2028-03-01", now)
        assert self._close("2028-03-02", now) == TOO_FAR

    def test_from_a_leap_day_two_years_on_is_the_28th_of_february(self) -> None:
        now = _at("2028-02-29T00:00")
        assert self._accepted("2030-02-28", now)
        assert self._close("2030-03-01", now) == TOO_FAR

    def test_an_unreadable_date_asks_for_one(self) -> None:
        unreadable = {Block.close_date: "Pick the expected close date."}
        assert self._close("next spring", NOW) == unreadable


class TestOtherModals:
    def test_submitted_view_confirms_the_reference(self) -> None:
        registration = a_registration(details=some_details(company=HOSTILE))
        view = assert_valid_view(build_submitted_view(registration, a_partner()))
        text = all_text(view)
        assert "*IN-0001* received. The desk will review it" in text
        assert "its status card is in the channel" in text
        assert "<!channel>" not in text
        assert "submit" not in view

    def test_message_modal_is_a_notice(self) -> None:
        view = assert_valid_view(build_message_modal("A rather long title for a modal", "x" * 4000))
        assert view["callback_id"] == Callback.notice
        assert len(view["blocks"][0]["text"]["text"]) == 3000


ACME = CompanyRef("Acme Corp", domain="acme.com", country="US")
NONE_OWN = PrecheckResult(checked=ACME, partner=a_partner())
"""What a partner sees by default when it holds no registration of the customer."""
OVERLAP = PrecheckResult(checked=ACME, partner=a_partner(), others_may_overlap=True)
CLEAR = PrecheckResult(checked=ACME, partner=a_partner(), others_may_overlap=False)
"""What a partner sees when the policy lets partners see overlaps (and what staff see)."""
DAY = timedelta(days=1)


def _verdict(result: PrecheckResult) -> str:
    [line] = [b for b in _modal(precheck=result)["blocks"] if b.get("block_id") == Block.precheck]
    text: str = line["elements"][0]["text"]
    return text


def _date(moment: datetime) -> str:
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{moment:%Y-%m-%d}>"


def _block_ids(view: dict[str, Any]) -> list[str]:
    return [b.get("block_id", "") for b in view["blocks"]]


def _as_slack_sends_it(view: dict[str, Any], **state: Any) -> dict[str, Any]:
    """The view as it comes back in a block_actions payload: server fields and state added."""
    values = state_values(view)
    for block, entry in state.items():
        values[Block[block]][Block[block]].update(entry)
    return {
        **view,
        "id": "V0FORM",
        "team_id": "T0PARTNER",
        "hash": "1710000000.abcd1234",
        "root_view_id": "V0FORM",
        "app_id": "A0DIBS",
        "bot_id": "B0BOT",
        "external_id": "",
        "previous_view_id": None,
        "state": {"values": values},
    }


class TestPrecheckLine:
    def test_company_and_website_dispatch_when_enter_is_pressed(self) -> None:
        inputs = _inputs(_modal(partners=[a_partner()]))
        dispatching = {k for k, b in inputs.items() if b.get("dispatch_action")}
        assert dispatching == {Block.company, Block.website}
        for block in dispatching:
            config = inputs[block]["element"]["dispatch_action_config"]
            assert config == {"trigger_actions_on": ["on_enter_pressed"]}

    def test_a_new_form_has_no_line(self) -> None:
        view = _modal()
        assert Block.precheck not in _block_ids(view)
        assert not has_precheck(view)

    @pytest.mark.parametrize(
        ("result", "words"),
        [(NONE_OWN, PRECHECK_NONE_OWN), (OVERLAP, PRECHECK_OVERLAP), (CLEAR, PRECHECK_CLEAR)],
    )
    def test_the_line_sits_under_the_website_and_says_only_that(
        self, result: PrecheckResult, words: str
    ) -> None:
        view = _modal(prefill=some_details(), precheck=result)
        ids = _block_ids(view)
        assert ids[ids.index(Block.website) + 1] == Block.precheck
        [line] = [b for b in view["blocks"] if b.get("block_id") == Block.precheck]
        assert line["type"] == "context"
        verdict, checked = line["elements"]
        assert words in verdict["text"]
        assert checked == {
            "type": "plain_text",
            "text": "Checked: Acme Corp · acme.com",
            "emoji": False,
        }
        assert has_precheck(view)

    def test_the_form_with_a_line_still_parses_back_to_the_same_details(self) -> None:
        details = some_details()
        result = _submit(_modal(prefill=details, precheck=OVERLAP))
        assert result == RegistrationForm(details=details, partner_id=None)

    def test_the_line_stays_within_limits_with_maximal_input(self) -> None:
        hostile = CompanyRef("<!channel> &" * 18 + "x" * 20, domain="a" * 63 + ".example" * 24)
        result = PrecheckResult(checked=hostile, partner=a_partner(), others_may_overlap=True)
        details = some_details(company="c" * 200, notes="&" * 3000)
        view = _modal(prefill=details, precheck=result, info_request="<" * 3000)
        [line] = [b for b in view["blocks"] if b.get("block_id") == Block.precheck]
        verdict, checked = line["elements"]
        assert verdict["text"] == f":warning: {PRECHECK_OVERLAP}"  # no user text in mrkdwn
        assert checked["type"] == "plain_text"
        assert len(checked["text"]) == 500

    def test_with_precheck_keeps_every_block_and_drops_what_slack_adds(self) -> None:
        form = _modal(prefill=some_details(), partners=[a_partner()])
        sent = _as_slack_sends_it(form, company={"value": "Typed Inc"})
        updated = assert_valid_view(with_precheck(sent, OVERLAP))
        assert {k: v for k, v in updated.items() if k != "blocks"} == {
            k: v for k, v in form.items() if k != "blocks"
        }
        ids = _block_ids(updated)
        assert [b for b in updated["blocks"] if b["block_id"] != Block.precheck] == form["blocks"]
        assert ids[ids.index(Block.website) + 1] == Block.precheck

    def test_with_precheck_replaces_the_line_or_removes_it(self) -> None:
        form = _modal(precheck=CLEAR)
        replaced = with_precheck(_as_slack_sends_it(form), OVERLAP)
        assert _block_ids(replaced).count(Block.precheck) == 1
        assert PRECHECK_OVERLAP in str(replaced["blocks"])
        assert PRECHECK_CLEAR not in str(replaced["blocks"])
        removed = with_precheck(_as_slack_sends_it(form), None)
        assert not has_precheck(removed)
        assert removed["blocks"] == _modal()["blocks"]


class TestPrecheckOwnRegistrations:
    def test_by_default_a_partner_without_one_reads_one_constant_line(self) -> None:
        assert _verdict(NONE_OWN) == f":information_source: {PRECHECK_NONE_OWN}"
        assert PRECHECK_NONE_OWN == "You have no registration of this customer yet."

    def test_one_earlier_registration_is_named_with_its_date_and_status(self) -> None:
        earlier = a_registration(id=4, created_at=NOW - 2 * DAY)
        result = PrecheckResult(checked=ACME, partner=a_partner(), own=(earlier,))

        assert _verdict(result) == (
            f":information_source: You registered this customer on {_date(NOW - 2 * DAY)}: "
            f"{earlier.reference}, in review."
        )

    def test_several_are_listed_up_to_three_and_the_rest_counted(self) -> None:
        own = tuple(  # newest first, as the use case gives them
            a_registration(id=n, created_at=NOW - (5 - n) * DAY, status=status)
            for n, status in zip(
                range(5, 0, -1),
                [Status.approved, Status.info_requested, Status.submitted, Status.under_review] * 2,
                strict=False,
            )
        )
        result = PrecheckResult(checked=ACME, partner=a_partner(), own=own)

        assert _verdict(result) == (
            ":information_source: You registered this customer 5 times: "
            f"{own[0].reference} on {_date(NOW)}, approved; "
            f"{own[1].reference} on {_date(NOW - DAY)}, info requested; "
            f"{own[2].reference} on {_date(NOW - 2 * DAY)}, submitted; and 2 more."
        )

    def test_two_are_listed_without_more(self) -> None:
        own = (a_registration(id=2), a_registration(id=1))
        result = PrecheckResult(checked=ACME, partner=a_partner(), own=own)

        verdict = _verdict(result)
        assert "2 times: " in verdict
        assert verdict.endswith(f"{own[1].reference} on {_date(NOW)}, in review.")
        assert "more" not in verdict

    def test_when_partners_see_overlaps_its_own_and_the_overlap_both_show(self) -> None:
        own = (a_registration(id=4),)
        result = PrecheckResult(checked=ACME, partner=a_partner(), own=own, others_may_overlap=True)

        lines = _verdict(result).split("\n")
        assert lines[0].startswith(":information_source: You registered this customer on ")
        assert lines[1:] == [f":warning: {PRECHECK_OVERLAP}"]

    def test_its_own_registration_alone_is_not_called_clear(self) -> None:
        own = (a_registration(id=4),)
        result = PrecheckResult(
            checked=ACME, partner=a_partner(), own=own, others_may_overlap=False
        )

        verdict = _verdict(result)
        assert verdict.startswith(":information_source: You registered this customer on ")
        assert PRECHECK_CLEAR not in verdict
        assert "\n" not in verdict

    def test_staff_read_the_picked_partners_name_escaped(self) -> None:
        partner = a_partner(name=HOSTILE)
        own = (a_registration(id=4),)
        result = PrecheckResult(
            checked=ACME, partner=partner, own=own, others_may_overlap=False, staff=True
        )

        verdict = _verdict(result)
        assert verdict.startswith(
            ":information_source: &lt;!channel&gt; &amp; &lt;http://evil|x&gt; registered "
            "this customer on "
        )
        assert "You" not in verdict

    def test_staff_without_a_partner_read_the_line_as_before(self) -> None:
        for others, line in ((True, f":warning: {PRECHECK_OVERLAP}"), (False, PRECHECK_CLEAR)):
            result = PrecheckResult(checked=ACME, others_may_overlap=others, staff=True)
            assert line in _verdict(result)
            assert "registration" not in _verdict(result)


class TestPrecheckRef:
    def _values(self, **changes: Any) -> dict[str, Any]:
        view = _modal()
        values = state_values(view)
        for block, state in changes.items():
            values[Block[block]][Block[block]].update(state)
        return values

    def test_company_and_website_are_what_is_checked(self) -> None:
        values = self._values(company={"value": " Acme Corp "}, website={"value": "www.acme.com"})
        assert precheck_ref(values) == CompanyRef("Acme Corp", domain="www.acme.com")

    def test_country_and_contact_e_mail_join_in_as_on_submission(self) -> None:
        values = self._values(
            company={"value": "Acme Corp"},
            website={"value": "acme.com"},
            country={"selected_option": {"value": "DE"}},
            contact_email={"value": "wile@acme.com"},
        )
        assert precheck_ref(values) == CompanyRef(
            "Acme Corp", domain="acme.com", email="wile@acme.com", country="DE"
        )

    @pytest.mark.parametrize(
        "changes",
        [
            {"company": {"value": "Acme Corp"}},
            {"website": {"value": "acme.com"}},
            {"company": {"value": "Acme Corp"}, "website": {"value": "not a website"}},
            {"company": {"value": "c" * 201}, "website": {"value": "acme.com"}},
        ],
        ids=["no website", "no company", "implausible website", "company too long"],
    )
    def test_nothing_to_check_until_both_are_filled(self, changes: dict[str, Any]) -> None:
        assert precheck_ref(self._values(**changes)) is None

    def test_an_unfinished_e_mail_or_unknown_country_is_left_out(self) -> None:
        values = self._values(
            company={"value": "Acme Corp"},
            website={"value": "acme.com"},
            country={"selected_option": {"value": "XX"}},
            contact_email={"value": "wile@"},
        )
        assert precheck_ref(values) == CompanyRef("Acme Corp", domain="acme.com")
