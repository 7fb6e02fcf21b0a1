"""Direct owners of CRM accounts and opportunities as Slack users, so the desk can mention them.

A CRM export names an owner by Slack id (rare) or by e-mail (usual). An e-mail becomes a
Slack user through `users.lookupByEmail` (scope `users:read.email`), remembered in this
process: found users for `FOUND_TTL`, addresses Slack does not know for `NOT_FOUND_TTL` (an
owner may join the workspace later). A failed call (rate limit, Slack down) is not
remembered: the next caller asks again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

FOUND_TTL = 6 * 3600.0
NOT_FOUND_TTL = 15 * 60.0
MAX_REMEMBERED = 10_000
NOT_FOUND_ERRORS = frozenset({"users_not_found", "user_not_found"})


@dataclass(frozen=True, slots=True)
class _Answer:
    user_id: str | None
    expires: float


class OwnerResolver:
    """Turns a CRM owner (Slack id and/or e-mail) into a Slack user id, with a cache.

    Build one per process with the bot's `AsyncWebClient` and share it: the cache is what
    keeps a busy desk from asking Slack about the same owner on every conflict.
    `clock` is monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        found_ttl: float = FOUND_TTL,
        not_found_ttl: float = NOT_FOUND_TTL,
        max_remembered: int = MAX_REMEMBERED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._found_ttl = found_ttl
        self._not_found_ttl = not_found_ttl
        self._max = max_remembered
        self._clock = clock
        self._answers: OrderedDict[str, _Answer] = OrderedDict()
        self._asking: dict[str, asyncio.Future[str | None]] = {}

    async def resolve_owner(self, slack_id: str | None, email: str | None) -> str | None:
        """The owner's Slack user id, or None when Slack cannot tell who it is.

        `slack_id` (a `U…`/`W…` id from the CRM) wins and costs no call. Otherwise `email`
        is looked up with `users.lookupByEmail`; deleted users and bots count as not found.
        Concurrent calls for one address share a single request. Never raises for Slack
        errors: a failed lookup is logged and answers None (not cached).
        """
        if slack_id:
            return slack_id
        address = (email or "").strip().casefold()
        if not address:
            return None
        remembered = self._remembered(address)
        if remembered is not None:
            return remembered.user_id
        asking = self._asking.get(address)
        if asking is not None:
            return await asyncio.shield(asking)
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._asking[address] = future
        user_id: str | None = None
        try:
            user_id = await self._lookup(address)
            return user_id
        finally:
            del self._asking[address]
            future.set_result(user_id)  # None for those waiting if this call was cancelled

    def forget(self) -> None:
        """Drop every remembered answer (e.g. after the CRM owners changed)."""
        self._answers.clear()

    async def _lookup(self, address: str) -> str | None:
        """Ask Slack; remember a user or a definite "no such user", not a failure."""
        try:
            response = await self._client.users_lookupByEmail(email=address)
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if code not in NOT_FOUND_ERRORS:
                logger.warning("users.lookupByEmail failed for a CRM owner: %s", code)
                return None
            self._remember(address, None)
            return None
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as error:
            logger.warning("users.lookupByEmail failed for a CRM owner: %r", error)
            return None
        user = response.get("user") or {}
        found = user.get("id") if not (user.get("deleted") or user.get("is_bot")) else None
        user_id = str(found) if found else None
        self._remember(address, user_id)
        return user_id

    def _remembered(self, address: str) -> _Answer | None:
        answer = self._answers.get(address)
        if answer is None:
            return None
        if answer.expires <= self._clock():
            del self._answers[address]
            return None
        self._answers.move_to_end(address)
        return answer

    def _remember(self, address: str, user_id: str | None) -> None:
        ttl = self._found_ttl if user_id else self._not_found_ttl
        self._answers[address] = _Answer(user_id, self._clock() + ttl)
        self._answers.move_to_end(address)
        while len(self._answers) > self._max:
            self._answers.popitem(last=False)
