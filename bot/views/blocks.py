"""Block Kit pieces every view builds from: sections, context lines, headers, buttons and the
plain message modal, each held to Slack's text limits."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block as SlackBlock
from slack_sdk.models.blocks import (
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.ids import Action, Callback
from bot.views.common import truncate
from domain.registration import Registration

SECTION_LIMIT = 3000
"""Characters of a section's (or a context element's) text that Slack takes."""


def section(text: str) -> SectionBlock:
    """A mrkdwn section, cut to Slack's limit."""
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)))


def context(text: str) -> ContextBlock:
    """A small grey mrkdwn line, cut to Slack's limit."""
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, SECTION_LIMIT))])


def fields(pairs: Sequence[tuple[str, str]]) -> SectionBlock:
    """A section of mrkdwn fields, each a bold name over its value."""
    return SectionBlock(fields=[MarkdownTextObject(text=f"*{k}*\n{v}") for k, v in pairs])


def header(text: str) -> HeaderBlock:
    """A header (plain text), cut to Slack's 150 characters."""
    return HeaderBlock(text=truncate(text, 150))


def registration_header(registration: Registration) -> HeaderBlock:
    """`NW-0007 · Acme Corp`, the header of every card about a registration."""
    return header(f"{registration.reference} · {registration.details.company}")


def button(
    text: str,
    action: Action,
    value: str,
    style: str | None = None,
    *,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    """A button for `action` carrying `value`."""
    return ButtonElement(text=text, action_id=action, value=value, style=style, confirm=confirm)


def build_message_modal(
    title: str, text: str, *, callback_id: str | None = Callback.notice
) -> View:
    """A modal that only tells something, with a Close button; `text` is mrkdwn the caller
    has escaped."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=truncate(title, 24),
        close="Close",
        blocks=[section(text)],
    )


def form_modal(
    callback_id: Callback, metadata: str, *, title: str, submit: str, blocks: list[SlackBlock]
) -> View:
    """A modal form submitted to `callback_id`, carrying `metadata`, with a Cancel button."""
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=metadata,
        title=title,
        submit=submit,
        close="Cancel",
        blocks=blocks,
    )
