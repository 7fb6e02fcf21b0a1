"""Aliases admins add ("Meta Platforms" is "Facebook"): the records and the pure rules of
re-keying (`domain.services.aliases` applies them). The conflict rules every check and every
stored key use are the shipped aliases plus these."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.conflicts import ConflictRules
from domain.errors import InvalidInput
from domain.matching import CompanyRef
from domain.matching.names import analyse

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


def checked_name(value: str, what: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise InvalidInput(f"the {what} is empty")
    if len(value) > MAX_NAME:
        raise InvalidInput(f"the {what} is longer than {MAX_NAME} characters")
    if not analyse(value).exact:
        raise InvalidInput(f"{value!r} has no letters or digits to match on")
    return value


def same_company(rules: ConflictRules, a: str, b: str) -> bool:
    first, second = analyse(a), analyse(b)
    return bool(first.exact & second.exact) or bool(
        rules.aliases.groups(first) & rules.aliases.groups(second)
    )


def folded(text: str) -> str:
    return " ".join(text.split()).casefold()
