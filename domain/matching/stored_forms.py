"""A name's analysis as the text its record stores (column ``name_forms``), read back by
lookups instead of analysing every candidate's name again."""

from __future__ import annotations

import zlib
from typing import NamedTuple

from domain.matching.blocking import BLOCK_PREFIX
from domain.matching.forms import Level, NameForms
from domain.matching.names import CompanyName, analyse

_FORMS_VERSION = "f1"
"""Bump when the analysis changes what it stores; older stored forms are then ignored."""


def name_forms(raw: str) -> str:
    """What a record stores with its name (column ``name_forms``): `dump_forms` of it."""
    return dump_forms(analyse(raw))


def dump_forms(name: CompanyName) -> str:
    """A name's analysis as text to store with its record, so that a lookup reads its
    candidates' forms (`load_forms`) instead of analysing every candidate's name again.

    Tokens are word characters, so spaces, ``|``, ``;`` and ``#`` can separate them. The
    text starts with this scheme's version and a checksum of the raw name: forms written by
    an older analysis, or left behind by a writer that changed the name alone, are ignored.
    """
    variants = ";".join(
        "|".join(
            (
                " ".join(f.full),
                "" if f.core == f.full else " ".join(f.core),
                "" if f.base == f.core else " ".join(f.base),
                " ".join(f.regional or ()),
            )
        )
        for f in name.variants
    )
    shorts, inits = " ".join(sorted(name.short_forms)), " ".join(sorted(name.initialisms))
    return "#".join((_FORMS_VERSION, _checksum(name.raw), variants, shorts, inits))


def load_forms(raw: str, text: str, block_prefix: int = BLOCK_PREFIX) -> CompanyName | None:
    """`analyse(raw, block_prefix)` from the text `dump_forms` wrote for `raw`, or None when
    the text is of another version or name (the caller then analyses the name)."""
    parts = text.split("#")
    if len(parts) != 5 or parts[0] != _FORMS_VERSION or parts[1] != _checksum(raw):
        return None
    variants: list[NameForms] = []
    for chunk in parts[2].split(";") if parts[2] else ():
        fields = chunk.split("|")
        if len(fields) != 4 or not fields[0]:
            return None
        full = tuple(fields[0].split())
        core = tuple(fields[1].split()) or full
        base = tuple(fields[2].split()) or core
        variants.append(NameForms(full, core, base, tuple(fields[3].split()) or None))
    shorts, inits = frozenset(parts[3].split()), frozenset(parts[4].split())
    return CompanyName.of(raw, tuple(variants), shorts, inits, block_prefix)


class Outline(NamedTuple):
    """What a quick screen reads of a stored analysis (`dump_forms`) without building the
    `CompanyName`: each variant's core and base `Level`, the exact and regional forms (no
    spaces), the short forms and the initialisms."""

    levels: list[tuple[Level, Level]]
    exact: set[str]
    regional: set[str]
    short_forms: list[str]
    initialisms: list[str]


def read_outline(raw: str, text: str) -> Outline | None:
    """The `Outline` of the analysis `dump_forms` wrote for `raw`, or None when the text is
    of another version or name (as `load_forms`), without building the `CompanyName`."""
    parts = text.split("#")
    if len(parts) != 5 or parts[0] != _FORMS_VERSION or parts[1] != _checksum(raw):
        return None
    levels: list[tuple[Level, Level]] = []
    exact: set[str] = set()
    regional: set[str] = set()
    for chunk in parts[2].split(";") if parts[2] else ():
        fields = chunk.split("|")
        if len(fields) != 4 or not fields[0]:
            return None
        core = fields[1] or fields[0]
        base = fields[2] or core
        core_compact = core.replace(" ", "")
        base_compact = core_compact if base is core else base.replace(" ", "")
        levels.append(((core, core_compact), (base, base_compact)))
        exact.add(core_compact)
        exact.add(base_compact)
        if fields[3]:
            regional.add(fields[3].replace(" ", ""))
    return Outline(levels, exact, regional, parts[3].split(), parts[4].split())


def _checksum(raw: str) -> str:
    return f"{zlib.crc32(raw.encode('utf-8', 'surrogatepass')):08x}"
