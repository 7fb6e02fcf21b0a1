"""Admins' aliases on storage: stored, merged into the rules, and the records they concern
re-keyed in SQL (what the use case decides is tested on the fake: tests/services)."""

from __future__ import annotations

from datetime import datetime

from domain.conflicts import ACTIVE_STATUSES, ClaimKind, ConflictRules, find_conflicts
from domain.crm import Account
from domain.matching import CompanyRef
from domain.partner import Partner
from domain.services.aliases import CompanyAliases
from tests.builders import NOW, a_registration, services, some_details
from tests.integration.conftest import NewUow

BASE = ConflictRules()


def aliases(new_uow: NewUow, *, at: datetime = NOW) -> CompanyAliases:
    """The admins' aliases on top of `BASE`, as the CLI and the bot use them."""
    return services(new_uow, at=at, rules=BASE).aliases


UMBRELLA = CompanyRef("Umbrella Corporation")


async def import_accounts(new_uow: NewUow, *accounts: Account) -> None:
    async with new_uow() as uow:
        await uow.crm.upsert_accounts(list(accounts))
        await uow.commit()


async def found_accounts(new_uow: NewUow, subject: CompanyRef) -> list[str]:
    """External ids of the accounts a check of `subject` finds under the stored aliases."""
    rules = (await aliases(new_uow).current_rules()).rules
    async with new_uow() as uow:
        claims = await uow.conflicts.claims_for_keys(
            rules.keys(subject),
            exclude_registration_id=None,
            active_statuses=ACTIVE_STATUSES,
            now=NOW,
        )
    findings = find_conflicts(subject, claims, rules, now=NOW)
    return [f.claim.external_id or "" for f in findings if f.claim.kind is ClaimKind.account]


async def add(new_uow: NewUow, name: str, alias: str, *, at: datetime = NOW) -> int:
    outcome = await aliases(new_uow, at=at).add(name, alias, added_by="U0ADMIN")
    return outcome.rekeyed


class TestAddAlias:
    async def test_the_next_check_finds_an_account_under_its_other_name(
        self, new_uow: NewUow
    ) -> None:
        await import_accounts(
            new_uow, Account("0011", "Raccoon Pharma Inc"), Account("0012", "Hooli")
        )
        assert await found_accounts(new_uow, UMBRELLA) == []

        assert await add(new_uow, "Umbrella Corporation", "Raccoon Pharma") == 1

        assert await found_accounts(new_uow, UMBRELLA) == ["0011"]

    async def test_an_account_imported_afterwards_is_keyed_with_the_alias(
        self, new_uow: NewUow
    ) -> None:
        await add(new_uow, "Umbrella Corporation", "Raccoon Pharma")
        rules = (await aliases(new_uow).current_rules()).rules
        async with new_uow() as uow:
            account = Account("0011", "Raccoon Pharma")
            await uow.crm.upsert_accounts([account], keys=[rules.keys(CompanyRef(account.name))])
            await uow.commit()

        assert await found_accounts(new_uow, UMBRELLA) == ["0011"]

    async def test_re_keys_registrations_too(self, new_uow: NewUow, partner: Partner) -> None:
        assert partner.id is not None
        registration = a_registration(
            partner.id, id=None, details=some_details(company="Raccoon Pharma")
        )
        async with new_uow() as uow:
            await uow.registrations.add(registration)
            await uow.commit()

        assert await add(new_uow, "Umbrella Corporation", "Raccoon Pharma") == 1

        rules = (await aliases(new_uow).current_rules()).rules
        async with new_uow() as uow:
            claims = await uow.conflicts.claims_for_keys(
                rules.keys(UMBRELLA),
                exclude_registration_id=None,
                active_statuses=ACTIVE_STATUSES,
                now=NOW,
            )
        assert [c.id for c in claims if c.kind is ClaimKind.registration] == [registration.id]

    async def test_is_listed_with_who_added_it_and_when(self, new_uow: NewUow) -> None:
        await add(new_uow, "Umbrella Corporation", "Raccoon Pharma")
        [alias] = await aliases(new_uow).all()
        assert (alias.name, alias.alias, alias.added_by, alias.added_at) == (
            "Umbrella Corporation",
            "Raccoon Pharma",
            "U0ADMIN",
            NOW,
        )


class TestRemoveAlias:
    async def test_the_account_is_no_longer_found_under_the_other_name(
        self, new_uow: NewUow
    ) -> None:
        await import_accounts(new_uow, Account("0011", "Raccoon Pharma Inc"))
        await add(new_uow, "Umbrella Corporation", "Raccoon Pharma")

        outcome = await aliases(new_uow).remove("raccoon  pharma", "UMBRELLA CORPORATION")

        assert outcome.rekeyed == 1
        assert await found_accounts(new_uow, UMBRELLA) == []
        assert await aliases(new_uow).all() == []


class TestCurrentRules:
    async def test_are_rebuilt_only_when_the_aliases_changed(self, new_uow: NewUow) -> None:
        first = await aliases(new_uow).current_rules()
        assert await aliases(new_uow).current_rules(known=first) is first

        await add(new_uow, "Umbrella Corporation", "Raccoon Pharma")
        second = await aliases(new_uow).current_rules(known=first)

        assert second is not first
        assert second.rules.keys(UMBRELLA) != BASE.keys(UMBRELLA)

    async def test_see_a_removal_followed_by_an_addition(self, new_uow: NewUow) -> None:
        await add(new_uow, "Umbrella Corporation", "Raccoon Pharma")
        await add(new_uow, "Initech", "Initrode")
        known = await aliases(new_uow).current_rules()
        await aliases(new_uow).remove("Initech", "Initrode")
        await add(new_uow, "Globex", "Globochem")

        assert (await aliases(new_uow).current_rules(known=known)).revision != known.revision
