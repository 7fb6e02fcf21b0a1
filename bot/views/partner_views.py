"""Partner-side views: the list of a partner's own registrations, and the channel setup form."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block as SlackBlock,
)
from slack_sdk.models.blocks import DividerBlock, InputBlock, SectionBlock
from slack_sdk.models.views import View

from bot.ids import Block, Callback
from bot.views.blocks import context, form_modal, section
from bot.views.common import escape_fit, plain_date
from bot.views.forms import keep_under, text_input, text_of
from domain.amounts import format_amount
from domain.errors import InvalidInput
from domain.partner import CODE_RULE, Partner, check_code
from domain.policy import ProgramPolicy
from domain.registration import Registration

MAX_ROWS = 40
MAX_NAME = 100
MAX_TIER = 50
MAX_CODE = 6


def _row(registration: Registration) -> SectionBlock:
    d = registration.details
    text = (
        f"*{registration.reference}* · {escape_fit(d.company, 1000)}\n"
        f"{format_amount(d.amount, d.currency)} · {registration.status.label} · "
        f"closes {plain_date(d.close_date)}"
    )
    return section(text)


def build_my_registrations_modal(
    partner: Partner, registrations: Sequence[Registration], *, program: ProgramPolicy
) -> View:
    """A partner's own registrations (never anyone else's), newest first as given."""
    name = escape_fit(partner.name, 1000)
    blocks: list[SlackBlock] = [section(f"Registrations by *{name}*"), DividerBlock()]
    if not registrations:
        blocks.append(
            section("No registrations yet. Use *Register a deal* in your channel to add one.")
        )
    blocks.extend(_row(registration) for registration in registrations[:MAX_ROWS])
    if len(registrations) > MAX_ROWS:
        more = len(registrations) - MAX_ROWS
        blocks.append(context(f"…and {more} more, not shown."))
    return View(
        type="modal",
        callback_id=Callback.my_registrations,
        title="My registrations",
        close="Close",
        blocks=blocks,
    )


def build_setup_modal(channel_id: str, *, existing: Partner | None) -> View:
    """Link this shared channel to a partner organisation (or rename / re-tier it)."""

    def labelled(
        block: Block, label: str, initial: str | None, limit: int, **extra: Any
    ) -> InputBlock:
        element = text_input(block, limit, initial=initial)
        return InputBlock(block_id=block, label=label, element=element, **extra)

    code_hint = f"{CODE_RULE}; its references read NW-0001, NW-0002, … Empty: " + (
        "made from the name."
        if existing is None
        else "keep it. A new code numbers future registrations; given references stay."
    )

    intro = (
        "Link this channel to a partner. Dibs posts a *Register a deal* button here "
        "that the partner's people can use."
    )
    return form_modal(
        Callback.setup_submit,
        json.dumps({"channel_id": channel_id}),
        title="Set up partner" if existing is None else "Update partner",
        submit="Save",
        blocks=[
            section(intro),
            labelled(
                Block.setup_name, "Partner name", existing.name if existing else None, MAX_NAME
            ),
            labelled(Block.setup_tier, "Tier", existing.tier if existing else None, MAX_TIER),
            labelled(
                Block.setup_code,
                "Code",
                existing.code if existing else None,
                MAX_CODE,
                optional=True,
                hint=code_hint,
            ),
        ],
    )


@dataclass(frozen=True, slots=True)
class SetupForm:
    """The setup modal, validated: `code` is None when left empty."""

    name: str
    tier: str
    code: str | None = None


def parse_setup_submission(values: Mapping[str, Any]) -> SetupForm | dict[str, str]:
    """The partner's name, tier and code, or errors keyed by input block id. Whether
    another partner holds the code is for the service to say."""

    name = text_of(values, Block.setup_name)
    tier = text_of(values, Block.setup_tier)
    code = text_of(values, Block.setup_code)
    errors: dict[str, str] = {}
    if not name:
        errors[Block.setup_name] = "Give the partner a name."
    elif len(name) > MAX_NAME:
        errors[Block.setup_name] = keep_under("the name", MAX_NAME)
    if not tier:
        errors[Block.setup_tier] = "Give the partner a tier, such as Gold."
    elif len(tier) > MAX_TIER:
        errors[Block.setup_tier] = keep_under("the tier", MAX_TIER)
    checked: str | None = None
    if code:
        try:
            checked = check_code(code)
        except InvalidInput as error:
            errors[Block.setup_code] = error.message
    return errors or SetupForm(name, tier, checked)
