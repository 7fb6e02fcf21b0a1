"""Shared pieces of every view: typed metadata, messages, mrkdwn escaping, truncation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from slack_sdk.models.blocks import Block


class RegistrationRef(BaseModel):
    """What a button or modal carries about a registration: its id and the version seen."""

    model_config = ConfigDict(frozen=True)

    id: int
    version: int


class FormContext(BaseModel):
    """The registration modal's private_metadata: where it was opened and for what."""

    model_config = ConfigDict(frozen=True)

    channel_id: str | None = None
    partner_id: int | None = None
    registration_id: int | None = None  # set when answering an info request
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A chat message: fallback text plus blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def block_dicts(self) -> list[dict[str, Any]]:
        return [block.to_dict() for block in self.blocks]


def escape(text: str) -> str:
    """Escape user text for mrkdwn so `<!channel>` or `<http://x|y>` stays literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def slack_date(moment: datetime, fmt: str = "{date_short}") -> str:
    """A date Slack renders in each reader's own time zone, with a plain fallback."""
    fallback = moment.strftime("%Y-%m-%d")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"
