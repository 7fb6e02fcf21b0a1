"""Every Slack id Dibs uses: one StrEnum per surface. An input's action_id equals its block_id."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    dibs = "/dibs"


class Callback(StrEnum):
    """View callback ids and shortcut callback ids."""

    registration_submit = "registration-submit"
    reject_submit = "review-reject-submit"
    request_info_submit = "review-request-info-submit"
    setup_submit = "setup-submit"
    my_registrations = "registration-mine"
    notice = "notice"
    register_shortcut = "registration-shortcut"
    resolve_submit = "conflict-resolve-submit"
    working_submit = "conflict-working-submit"


class Action(StrEnum):
    """Button action ids."""

    launcher_register = "launcher-register"
    launcher_mine = "launcher-mine"
    card_withdraw = "card-withdraw"
    card_provide_info = "card-provide-info"
    review_approve = "review-approve"
    review_reject = "review-reject"
    review_request_info = "review-request-info"
    resolve_award_partner = "conflict-award-partner"
    resolve_award_existing = "conflict-award-existing"
    resolve_co_sell = "conflict-co-sell"
    resolve_duplicate = "conflict-duplicate"
    resolve_reject_both = "conflict-reject-both"
    resolve_request_info = "conflict-request-info"
    conflict_working = "conflict-working"


class Block(StrEnum):
    """Input block ids (also their element's action_id): the keys of `response_action: errors`."""

    partner = "registration-partner"
    company = "registration-company"
    website = "registration-website"
    country = "registration-country"
    amount = "registration-amount"
    close_date = "registration-close-date"
    products = "registration-products"
    contact_name = "registration-contact-name"
    contact_email = "registration-contact-email"
    stage = "registration-stage"
    notes = "registration-notes"
    precheck = "registration-precheck"  # the pre-check line (a context block, not an input)
    reject_reason = "review-reject-reason"
    reject_note = "review-reject-note"
    info_question = "review-info-question"
    setup_name = "setup-partner-name"
    setup_tier = "setup-partner-tier"
    resolve_choice = "conflict-resolve-choice"
    setup_code = "setup-partner-code"
    resolve_reason = "conflict-resolve-reason"
    working_note = "conflict-working-note"
    working_link = "conflict-working-link"
