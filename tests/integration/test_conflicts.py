"""The candidate index: every key kind finds its claims, common keys are capped, findings kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.conflicts import (
    ACTIVE_STATUSES,
    Claim,
    ClaimKind,
    ConflictRules,
    FindingCounts,
    company_ref,
    find_conflicts,
)
from domain.crm import Account, Opportunity
from domain.matching import CompanyRef, Screen, Signal, name_forms
from domain.matching.names import analyse
from domain.partner import Partner
from domain.registration import Registration, RegistrationStatus
from storage.candidate_lookup import prepare_lookups
from storage.crm import ACCOUNT
from storage.models import CompanyKeyRow
from storage.uow import uow_factory
from tests.builders import NOW, a_registration, an_approver, some_details
from tests.integration.conftest import NewUow

RULES = ConflictRules()
GLOBEX = some_details(
    company="Globex Corporation",
    website="https://www.globex.com",
    contact_email="hank@globex.com",
    country="DE",
)


async def claims(
    new_uow: NewUow,
    ref: CompanyRef,
    *,
    exclude: int | None = None,
    rules: ConflictRules = RULES,
    screen: Screen | None = None,
) -> list[Claim]:
    async with new_uow() as uow:
        return await uow.conflicts.claims_for_keys(
            rules.lookup_keys(ref),
            exclude_registration_id=exclude,
            active_statuses=ACTIVE_STATUSES,
            now=NOW,
            screen=screen,
        )


def ids(found: list[Claim], kind: ClaimKind) -> list[int]:
    return sorted(claim.id for claim in found if claim.kind is kind)


async def import_accounts(new_uow: NewUow, *accounts: Account) -> None:
    async with new_uow() as uow:
        await uow.crm.upsert_accounts(accounts)
        await uow.commit()


async def stored(new_uow: NewUow, registration: Registration) -> int:
    async with new_uow() as uow:
        await uow.registrations.add(registration)
        await uow.commit()
    assert registration.id is not None
    return registration.id


class TestLookupByKeyKind:
    @pytest.mark.parametrize(
        ("existing", "subject", "shared"),
        [
            pytest.param(
                CompanyRef("Zeta Holdings", domain="acme.com"),
                CompanyRef("Other Name", domain="https://www.acme.com/de"),
                {"d"},
                id="website-domain",
            ),
            pytest.param(
                CompanyRef("Zeta Holdings", domain="acme.com"),
                CompanyRef("Other Name", email="pat@mail.acme.com"),
                {"d"},
                id="email-domain",
            ),
            pytest.param(
                CompanyRef("Acme Corp"), CompanyRef("ACME Corporation, Inc."), {"n"}, id="name"
            ),
            pytest.param(
                CompanyRef("Acme Widgets Group"), CompanyRef("AWG"), {"i"}, id="initialism"
            ),
            pytest.param(CompanyRef("Facebook"), CompanyRef("Meta Platforms"), {"a"}, id="alias"),
            pytest.param(CompanyRef("Umbrella"), CompanyRef("Umbrela"), {"t"}, id="typo-block"),
        ],
    )
    async def test_finds_an_account_through_the_keys_it_shares(
        self, new_uow: NewUow, existing: CompanyRef, subject: CompanyRef, shared: set[str]
    ) -> None:
        assert {key[0] for key in RULES.keys(existing) & RULES.lookup_keys(subject)} == shared
        account = Account("0011", existing.name, domain=existing.domain, owner_slack_id="U0D")
        await import_accounts(new_uow, account, Account("0012", "Unrelated Ltd", domain="u.io"))

        [claim] = await claims(new_uow, subject)

        assert (claim.kind, claim.external_id, claim.owner) == (ClaimKind.account, "0011", "U0D")
        assert find_conflicts(subject, [claim], RULES)

    async def test_finds_an_opportunity_with_its_stage_and_owner(self, new_uow: NewUow) -> None:
        async with new_uow() as uow:
            await uow.crm.upsert_opportunities(
                [
                    Opportunity(
                        "0061",
                        "0011",
                        "Globex",
                        domain="globex.com",
                        stage="Proposal",
                        owner_email="dana@vendor.example",
                        last_activity_at=NOW,
                    )
                ]
            )
            await uow.commit()

        [claim] = await claims(new_uow, company_ref(GLOBEX))

        assert claim.kind is ClaimKind.opportunity
        assert (claim.stage, claim.owner, claim.last_activity_at) == (
            "Proposal",
            "dana@vendor.example",
            NOW,
        )
        assert claim.account_external_id == "0011"

    async def test_finds_a_registration_with_its_partner_and_status(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        registration_id = await stored(new_uow, a_registration(partner.id, id=None, details=GLOBEX))

        [claim] = await claims(new_uow, CompanyRef("Globex Corp", domain="globex.com"))

        assert (claim.kind, claim.id, claim.partner_id) == (
            ClaimKind.registration,
            registration_id,
            partner.id,
        )
        assert claim.status is RegistrationStatus.under_review
        assert claim.company == company_ref(GLOBEX)

    async def test_no_shared_key_is_no_candidate(self, new_uow: NewUow) -> None:
        await import_accounts(new_uow, Account("0011", "Initech", domain="initech.com"))

        assert await claims(new_uow, CompanyRef("Hooli", domain="hooli.xyz")) == []


class TestActiveRegistrationsOnly:
    async def test_skips_closed_registrations_and_lapsed_protection(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        withdrawn = a_registration(partner.id, id=None, details=GLOBEX)
        withdrawn.withdraw(by=withdrawn.submitted_by, now=NOW)
        lapsed = a_registration(partner.id, id=None, details=GLOBEX)
        lapsed.approve(by=an_approver(), now=NOW - timedelta(days=91), protection=timedelta(90))
        protected = a_registration(partner.id, id=None, details=GLOBEX)
        protected.approve(by=an_approver(), now=NOW, protection=timedelta(days=90))
        for registration in (withdrawn, lapsed, protected):
            await stored(new_uow, registration)

        found = await claims(new_uow, company_ref(GLOBEX))

        assert ids(found, ClaimKind.registration) == [protected.id]

    async def test_leaves_out_the_registration_being_checked(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        first = await stored(new_uow, a_registration(partner.id, id=None, details=GLOBEX))
        second = await stored(new_uow, a_registration(partner.id, id=None, details=GLOBEX))

        found = await claims(new_uow, company_ref(GLOBEX), exclude=first)

        assert ids(found, ClaimKind.registration) == [second]


class TestRegistrationKeys:
    async def test_changed_details_replace_the_keys_on_save(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        registration_id = await stored(new_uow, a_registration(partner.id, id=None, details=GLOBEX))
        initech = some_details(company="Initech", website="initech.com", contact_email=None)

        async with new_uow() as uow:
            registration = await uow.registrations.get(registration_id)
            assert registration is not None
            registration.request_info(by=an_approver(), now=NOW, question="Who?")
            registration.resubmit(by=registration.submitted_by, now=NOW, details=initech)
            await uow.registrations.save(registration, expected_version=1)
            await uow.commit()

        assert await claims(new_uow, company_ref(GLOBEX)) == []
        [claim] = await claims(new_uow, CompanyRef("Initech Inc", domain="initech.com"))
        assert claim.id == registration_id

    async def test_a_decision_keeps_the_keys(self, new_uow: NewUow, partner: Partner) -> None:
        assert partner.id is not None
        registration_id = await stored(new_uow, a_registration(partner.id, id=None, details=GLOBEX))

        async with new_uow() as uow:
            registration = await uow.registrations.get(registration_id)
            assert registration is not None
            registration.approve(by=an_approver(), now=NOW, protection=timedelta(days=90))
            await uow.registrations.save(registration, expected_version=1)
            await uow.commit()

        [claim] = await claims(new_uow, company_ref(GLOBEX))
        assert claim.status is RegistrationStatus.approved

    async def test_closing_a_registration_drops_its_keys(
        self,
        new_uow: NewUow,
        partner: Partner,
        session_factory: async_sessionmaker[AsyncSession],
    ) -> None:
        assert partner.id is not None
        registration_id = await stored(new_uow, a_registration(partner.id, id=None, details=GLOBEX))

        async with new_uow() as uow:
            registration = await uow.registrations.get(registration_id)
            assert registration is not None
            registration.withdraw(by=registration.submitted_by, now=NOW)
            await uow.registrations.save(registration, expected_version=1)
            await uow.commit()

        async with session_factory() as session:
            left = await session.scalar(
                select(func.count()).where(CompanyKeyRow.owner_kind == "registration")
            )
        assert left == 0


class TestStoredNameForms:
    async def test_a_registration_comes_with_its_stored_analysis(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        await stored(new_uow, a_registration(partner.id, id=None, details=GLOBEX))
        [claim] = await claims(new_uow, company_ref(GLOBEX))
        assert claim.company.analysed == analyse(GLOBEX.company)

    async def test_forms_missing_or_left_from_another_name_are_not_used(
        self, new_uow: NewUow, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        await import_accounts(new_uow, Account("0001", "Umbrella"), Account("0002", "Umbrela"))
        async with session_factory() as session:
            await session.execute(
                update(ACCOUNT).where(ACCOUNT.c.id == 1).values(name_forms=name_forms("Acme"))
            )
            await session.execute(update(ACCOUNT).where(ACCOUNT.c.id == 2).values(name_forms=None))
            await session.commit()
        found = await claims(new_uow, CompanyRef("Umbrella"))
        assert ids(found, ClaimKind.account) == [1, 2]
        assert all(claim.company.analysed is None for claim in found)
        assert len(find_conflicts(CompanyRef("Umbrella"), found, RULES)) == 2


class TestScreen:
    async def test_strangers_sharing_a_typo_block_are_left_out_unbuilt(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        stranger = "Umbrellaz Tiramisu Kitchen"
        await import_accounts(new_uow, Account("0001", "Umbrela Ltd"), Account("0002", stranger))
        async with new_uow() as uow:
            await uow.crm.upsert_opportunities(
                [Opportunity("0061", None, "Umbrela"), Opportunity("0062", None, stranger)]
            )
            await uow.commit()
        alike = await stored(
            new_uow,
            a_registration(partner.id, id=None, details=some_details(company="Umbrella Inc")),
        )
        await stored(
            new_uow, a_registration(partner.id, id=None, details=some_details(company=stranger))
        )
        subject = CompanyRef("Umbrella")

        everything = await claims(new_uow, subject)
        screened = await claims(new_uow, subject, screen=RULES.screen_for(subject))

        assert len(everything) == 6
        assert {(c.kind, c.external_id or c.id) for c in screened} == {
            (ClaimKind.account, "0001"),
            (ClaimKind.opportunity, "0061"),
            (ClaimKind.registration, alike),
        }
        assert find_conflicts(subject, screened, RULES) == find_conflicts(
            subject, everything, RULES
        )


@pytest.fixture
def lookups(engine: AsyncEngine) -> list[str]:
    """The key lookup statements run on `engine` from now on, as sent to the driver."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "row_number()" in statement:
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return sent


def parts(statement: str) -> int:
    """How many (key, kind) parts a key lookup statement has."""
    return statement.count("UNION ALL") + 1


class TestLookupStatement:
    async def test_key_mixes_of_one_size_share_one_prepared_statement(
        self, new_uow: NewUow, lookups: list[str]
    ) -> None:
        """Preparing the lookup costs SQLite ten times what running it does, so the SQL
        text must not depend on which sorts of keys a subject has, only on how many."""
        await import_accounts(new_uow, Account("0001", "Umbrella", domain="umbrella.com"))
        subjects = [
            {"d:umbrella.com", "n:umbrella", "t:umbrella"},
            {"t:umbrela", "t:mbrella", "i:ub"},
            {"n:umbrella", "a:umbrella", "s:ub"},
            {"d:umbrella.com", "n:umbrella", "t:umbrella", "t:umbrela", "t:mbrella"},
        ]
        found = []
        for keys in subjects:
            async with new_uow() as uow:
                found.append(
                    await uow.conflicts.claims_for_keys(
                        keys, exclude_registration_id=None, active_statuses=(), now=NOW
                    )
                )

        assert [len(claims) for claims in found] == [1, 1, 1, 1]
        assert len(set(lookups[:3])) == 1
        assert lookups[3] != lookups[0]

    async def test_kinds_with_no_records_are_not_looked_up(
        self, new_uow: NewUow, lookups: list[str]
    ) -> None:
        await import_accounts(new_uow, Account("0001", "Umbrella"))

        found = await claims(new_uow, CompanyRef("Umbrella"))

        assert ids(found, ClaimKind.account) == [1]
        keys = len(RULES.lookup_keys(CompanyRef("Umbrella")))
        assert [parts(statement) for statement in lookups] == [keys + -keys % 4]  # accounts

    async def test_preparing_the_lookups_ahead_runs_each_size_once_and_changes_nothing(
        self, engine: AsyncEngine, new_uow: NewUow, lookups: list[str]
    ) -> None:
        await import_accounts(new_uow, Account("0001", "Umbrella"))

        await prepare_lookups(engine, up_to_keys=12)

        # 4, 8 and 12 keys for one, two and three kinds of records
        assert [parts(statement) for statement in lookups] == [4, 8, 12, 16, 24, 36]
        assert ids(await claims(new_uow, CompanyRef("Umbrella")), ClaimKind.account) == [1]


class TestKeyCap:
    @pytest.fixture
    def capped(self, session_factory: async_sessionmaker[AsyncSession]) -> NewUow:
        return uow_factory(session_factory, conflict_rules=replace(RULES, key_cap=2))

    async def test_a_name_key_shared_by_more_records_than_the_cap_is_skipped(
        self, capped: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        await import_accounts(capped, *(Account(f"00{n}", "AWG") for n in range(3)))
        registration_id = await stored(
            capped, a_registration(partner.id, id=None, details=some_details(company="AWG"))
        )

        found = await claims(capped, CompanyRef("AWG"), rules=replace(RULES, key_cap=2))

        assert ids(found, ClaimKind.account) == []
        assert ids(found, ClaimKind.registration) == [registration_id]

    async def test_a_domain_key_over_the_cap_is_truncated_not_skipped(self, capped: NewUow) -> None:
        await import_accounts(
            capped, *(Account(f"00{n}", f"Name {n}", domain="acme.com") for n in range(3))
        )

        found = await claims(
            capped, CompanyRef("X", domain="acme.com"), rules=replace(RULES, key_cap=2)
        )

        assert len(ids(found, ClaimKind.account)) == 2


class TestCandidateBudget:
    async def test_records_sharing_a_domain_or_name_are_never_cut(
        self, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        rules = replace(RULES, candidate_cap=1)
        capped = uow_factory(session_factory, conflict_rules=rules)
        await import_accounts(
            capped,
            Account("0001", "Umbrela"),  # a typo block only, and the oldest
            Account("0002", "Zeta Holdings", domain="umbrella.com"),
            Account("0003", "Umbrella"),
            Account("0004", "Umbrelo"),  # a typo block only
        )

        found = await claims(capped, CompanyRef("Umbrella", domain="umbrella.com"), rules=rules)

        external_ids = sorted(claim.external_id or "" for claim in found)
        assert external_ids[1:] == ["0002", "0003"]
        assert external_ids[0] in {"0001", "0004"}

    async def test_typo_candidates_sharing_rare_blocks_come_before_common_ones(
        self, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        rules = replace(RULES, candidate_cap=1)
        capped = uow_factory(session_factory, conflict_rules=rules)
        await import_accounts(
            capped,
            *(Account(f"000{n}", name) for n, name in enumerate(["Umbra", "Umbro", "Umbri"])),
            Account("0009", "Umbrela"),  # the newest, but it shares the rare blocks
        )

        found = await claims(capped, CompanyRef("Umbrella"), rules=rules)

        assert [claim.external_id for claim in found] == ["0009"]


class TestFindings:
    async def test_counts_conflicts_and_possible_ones_per_registration(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        await import_accounts(
            new_uow,
            Account("0011", "Globex", domain="globex.com", is_named=True),
            Account("0012", "Gloobex Corporation"),
        )
        registration_id = await stored(new_uow, a_registration(partner.id, id=None, details=GLOBEX))
        candidates = await claims(new_uow, company_ref(GLOBEX), exclude=registration_id)
        findings = find_conflicts(company_ref(GLOBEX), candidates, RULES)

        async with new_uow() as uow:
            await uow.conflicts.add_findings(registration_id, findings, found_at=NOW)
            await uow.commit()

        async with new_uow() as uow:
            counts = await uow.conflicts.finding_counts([registration_id, 999])
        assert counts == {registration_id: FindingCounts(conflicts=1, possible=1)}
        assert findings[0].evidence[0].signal is Signal.same_domain

    async def test_replace_drops_the_older_findings(
        self, new_uow: NewUow, registration_id: int
    ) -> None:
        await import_accounts(new_uow, Account("0011", "Globex", domain="globex.com"))
        findings = find_conflicts(
            company_ref(GLOBEX), await claims(new_uow, company_ref(GLOBEX)), RULES
        )
        async with new_uow() as uow:
            await uow.conflicts.add_findings(registration_id, findings, found_at=NOW)
            await uow.commit()

        async with new_uow() as uow:
            await uow.conflicts.add_findings(registration_id, [], found_at=NOW, replace=True)
            await uow.commit()

        async with new_uow() as uow:
            assert await uow.conflicts.finding_counts([registration_id]) == {}
