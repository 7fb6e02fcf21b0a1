"""Send requests to the app under test exactly as Slack does: same bodies, same v0 signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import aiohttp
from multidict import CIMultiDictProxy

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def sign(body: str | bytes, timestamp: str, secret: str) -> str:
    """Slack's v0 signature: HMAC-SHA256 of `v0:<timestamp>:<raw body>` keyed by the secret."""
    raw = body.encode() if isinstance(body, str) else body
    message = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Reply:
    """What the app answered: status, body text, headers and how long it took."""

    status: int
    text: str
    headers: CIMultiDictProxy[str]
    elapsed: float

    def json(self) -> Any:
        """The body parsed as JSON; None for the empty body of a plain `ack()`."""
        return json.loads(self.text) if self.text else None


class SlackClient:
    """Signed HTTP requests to the Bolt endpoint (e.g. `http://127.0.0.1:PORT/slack/events`)."""

    def __init__(
        self,
        url: str,
        signing_secret: str,
        *,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self._session = session
        self._owns_session = session is None
        self._clock = clock

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session used (created on first use when none was given)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def now(self) -> str:
        """The current unix time as Slack puts it in `X-Slack-Request-Timestamp`."""
        return str(int(self._clock()))

    async def send_interaction(
        self, payload: Mapping[str, Any], *, timestamp: str | None = None
    ) -> Reply:
        """An interactivity payload: form body with one field, `payload=<json>`."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.send_raw(body, FORM, timestamp=timestamp)

    async def send_command(
        self, fields: Mapping[str, str], *, timestamp: str | None = None
    ) -> Reply:
        """A slash command: its fields form-encoded."""
        return await self.send_raw(urlencode(fields).encode(), FORM, timestamp=timestamp)

    async def send_event(
        self,
        envelope: Mapping[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: str | None = None,
    ) -> Reply:
        """An Events API envelope as JSON; with `retry_num`, as Slack's redelivery of it."""
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(envelope).encode()
        return await self.send_raw(body, JSON, timestamp=timestamp, headers=headers)

    async def send_raw(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Any body; pass `timestamp`/`signature` to forge a stale or bad request."""
        timestamp = timestamp if timestamp is not None else self.now()
        if signature is None:
            signature = sign(body, timestamp, self.signing_secret)
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        started = time.perf_counter()
        async with self.session.post(self.url, data=body, headers=all_headers) as response:
            text = await response.text()
        elapsed = time.perf_counter() - started
        return Reply(response.status, text, response.headers, elapsed)
