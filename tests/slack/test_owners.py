"""CRM owners resolved to Slack users by id or e-mail, against the recording fake Web API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.owners import OwnerResolver
from tests.slack.fake_slack import FakeSlack

TOKEN = "xoxb-test-token"


class Clock:
    """Monotonic seconds that tests move forward."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        slack.add_user("U0DANA", email="dana@vendor.example")
        yield slack


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def resolver(fake: FakeSlack, clock: Clock) -> OwnerResolver:
    client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
    return OwnerResolver(client, found_ttl=600, not_found_ttl=60, clock=clock)


class TestResolveOwner:
    async def test_a_slack_id_from_the_crm_needs_no_call(
        self, resolver: OwnerResolver, fake: FakeSlack
    ) -> None:
        assert await resolver.resolve_owner("U0OWNER", "dana@vendor.example") == "U0OWNER"
        assert fake.calls == []

    async def test_finds_the_user_by_e_mail(self, resolver: OwnerResolver, fake: FakeSlack) -> None:
        assert await resolver.resolve_owner(None, " Dana@Vendor.example ") == "U0DANA"
        [call] = fake.calls_to("users.lookupByEmail")
        assert call.params["email"] == "dana@vendor.example"

    async def test_remembers_a_found_user(self, resolver: OwnerResolver, fake: FakeSlack) -> None:
        await resolver.resolve_owner(None, "dana@vendor.example")
        assert await resolver.resolve_owner(None, "DANA@vendor.example") == "U0DANA"
        assert len(fake.calls_to("users.lookupByEmail")) == 1

    async def test_asks_again_once_a_found_user_is_stale(
        self, resolver: OwnerResolver, fake: FakeSlack, clock: Clock
    ) -> None:
        await resolver.resolve_owner(None, "dana@vendor.example")
        clock.now += 601
        await resolver.resolve_owner(None, "dana@vendor.example")
        assert len(fake.calls_to("users.lookupByEmail")) == 2

    async def test_remembers_an_unknown_address_for_a_shorter_time(
        self, resolver: OwnerResolver, fake: FakeSlack, clock: Clock
    ) -> None:
        assert await resolver.resolve_owner(None, "lee@vendor.example") is None
        assert await resolver.resolve_owner(None, "lee@vendor.example") is None
        assert len(fake.calls_to("users.lookupByEmail")) == 1
        fake.add_user("U0LEE", email="lee@vendor.example")
        clock.now += 61
        assert await resolver.resolve_owner(None, "lee@vendor.example") == "U0LEE"

    async def test_a_deleted_user_is_nobody(self, resolver: OwnerResolver, fake: FakeSlack) -> None:
        fake.add_user("U0GONE", email="gone@vendor.example")["deleted"] = True
        assert await resolver.resolve_owner(None, "gone@vendor.example") is None

    async def test_a_failed_lookup_answers_none_and_is_not_remembered(
        self, resolver: OwnerResolver, fake: FakeSlack
    ) -> None:
        fake.fail("users.lookupByEmail", error="internal_error")
        assert await resolver.resolve_owner(None, "dana@vendor.example") is None
        assert await resolver.resolve_owner(None, "dana@vendor.example") == "U0DANA"

    async def test_no_owner_at_all_is_none(self, resolver: OwnerResolver, fake: FakeSlack) -> None:
        assert await resolver.resolve_owner(None, None) is None
        assert await resolver.resolve_owner("", "  ") is None
        assert fake.calls == []

    async def test_concurrent_questions_about_one_owner_share_a_call(
        self, resolver: OwnerResolver, fake: FakeSlack
    ) -> None:
        answers = await asyncio.gather(
            *(resolver.resolve_owner(None, "dana@vendor.example") for _ in range(5))
        )
        assert answers == ["U0DANA"] * 5
        assert len(fake.calls_to("users.lookupByEmail")) == 1

    async def test_forgets_the_oldest_answers_beyond_its_limit(
        self, fake: FakeSlack, clock: Clock
    ) -> None:
        client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
        resolver = OwnerResolver(client, max_remembered=2, clock=clock)
        for address in ("dana@vendor.example", "a@vendor.example", "b@vendor.example"):
            await resolver.resolve_owner(None, address)
        await resolver.resolve_owner(None, "dana@vendor.example")
        assert len(fake.calls_to("users.lookupByEmail")) == 4
