"""Conflict checks on request: who has a claim (staff only), and the form's pre-check, in which
a partner hears of its own registrations only (and of others' claims only when the policy
says so). Moved here from the database tests, where one pre-check still runs on storage."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from domain.checks import PrecheckResult
from domain.conflicts import ClaimKind
from domain.crm import Account
from domain.errors import InvalidInput, NotAllowed
from domain.matching import CompanyRef
from domain.partner import Partner
from domain.policy import PrivacyPolicy
from domain.registration import Registration
from domain.services import SubmitRegistration
from tests.builders import NOW, a_rep, an_approver, calling, services
from tests.services.conftest import HOUR, World, deal, rep_of

OWN_ONLY = PrivacyPolicy()
SEE_OVERLAPS = PrivacyPolicy(partners_see_overlaps=True)
GLOBEX = CompanyRef("Globex Corporation", domain="www.globex.example")
GLOBEX_COM = CompanyRef("Globex Corporation", domain="www.globex.com")  # the direct account's
VANDELAY = CompanyRef("Vandelay", domain="vandelay.example")
GLOBEX_INTL = Account("0011", "Globex Intl", domain="globex.com")


async def check(
    world: World,
    ref: CompanyRef,
    partner: Partner | None,
    *,
    privacy: PrivacyPolicy = OWN_ONLY,
    staff: bool = False,
    exclude: int | None = None,
) -> PrecheckResult:
    """The pre-check a day after the start, for `partner` (by its rep, or by staff)."""
    checks = services(world.storage.uow, at=NOW + timedelta(days=1), privacy=privacy).checks
    asking = calling(an_approver() if staff else a_rep())
    return await checks.precheck(
        ref, asking, partner_id=partner.id if partner else None, exclude_registration_id=exclude
    )


async def register(world: World, partner: Partner, hour: int = 0) -> Registration:
    """`partner` registers Globex Corporation `hour` hours after the start."""
    world.clock.now = NOW + hour * HOUR
    outcome = await world.app.registrations.submit(
        SubmitRegistration(deal("Globex Corporation")), rep_of(partner)
    )
    return outcome.registration


class TestCompanyCheck:
    async def test_names_the_partner_of_each_registration_found_and_none_for_direct_claims(
        self, world: World
    ) -> None:
        await world.crm(GLOBEX_INTL)
        [partner] = await world.partners(1)
        await register(world, partner)

        found = await world.app.checks.company(GLOBEX_COM, calling(an_approver()))

        by_kind = {f.claim.kind: f for f in found.findings}
        assert found.partner_of(by_kind[ClaimKind.registration]) == partner
        assert found.partner_of(by_kind[ClaimKind.account]) is None

    async def test_the_clis_operator_may_check_too(self, world: World) -> None:
        await world.crm(GLOBEX_INTL)

        found = await world.app.checks.company(GLOBEX_COM)

        assert [f.claim.external_id for f in found.findings] == ["0011"]

    async def test_partners_may_not_learn_who_has_a_claim(self, world: World) -> None:
        with pytest.raises(NotAllowed, match="Only the vendor's own team"):
            await world.app.checks.company(GLOBEX_COM, calling(a_rep()))

    async def test_an_unknown_company_has_no_findings(self, world: World) -> None:
        assert (await world.app.checks.company(CompanyRef("Hooli"))).findings == ()

    async def test_refuses_a_blank_company(self, world: World) -> None:
        with pytest.raises(InvalidInput):
            await world.app.checks.company(CompanyRef("  "))


async def test_the_result_holds_nothing_of_anyone_else(world: World) -> None:
    assert [f.name for f in dataclasses.fields(PrecheckResult)] == [
        "checked",
        "partner",
        "own",
        "others_may_overlap",
        "staff",
    ]
    acme, globex = await world.partners(2)
    await register(world, globex)

    result = await check(world, GLOBEX, acme, privacy=SEE_OVERLAPS)

    assert result == PrecheckResult(GLOBEX, acme, (), others_may_overlap=True)


class TestByDefault:
    async def test_another_partners_claim_reads_like_no_claim(self, world: World) -> None:
        acme, globex = await world.partners(2)
        await register(world, globex)

        claimed = await check(world, GLOBEX, acme)
        free = await check(world, VANDELAY, acme)

        assert claimed == PrecheckResult(GLOBEX, acme)
        assert free == PrecheckResult(VANDELAY, acme)

    async def test_a_direct_account_reads_like_no_claim(self, world: World) -> None:
        [acme] = await world.partners(1)
        await world.crm(GLOBEX_INTL)

        assert await check(world, GLOBEX_COM, acme) == PrecheckResult(GLOBEX_COM, acme)

    async def test_the_partners_own_registration_is_listed(self, world: World) -> None:
        acme, globex = await world.partners(2)
        mine = await register(world, acme)
        await register(world, globex, hour=1)

        result = await check(world, GLOBEX, acme)

        assert [r.id for r in result.own] == [mine.id]
        assert result.own[0].partner_id == acme.id
        assert result.others_may_overlap is None

    async def test_several_are_listed_newest_first(self, world: World) -> None:
        [acme] = await world.partners(1)
        made = [await register(world, acme, hour=hour) for hour in (0, 2, 1)]

        result = await check(world, GLOBEX, acme)

        assert [r.id for r in result.own] == [made[1].id, made[2].id, made[0].id]

    async def test_a_withdrawn_registration_is_no_longer_listed(self, world: World) -> None:
        [acme] = await world.partners(1)
        mine = await register(world, acme)
        assert mine.id is not None
        await world.app.registrations.withdraw(mine.id, rep_of(acme))

        assert (await check(world, GLOBEX, acme)).own == ()

    async def test_the_registration_being_answered_is_not_listed(self, world: World) -> None:
        [acme] = await world.partners(1)
        earlier = await register(world, acme)
        answered = await register(world, acme, hour=1)

        result = await check(world, GLOBEX, acme, exclude=answered.id)

        assert [r.id for r in result.own] == [earlier.id]


class TestWhenPartnersSeeOverlaps:
    async def test_another_partners_claim_may_overlap(self, world: World) -> None:
        acme, globex = await world.partners(2)
        await register(world, globex)

        result = await check(world, GLOBEX, acme, privacy=SEE_OVERLAPS)

        assert result.others_may_overlap is True
        assert result.own == ()

    async def test_a_direct_account_may_overlap(self, world: World) -> None:
        [acme] = await world.partners(1)
        await world.crm(GLOBEX_INTL)

        assert (await check(world, GLOBEX_COM, acme, privacy=SEE_OVERLAPS)).others_may_overlap

    async def test_its_own_registration_is_not_another_claim(self, world: World) -> None:
        [acme] = await world.partners(1)
        mine = await register(world, acme)

        result = await check(world, GLOBEX, acme, privacy=SEE_OVERLAPS)

        assert [r.id for r in result.own] == [mine.id]
        assert result.others_may_overlap is False

    async def test_a_new_customer_has_no_claim(self, world: World) -> None:
        acme, globex = await world.partners(2)
        await register(world, globex)

        result = await check(world, VANDELAY, acme, privacy=SEE_OVERLAPS)

        assert result == PrecheckResult(VANDELAY, acme, (), others_may_overlap=False)


class TestForStaff:
    async def test_staff_always_learn_whether_a_claim_may_overlap(self, world: World) -> None:
        [globex] = await world.partners(1)
        await register(world, globex)

        result = await check(world, GLOBEX, None, staff=True)

        assert result == PrecheckResult(GLOBEX, None, (), others_may_overlap=True, staff=True)

    async def test_the_picked_partners_registrations_are_listed(self, world: World) -> None:
        acme, globex = await world.partners(2)
        mine = await register(world, acme)

        for_acme = await check(world, GLOBEX, acme, staff=True)
        for_globex = await check(world, GLOBEX, globex, staff=True)

        assert ([r.id for r in for_acme.own], for_acme.others_may_overlap) == ([mine.id], False)
        assert (for_globex.own, for_globex.others_may_overlap) == ((), True)


async def test_an_empty_company_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput):
        await check(world, CompanyRef(" "), None)
