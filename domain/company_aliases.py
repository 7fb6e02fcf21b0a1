"""Aliases admins add ("Meta Platforms" is "Facebook"), on top of the shipped alias file.

The conflict rules every check and every stored key use are the shipped aliases plus these.
Adding or removing one re-keys, in the same transaction, the records whose names it moves
between alias groups, so the next check anywhere (any replica, the CLI) finds them: the
bot reloads the rules when the stored aliases' revision changes (`current_rules`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from domain.conflicts import ConflictRules
from domain.errors import InvalidInput, NotFound
from domain.matching import CompanyRef
from domain.matching.names import analyse

if TYPE_CHECKING:  # the ports name this module's records
    from domain.ports import UnitOfWork

MAX_NAME = 200
NAME_KEY = "n:"
"""Prefix of the keys under which a record is indexed by its normalised name forms
(see `domain.matching.CandidateKeys`): how the records a change may move are found."""

AliasRevision = tuple[int, int]
"""Changes whenever an alias is added or removed (count and highest id; ids never reused)."""


@dataclass(frozen=True, slots=True)
class CompanyAlias:
    """Two names of one company, as an admin declared them."""

    name: str
    alias: str
    added_by: str
    added_at: datetime
    id: int | None = None

    @property
    def pair(self) -> tuple[str, str]:
        return self.name, self.alias


@dataclass(frozen=True, slots=True)
class RulesSnapshot:
    """The conflict rules for one revision of the stored aliases."""

    revision: AliasRevision
    rules: ConflictRules


@dataclass(frozen=True, slots=True)
class AliasOutcome:
    """What adding or removing an alias did: the alias, and how many records were re-keyed.

    `already` is set when the names already meant one company (nothing was changed)."""

    alias: CompanyAlias | None
    rekeyed: int = 0
    already: bool = False


@dataclass(frozen=True, slots=True)
class NamedOwner:
    """A record in the key index, by kind and id, with the name its keys come from."""

    kind: str
    id: int
    name: str


def with_aliases(base: ConflictRules, aliases: Iterable[CompanyAlias]) -> ConflictRules:
    """`base` (the shipped aliases) with the admins' aliases added."""
    pairs = [alias.pair for alias in aliases]
    return replace(base, aliases=base.aliases.with_pairs(pairs)) if pairs else base


async def current_rules(
    base: ConflictRules, *, uow: UnitOfWork, known: RulesSnapshot | None = None
) -> RulesSnapshot:
    """The rules with the stored aliases; `known` itself when its revision is still current."""
    async with uow:
        revision = await uow.aliases.revision()
        if known is not None and known.revision == revision:
            return known
        stored = await uow.aliases.list_all()
    return RulesSnapshot(revision, with_aliases(base, stored))


async def list_aliases(*, uow: UnitOfWork) -> list[CompanyAlias]:
    """The admins' aliases, oldest first."""
    async with uow:
        return await uow.aliases.list_all()


async def add_alias(
    name: str, alias: str, *, added_by: str, uow: UnitOfWork, base: ConflictRules, now: datetime
) -> AliasOutcome:
    """Declare `alias` another name of `name`, and re-key the records it concerns.

    Names that already mean one company (the same normalised name, or already aliases,
    shipped or added) change nothing and say so.
    """
    name, alias = _checked(name, "name"), _checked(alias, "alias")
    async with uow:
        stored = await uow.aliases.list_all()
        before = with_aliases(base, stored)
        if _same_company(before, name, alias):
            return AliasOutcome(alias=None, already=True)
        added = CompanyAlias(name=name, alias=alias, added_by=added_by, added_at=now)
        added = await uow.aliases.add(added)
        rekeyed = await _rekey(uow, before, with_aliases(base, [*stored, added]), added.pair)
        await uow.commit()
    return AliasOutcome(alias=added, rekeyed=rekeyed)


async def remove_alias(
    name: str, alias: str, *, uow: UnitOfWork, base: ConflictRules
) -> AliasOutcome:
    """Drop an admin's alias (either order, case and spaces aside) and re-key what it joined."""
    wanted = {_folded(name), _folded(alias)}
    async with uow:
        stored = await uow.aliases.list_all()
        found = next((a for a in stored if {_folded(a.name), _folded(a.alias)} == wanted), None)
        if found is None or found.id is None:
            raise NotFound(
                f"no added alias {name!r} = {alias!r} (see `dibs aliases list`; the shipped "
                "aliases cannot be removed)"
            )
        await uow.aliases.remove(found.id)
        after = with_aliases(base, [a for a in stored if a.id != found.id])
        rekeyed = await _rekey(uow, with_aliases(base, stored), after, found.pair)
        await uow.commit()
    return AliasOutcome(alias=found, rekeyed=rekeyed)


def rekey_lookup(before: ConflictRules, after: ConflictRules, pair: Sequence[str]) -> set[str]:
    """The name keys of every record whose alias groups `before` → `after` may change."""
    forms = before.aliases.related_forms(pair) | after.aliases.related_forms(pair)
    return {
        key for form in forms for key in after.keys(CompanyRef(form)) if key.startswith(NAME_KEY)
    }


def key_change(
    before: ConflictRules, after: ConflictRules, name: str
) -> tuple[frozenset[str], frozenset[str]]:
    """(keys to drop, keys to add) for a record named `name`.

    Only name-derived keys depend on the aliases, so comparing the keys of the bare name
    under both rules is exactly the change, whatever the record's domain or e-mail.
    """
    old, new = before.keys(CompanyRef(name)), after.keys(CompanyRef(name))
    return old - new, new - old


async def _rekey(
    uow: UnitOfWork, before: ConflictRules, after: ConflictRules, pair: Sequence[str]
) -> int:
    """Patch the keys of the records the change concerns; how many changed."""
    changed = 0
    for owner in await uow.aliases.owners_with_keys(rekey_lookup(before, after, pair)):
        dropped, added = key_change(before, after, owner.name)
        if dropped or added:
            await uow.aliases.change_keys(owner.kind, owner.id, dropped=dropped, added=added)
            changed += 1
    return changed


def _checked(value: str, what: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise InvalidInput(f"the {what} is empty")
    if len(value) > MAX_NAME:
        raise InvalidInput(f"the {what} is longer than {MAX_NAME} characters")
    if not analyse(value).exact:
        raise InvalidInput(f"{value!r} has no letters or digits to match on")
    return value


def _same_company(rules: ConflictRules, a: str, b: str) -> bool:
    first, second = analyse(a), analyse(b)
    return bool(first.exact & second.exact) or bool(
        rules.aliases.groups(first) & rules.aliases.groups(second)
    )


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()
