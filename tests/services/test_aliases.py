"""The admins' aliases: adding one re-keys the records it concerns so the next check finds them;
names that already mean one company change nothing. (Storage's re-keying in SQL and the
revision it keeps are tested in tests/integration/test_aliases.py.)"""

from __future__ import annotations

import pytest

from domain.company_aliases import RulesSnapshot
from domain.conflicts import ClaimKind, ConflictRules
from domain.crm import Account
from domain.errors import InvalidInput, NotFound
from domain.matching import CompanyRef
from tests.builders import ADMIN, NOW, services
from tests.services.conftest import World

BASE = ConflictRules()
UMBRELLA = CompanyRef("Umbrella Corporation")


async def found(world: World, subject: CompanyRef) -> list[tuple[ClaimKind, str]]:
    """What a check of `subject` finds under the stored aliases (the rules the bot would
    use after `current_rules`), by kind and name."""
    rules = (await world.app.aliases.current_rules()).rules
    check = await services(world.storage.uow, rules=rules).checks.company(subject)
    return [(f.claim.kind, f.claim.company.name) for f in check.findings]


class TestAdd:
    async def test_the_next_check_finds_the_records_under_their_other_name(
        self, world: World
    ) -> None:
        await world.crm(Account("0011", "Raccoon Pharma Inc"), Account("0012", "Hooli"))
        [partner] = await world.partners(1)
        await world.register(partner, "Raccoon Pharma")
        assert await found(world, UMBRELLA) == []

        outcome = await world.app.aliases.add(
            "Umbrella Corporation", "Raccoon Pharma", added_by=ADMIN
        )

        assert outcome.rekeyed == 2
        assert set(await found(world, UMBRELLA)) == {
            (ClaimKind.registration, "Raccoon Pharma"),
            (ClaimKind.account, "Raccoon Pharma Inc"),
        }

    async def test_is_kept_with_who_added_it_and_when(self, world: World) -> None:
        outcome = await world.app.aliases.add(
            "  Umbrella   Corporation ", "Raccoon Pharma", added_by=ADMIN
        )

        assert outcome.alias is not None
        assert (outcome.alias.pair, outcome.alias.added_by, outcome.alias.added_at) == (
            ("Umbrella Corporation", "Raccoon Pharma"),
            ADMIN,
            NOW,
        )
        assert await world.app.aliases.all() == [outcome.alias]

    @pytest.mark.parametrize(
        ("name", "alias"),
        [("Meta Platforms", "Facebook"), ("Acme Corp", "ACME Corporation, Inc.")],
        ids=["shipped-alias", "same-name"],
    )
    async def test_names_that_already_mean_one_company_change_nothing(
        self, world: World, name: str, alias: str
    ) -> None:
        commits = world.storage.commits

        outcome = await world.app.aliases.add(name, alias, added_by=ADMIN)

        assert (outcome.already, outcome.alias, outcome.rekeyed) == (True, None, 0)
        assert await world.app.aliases.all() == []
        assert world.storage.commits == commits

    async def test_a_name_with_nothing_to_match_on_is_refused(self, world: World) -> None:
        with pytest.raises(InvalidInput, match="has no letters or digits"):
            await world.app.aliases.add("Umbrella", "&&&", added_by=ADMIN)


class TestRemove:
    async def test_either_order_and_any_case_removes_it_and_re_keys_what_it_joined(
        self, world: World
    ) -> None:
        await world.crm(Account("0011", "Raccoon Pharma Inc"))
        await world.app.aliases.add("Umbrella Corporation", "Raccoon Pharma", added_by=ADMIN)

        outcome = await world.app.aliases.remove("raccoon  pharma", "UMBRELLA CORPORATION")

        assert outcome.rekeyed == 1
        assert await found(world, UMBRELLA) == []
        assert await world.app.aliases.all() == []

    async def test_an_alias_nobody_added_is_not_found(self, world: World) -> None:
        with pytest.raises(NotFound, match="the shipped aliases cannot be removed"):
            await world.app.aliases.remove("Meta Platforms", "Facebook")


class TestCurrentRules:
    async def test_are_the_same_snapshot_until_an_alias_changes(self, world: World) -> None:
        first = await world.app.aliases.current_rules()
        same = await world.app.aliases.current_rules(known=first)

        await world.app.aliases.add("Umbrella Corporation", "Raccoon Pharma", added_by=ADMIN)
        changed = await world.app.aliases.current_rules(known=first)

        assert same is first
        assert first == RulesSnapshot((0, 0), BASE)
        assert changed.rules.keys(UMBRELLA) != BASE.keys(UMBRELLA)
