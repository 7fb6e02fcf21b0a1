"""Slack's HTTP requests into Bolt, with the form body decoded at C speed.

Slack posts interactions as `payload=<JSON, percent-encoded>`: a modal submission is
several kilobytes with a `%XX` escape for every quote, brace and colon. The standard
library decodes those one by one in a Python loop, which cost more per request than our
SQL. Here each escape becomes a `\\xXX` for `codecs.escape_decode`, which runs in C, and
anything it cannot read (a stray `%`) goes the standard library's way. Everything else,
signature checks included, is Bolt's own.
"""

from __future__ import annotations

import codecs
import json
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body

FORM = "application/x-www-form-urlencoded"


def parse_form(body: str) -> dict[str, str]:
    """`dict(parse_qsl(body, keep_blank_values=True))`, decoded in C."""
    try:
        fields: dict[str, str] = {}
        for pair in body.split("&"):
            if pair:
                name, _, value = pair.partition("=")
                fields[_unquote_plus(name)] = _unquote_plus(value)
        return fields
    except ValueError:  # a `%` not followed by two hex digits: the slow, lenient way
        return dict(parse_qsl(body, keep_blank_values=True))


def _unquote_plus(text: str) -> str:
    if "%" not in text and "\\" not in text:
        return text.replace("+", " ")
    escaped = text.replace("\\", "\\\\").replace("+", " ").replace("%", "\\x")
    decoded = codecs.escape_decode(escaped.encode())[0]
    return decoded.decode("utf-8", "replace")


def parse_slack_body(body: str, content_type: str | None) -> dict[str, Any]:
    """What Bolt's `parse_body` returns for the same body."""
    if content_type != FORM or body.startswith("{"):
        return parse_body(body, content_type)
    fields = parse_form(body)
    if "payload" in fields:
        payload: dict[str, Any] = json.loads(fields["payload"])
        return payload
    return dict(fields)


class SlackRequest(AsyncBoltRequest):
    """An HTTP-mode Bolt request whose body is parsed by `parse_slack_body`."""

    def __init__(self, *, body: str, query: str, headers: Any) -> None:
        super().__init__(body="", query=query, headers=headers)
        self.raw_body = body  # what the signature check reads
        self.body = parse_slack_body(body, self.content_type)
        self.context = build_async_context(AsyncBoltContext(), self.body)


def events_app(bolt: AsyncApp, path: str) -> web.Application:
    """An aiohttp app answering Slack at `POST path`, as `bolt.web_app(path)` would."""

    async def handle(request: web.Request) -> web.StreamResponse:
        bolt_request = SlackRequest(
            body=await request.text(), query=request.query_string, headers=request.headers
        )
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    web_app = web.Application()
    web_app.router.add_post(path, handle)
    return web_app
