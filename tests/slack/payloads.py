"""Builders for requests shaped exactly like Slack's: interactivity, slash commands, events.

Shapes follow shared/slack/NOTES.md (1.3, 1.5, 1.7, 3.1). The Slack Connect rules that matter:
a click on a bot message carries the *host* team in `team` and the clicker's team in
`user.team_id`; a view submission carries the *submitter's* team in `team`/`view.team_id` and the
host in `view.app_installed_team_id`; an external Grid partner adds `enterprise`.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.slack_ids import SlackEnterpriseId, SlackTeamId, SlackUserId

HOST_TEAM = SlackTeamId("T0HOST")
HOST_DOMAIN = "vendor"
APP_ID = "A0DIBS"
BOT_USER_ID = SlackUserId("U0BOT")
BOT_ID = "B0BOT"
VERIFICATION_TOKEN = "legacy-verification-token"  # deprecated field Slack still sends

TEAM_DOMAINS = {
    HOST_TEAM: HOST_DOMAIN,
    "T0ACME": "acme-partners",
    "T0GLOBEX": "globex",
    "T0UNKNOWN": "unknown-co",
}
ENTERPRISE_NAMES = {"E0GLOBEX": "Globex Corporation"}

JsonDict = dict[str, Any]
StateValues = dict[str, dict[str, JsonDict]]


@dataclass(frozen=True, slots=True)
class Person:
    """A Slack identity: user ids are unique per workspace only, so the team travels along."""

    user_id: SlackUserId
    team_id: SlackTeamId
    enterprise_id: SlackEnterpriseId | None = None
    name: str = ""

    @property
    def username(self) -> str:
        """The handle Slack sends as `user.username`."""
        return self.name or self.user_id.lower()

    @property
    def is_internal(self) -> bool:
        """True for members of the vendor's (host) workspace."""
        return self.team_id == HOST_TEAM


APPROVER = Person(SlackUserId("U0APPROVER"), HOST_TEAM, name="ana.approver")
ADMIN = Person(SlackUserId("U0ADMIN"), HOST_TEAM, name="adam.admin")
INTERNAL_REP = Person(SlackUserId("U0REP"), HOST_TEAM, name="rita.rep")
PARTNER_REP = Person(SlackUserId("U0PARTNER"), SlackTeamId("T0ACME"), name="pat.partner")
OTHER_PARTNER_REP = Person(
    SlackUserId("U0GLOBEX"),
    SlackTeamId("T0GLOBEX"),
    enterprise_id=SlackEnterpriseId("E0GLOBEX"),
    name="gina.globex",
)
STRANGER = Person(SlackUserId("U0STRANGER"), SlackTeamId("T0UNKNOWN"), name="sam.stranger")
PEOPLE: tuple[Person, ...] = (
    APPROVER,
    ADMIN,
    INTERNAL_REP,
    PARTNER_REP,
    OTHER_PARTNER_REP,
    STRANGER,
)

_seq = itertools.count(1)


def _next() -> int:
    return next(_seq)


def new_ts() -> str:
    """A unique Slack-style ts ("1710000000.000100"), apart from the ones FakeSlack hands out."""
    micros = 100 * _next()
    return f"{1_710_000_000 + micros // 1_000_000}.{micros % 1_000_000:06d}"


def new_trigger_id() -> str:
    """A fresh trigger id in Slack's `<digits>.<digits>.<hex>` format."""
    n = _next()
    return f"{7_000_000_000_000 + n}.{1_000_000_000_000 + n}.{secrets.token_hex(16)}"


def new_event_id() -> str:
    """A fresh Events API `event_id` (`Ev…`)."""
    return f"Ev0{_next():08d}{secrets.token_hex(3).upper()}"


def default_response_url() -> str:
    """A real-looking response_url; point tests that `respond()` at `FakeSlack.hook_url` instead."""
    return f"https://hooks.slack.com/actions/{HOST_TEAM}/{_next():010d}/{secrets.token_hex(12)}"


def dm_channel_id(user_id: str) -> str:
    """The bot's DM channel id with a user (same rule as the fake Web API)."""
    return "D" + user_id[1:]


def _team(team_id: str, enterprise_id: str | None = None) -> JsonDict:
    team: JsonDict = {"id": team_id, "domain": TEAM_DOMAINS.get(team_id, team_id.lower())}
    if enterprise_id is not None:
        team["enterprise_id"] = enterprise_id
        team["enterprise_name"] = ENTERPRISE_NAMES.get(enterprise_id, enterprise_id)
    return team


def _user(person: Person) -> JsonDict:
    return {
        "id": person.user_id,
        "username": person.username,
        "name": person.username,
        "team_id": person.team_id,
    }


def _enterprise(person: Person) -> JsonDict | None:
    if person.enterprise_id is None:
        return None
    return {
        "id": person.enterprise_id,
        "name": ENTERPRISE_NAMES.get(person.enterprise_id, person.enterprise_id),
    }


# --- state.values entries -------------------------------------------------------------------


def text_value(value: str | None) -> JsonDict:
    """A plain_text_input entry (`value` is None when the field was left empty)."""
    return {"type": "plain_text_input", "value": value}


def email_value(value: str | None) -> JsonDict:
    """An email_text_input entry."""
    return {"type": "email_text_input", "value": value}


def url_value(value: str | None) -> JsonDict:
    """A url_text_input entry."""
    return {"type": "url_text_input", "value": value}


def number_value(value: str | None) -> JsonDict:
    """A number_input entry (Slack sends the number as a string)."""
    return {"type": "number_input", "value": value}


def date_value(selected_date: str | None) -> JsonDict:
    """A datepicker entry, `selected_date` as `YYYY-MM-DD`."""
    return {"type": "datepicker", "selected_date": selected_date}


def _option(value: str, text: str) -> JsonDict:
    return {"text": {"type": "plain_text", "text": text, "emoji": True}, "value": value}


def select_value(value: str | None, text: str = "") -> JsonDict:
    """A static_select entry; `value=None` means nothing selected."""
    option = None if value is None else _option(value, text or value)
    return {"type": "static_select", "selected_option": option}


def radio_value(value: str | None, text: str = "") -> JsonDict:
    """A radio_buttons entry; `value=None` means nothing chosen."""
    option = None if value is None else _option(value, text or value)
    return {"type": "radio_buttons", "selected_option": option}


def multi_select_value(options: Iterable[tuple[str, str]]) -> JsonDict:
    """A multi_static_select entry from `(value, text)` pairs."""
    return {
        "type": "multi_static_select",
        "selected_options": [_option(value, text) for value, text in options],
    }


def conversation_value(channel_id: str | None) -> JsonDict:
    """A conversations_select entry."""
    return {"type": "conversations_select", "selected_conversation": channel_id}


def values(entries: Mapping[str, JsonDict] | None = None, /, **more: JsonDict) -> StateValues:
    """`view.state.values` from `{block_id: entry}`; our action_id equals the block_id."""
    merged = {**(entries or {}), **more}
    return {str(block_id): {str(block_id): entry} for block_id, entry in merged.items()}


# --- interactivity --------------------------------------------------------------------------


def _default_message(ts: str, *, action_id: str, value: str, block_id: str) -> JsonDict:
    button = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": action_id, "emoji": True},
        "value": value,
    }
    return {
        "type": "message",
        "subtype": "bot_message",
        "text": "",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": HOST_TEAM,
        "ts": ts,
        "blocks": [{"type": "actions", "block_id": block_id, "elements": [button]}],
    }


def _view_defaults(view: Mapping[str, Any], team_id: str) -> JsonDict:
    """Fill the server-side fields Slack adds to every view it sends back."""
    full: JsonDict = {
        "id": f"V0{_next():08d}",
        "team_id": team_id,
        "type": "modal",
        "blocks": [],
        "private_metadata": "",
        "callback_id": "",
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "title": {"type": "plain_text", "text": "Dibs", "emoji": True},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": None,
        "previous_view_id": None,
        "app_id": APP_ID,
        "external_id": "",
        "app_installed_team_id": HOST_TEAM,
        "bot_id": BOT_ID,
    }
    full.update(view)
    full.setdefault("root_view_id", full["id"])
    return full


def block_actions(
    person: Person,
    *,
    action_id: str,
    value: str,
    block_id: str | None = None,
    channel_id: str | None = None,
    message_ts: str | None = None,
    message: Mapping[str, Any] | None = None,
    view: Mapping[str, Any] | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
) -> JsonDict:
    """A button click on a bot message in `channel_id`, or inside `view` when one is given."""
    block_id = block_id or action_id
    action_ts = f"{time.time():.6f}"
    action = {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": action_id, "emoji": True},
        "value": value,
        "action_ts": action_ts,
    }
    payload: JsonDict = {
        "type": "block_actions",
        "user": _user(person),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "enterprise": _enterprise(person),
        "is_enterprise_install": False,
        "actions": [action],
    }
    if view is not None:
        full_view = _view_defaults(view, person.team_id)
        payload["team"] = _team(person.team_id, person.enterprise_id)
        payload["container"] = {"type": "view", "view_id": full_view["id"]}
        payload["view"] = full_view
        payload["state"] = full_view["state"]
        if response_url is not None:
            payload["response_url"] = response_url
        return payload
    if channel_id is None:
        raise ValueError("a click on a message needs channel_id (or pass view= for a modal)")
    if message is not None:
        msg = dict(message)
        message_ts = message_ts or str(msg["ts"])
        msg.setdefault("ts", message_ts)
    else:
        message_ts = message_ts or new_ts()
        msg = _default_message(message_ts, action_id=action_id, value=value, block_id=block_id)
    container: JsonDict = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    if "thread_ts" in msg:
        container["thread_ts"] = msg["thread_ts"]
    payload.update(
        team=_team(HOST_TEAM),
        container=container,
        channel={"id": channel_id, "name": f"dibs-{channel_id.lower()}"},
        message=msg,
        state={"values": {}},
        response_url=response_url or default_response_url(),
    )
    return payload


def input_entered(
    person: Person, *, view: Mapping[str, Any], action_id: str, value: str | None
) -> JsonDict:
    """Enter pressed in a modal's plain_text_input whose input block has `dispatch_action`:
    a `block_actions` whose action carries the typed value (the view carries its state)."""
    payload = block_actions(person, action_id=action_id, value="", view=view)
    payload["actions"] = [
        {
            "type": "plain_text_input",
            "block_id": action_id,
            "action_id": action_id,
            "value": value,
            "action_ts": f"{time.time():.6f}",
        }
    ]
    return payload


def _blocks_for(state: StateValues) -> list[JsonDict]:
    """Input blocks matching the submitted state, so the view looks like the one submitted."""
    blocks = []
    for block_id, by_action in state.items():
        for action_id, entry in by_action.items():
            blocks.append(
                {
                    "type": "input",
                    "block_id": block_id,
                    "label": {"type": "plain_text", "text": block_id, "emoji": True},
                    "optional": False,
                    "dispatch_action": False,
                    "element": {"type": entry["type"], "action_id": action_id},
                }
            )
    return blocks


def view_submission(
    person: Person,
    *,
    callback_id: str,
    values: StateValues,
    private_metadata: str = "",
    view_id: str | None = None,
    view_hash: str | None = None,
    blocks: list[JsonDict] | None = None,
) -> JsonDict:
    """A modal submission: `team` is the submitter's, `view.app_installed_team_id` the host."""
    overrides: JsonDict = {
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "state": {"values": values},
        "blocks": blocks if blocks is not None else _blocks_for(values),
        "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
    }
    if view_id is not None:
        overrides["id"] = view_id
    if view_hash is not None:
        overrides["hash"] = view_hash
    return {
        "type": "view_submission",
        "team": _team(person.team_id, person.enterprise_id),
        "user": _user(person),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": new_trigger_id(),
        "view": _view_defaults(overrides, person.team_id),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": _enterprise(person),
    }


def shortcut(person: Person, *, callback_id: str) -> JsonDict:
    """A global shortcut (no channel, no response_url)."""
    return {
        "type": "shortcut",
        "token": VERIFICATION_TOKEN,
        "action_ts": f"{time.time():.6f}",
        "team": _team(HOST_TEAM),
        "user": _user(person),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": new_trigger_id(),
    }


def slash_command(
    person: Person,
    *,
    text: str,
    channel_id: str,
    command: str = "/dibs",
    response_url: str | None = None,
) -> dict[str, str]:
    """The form fields of a slash command (only host-workspace members can run one)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": HOST_TEAM,
        "team_domain": HOST_DOMAIN,
        "channel_id": channel_id,
        "channel_name": f"dibs-{channel_id.lower()}",
        "user_id": person.user_id,
        "user_name": person.username,
        "command": str(command),
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url
        or f"https://hooks.slack.com/commands/{HOST_TEAM}/{_next():010d}/{secrets.token_hex(12)}",
        "trigger_id": new_trigger_id(),
    }


def interaction_form(payload: Mapping[str, Any]) -> dict[str, str]:
    """The form fields Slack posts for an interaction: one `payload` holding the JSON."""
    return {"payload": json.dumps(payload)}


# --- Events API -----------------------------------------------------------------------------


def event_callback(event: Mapping[str, Any], *, event_id: str | None = None) -> JsonDict:
    """An Events API envelope for our single host installation."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": HOST_TEAM,
        "context_team_id": HOST_TEAM,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": HOST_TEAM,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_hex(24)}",
    }


def app_home_opened(
    person: Person, *, tab: str = "home", view: Mapping[str, Any] | None = None
) -> JsonDict:
    """The `app_home_opened` event (wrap it with `event_callback`)."""
    event: JsonDict = {
        "type": "app_home_opened",
        "user": person.user_id,
        "channel": dm_channel_id(person.user_id),
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = dict(view)
    return event


def channel_shared(channel_id: str, team_id: str) -> JsonDict:
    """The `channel_shared` event: another organisation (a `T…` or `E…` id) joined the channel."""
    return {
        "type": "channel_shared",
        "connected_team_id": team_id,
        "channel": channel_id,
        "event_ts": f"{time.time():.6f}",
    }


def channel_unshared(channel_id: str, team_id: str, *, still_ext_shared: bool = False) -> JsonDict:
    """The `channel_unshared` event: an organisation left; `is_ext_shared` says whether the
    channel is still shared with another one."""
    return {
        "type": "channel_unshared",
        "previously_connected_team_id": team_id,
        "channel": channel_id,
        "is_ext_shared": still_ext_shared,
        "event_ts": f"{time.time():.6f}",
    }


def url_verification(challenge: str = "harness-challenge") -> JsonDict:
    """The request Slack sends when the Events request URL is saved."""
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
