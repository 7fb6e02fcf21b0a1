"""Aliases admins add on top of the shipped alias file, and the conflict rules they make.

Adding or removing one re-keys, in the same transaction, the records whose names it moves
between alias groups, so the next check anywhere (any replica, the CLI) finds them.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.company_aliases import (
    AliasOutcome,
    CompanyAlias,
    RulesSnapshot,
    checked_name,
    folded,
    key_change,
    rekey_lookup,
    same_company,
    with_aliases,
)
from domain.conflicts import ConflictRules
from domain.errors import NotFound
from domain.ports import UnitOfWork
from domain.services.context import ServiceContext


class CompanyAliases:
    """The admins' aliases. `base`: the rules from code and the shipped alias file."""

    def __init__(self, ctx: ServiceContext, base: ConflictRules) -> None:
        self._ctx = ctx
        self._base = base

    async def current_rules(self, known: RulesSnapshot | None = None) -> RulesSnapshot:
        """The rules with the stored aliases; `known` itself while its revision is current."""
        async with self._ctx.uow() as uow:
            revision = await uow.aliases.revision()
            if known is not None and known.revision == revision:
                return known
            stored = await uow.aliases.list_all()
        return RulesSnapshot(revision, with_aliases(self._base, stored))

    async def all(self) -> list[CompanyAlias]:
        """The admins' aliases, oldest first."""
        async with self._ctx.uow() as uow:
            return await uow.aliases.list_all()

    async def add(self, name: str, alias: str, *, added_by: str) -> AliasOutcome:
        """Declare `alias` another name of `name` and re-key the records it concerns; names
        that already mean one company (same normalised name, or aliases already) change
        nothing and say so."""
        name, alias = checked_name(name, "name"), checked_name(alias, "alias")
        async with self._ctx.uow() as uow:
            stored = await uow.aliases.list_all()
            before = with_aliases(self._base, stored)
            if same_company(before, name, alias):
                return AliasOutcome(alias=None, already=True)
            added = CompanyAlias(
                name=name, alias=alias, added_by=added_by, added_at=self._ctx.clock()
            )
            added = await uow.aliases.add(added)
            after = with_aliases(self._base, [*stored, added])
            rekeyed = await _rekey(uow, before, after, added.pair)
            await uow.commit()
        return AliasOutcome(alias=added, rekeyed=rekeyed)

    async def remove(self, name: str, alias: str) -> AliasOutcome:
        """Drop an admin's alias (either order, case and spaces aside) and re-key what it
        joined."""
        wanted = {folded(name), folded(alias)}
        async with self._ctx.uow() as uow:
            stored = await uow.aliases.list_all()
            found = next((a for a in stored if {folded(a.name), folded(a.alias)} == wanted), None)
            if found is None or found.id is None:
                raise NotFound(
                    f"no added alias {name!r} = {alias!r} (see `dibs aliases list`; the "
                    "shipped aliases cannot be removed)"
                )
            await uow.aliases.remove(found.id)
            after = with_aliases(self._base, [a for a in stored if a.id != found.id])
            rekeyed = await _rekey(uow, with_aliases(self._base, stored), after, found.pair)
            await uow.commit()
        return AliasOutcome(alias=found, rekeyed=rekeyed)


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
