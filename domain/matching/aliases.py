"""Known renames and short forms (curated file plus pairs admins add) as alias groups."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from domain.matching.names import CompanyName, analyse


class Aliases:
    """Immutable alias groups: every normalised form of a listed name → its group's id."""

    __slots__ = ("_groups", "_pairs")

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._pairs: tuple[tuple[str, str], ...] = tuple(pairs)
        self._groups: dict[str, str] = _connect(self._pairs)

    @classmethod
    def default(cls) -> Aliases:
        """The shipped ``domain/data/aliases.csv``, loaded once."""
        return _shipped()

    @classmethod
    def none(cls) -> Aliases:
        """No aliases at all (for evaluation and tests)."""
        return cls()

    def with_pairs(self, pairs: Iterable[tuple[str, str]]) -> Aliases:
        """A copy with extra pairs, e.g. ``[("Meta Platforms", "Facebook")]`` added by an admin."""
        return Aliases((*self._pairs, *pairs))

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Every pair these groups were built from."""
        return self._pairs

    def groups(self, name: CompanyName) -> frozenset[str]:
        """Ids of the alias groups a name belongs to (empty for most names)."""
        return self.groups_of(name.exact)

    def groups_of(self, forms: Iterable[str]) -> frozenset[str]:
        """Ids of the alias groups of a name's exact forms (`CompanyName.exact`)."""
        return frozenset(g for form in forms if (g := self._groups.get(form)) is not None)

    def related_forms(self, names: Iterable[str]) -> frozenset[str]:
        """The normalised forms of `names` and every form in an alias group with one of them.

        What changes when these names gain or lose an alias: only records whose names have
        one of these forms can move between alias groups.
        """
        forms = {form for name in names for form in analyse(name).exact}
        groups = {self._groups[form] for form in forms if form in self._groups}
        return frozenset(forms | {form for form, group in self._groups.items() if group in groups})

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"Aliases({len(self._pairs)} pairs)"


def _connect(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Union-find over normalised forms; each group's id is its smallest form."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: str, y: str) -> None:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    for left, right in pairs:
        forms = sorted(analyse(left).exact | analyse(right).exact)
        for form in forms[1:]:
            union(forms[0], form)
    return {form: find(form) for form in parent}


def _read_pairs(text: str) -> list[tuple[str, str]]:
    """Pairs from the alias CSV (header ``name_a,name_b,kind``)."""
    rows = csv.DictReader(io.StringIO(text))
    return [(row["name_a"].strip(), row["name_b"].strip()) for row in rows if row.get("name_b")]


@lru_cache(maxsize=1)
def _shipped() -> Aliases:
    """Load the shipped alias file once."""
    text = resources.files("domain.data").joinpath("aliases.csv").read_text(encoding="utf-8")
    return Aliases(_read_pairs(text))
