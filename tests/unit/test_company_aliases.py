"""Admins' aliases merged into the rules, and which keys adding one changes (pure)."""

from __future__ import annotations

from domain.company_aliases import CompanyAlias, key_change, rekey_lookup, with_aliases
from domain.conflicts import ConflictRules
from domain.matching import Aliases, CompanyRef
from tests.builders import NOW

BASE = ConflictRules(aliases=Aliases([("Facebook", "Meta Platforms")]))
UMBRELLA = CompanyAlias("Umbrella Corporation", "Raccoon Pharma", added_by="U0ADMIN", added_at=NOW)


class TestWithAliases:
    def test_adds_the_pairs_to_the_shipped_ones(self) -> None:
        rules = with_aliases(BASE, [UMBRELLA])
        assert rules.aliases.pairs == (("Facebook", "Meta Platforms"), UMBRELLA.pair)
        assert rules.match == BASE.match

    def test_without_aliases_are_the_base_rules(self) -> None:
        assert with_aliases(BASE, []) is BASE


class TestRelatedForms:
    def test_are_the_names_forms_and_their_whole_alias_group(self) -> None:
        forms = BASE.aliases.related_forms(["Meta Platforms Inc"])
        assert {"facebook", "metaplatforms"} <= forms

    def test_of_a_name_in_no_group_are_its_own_forms(self) -> None:
        assert BASE.aliases.related_forms(["Hooli"]) == {"hooli"}


class TestKeyChange:
    def test_a_name_joining_a_group_gains_its_alias_key_only(self) -> None:
        after = with_aliases(BASE, [UMBRELLA])
        dropped, added = key_change(BASE, after, "Raccoon Pharma Inc")
        assert dropped == frozenset()
        assert len(added) == 1
        assert next(iter(added)).startswith("a:")
        assert added <= after.keys(CompanyRef("Umbrella Corporation"))

    def test_an_unrelated_name_changes_nothing(self) -> None:
        assert key_change(BASE, with_aliases(BASE, [UMBRELLA]), "Hooli") == (
            frozenset(),
            frozenset(),
        )

    def test_removal_is_the_reverse_change(self) -> None:
        after = with_aliases(BASE, [UMBRELLA])
        dropped, added = key_change(after, BASE, "Raccoon Pharma")
        assert (dropped, added) == tuple(reversed(key_change(BASE, after, "Raccoon Pharma")))


class TestRekeyLookup:
    def test_names_the_keys_of_both_names_forms(self) -> None:
        keys = rekey_lookup(BASE, with_aliases(BASE, [UMBRELLA]), UMBRELLA.pair)
        assert keys >= {"n:umbrella", "n:raccoonpharma"}
        assert all(key.startswith("n:") for key in keys)

    def test_covers_the_group_a_name_joins(self) -> None:
        pair = ("Meta", "Facebook")
        keys = rekey_lookup(BASE, with_aliases(BASE, [UMBRELLA]), pair)
        assert {"n:meta", "n:facebook", "n:metaplatforms"} <= keys
