"""Company-name normalisation: folding, legal forms, group and geography words, initialisms."""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, TypeVar

from rapidfuzz import fuzz

from domain.matching import wordlists as words

_SPECIAL = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "đ": "d",
        "ł": "l",
        "þ": "th",
        "ð": "d",
        "ı": "i",
        "ħ": "h",
        "&": " and ",
        "+": " and ",
        "’": "'",
        "‘": "'",
        "`": "'",
        "ʼ": "'",
        "´": "'",
    }
)
_ASCII_SPECIAL = re.compile("[&+`]")
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_TRANSLIT = str.maketrans(words.TRANSLITERATION)
_WEB_SUFFIX = re.compile(r"\.(?:com|net|org|io|co|de)\b")
_NON_WORD = re.compile(r"[\W_]+")
_REPEAT = re.compile(r"^([2-9])([a-z])$")
_DROPPED = frozenset({"and", "und", "et"})


@dataclass(frozen=True, slots=True)
class NameForms:
    """One folding of a company name at each normalisation level (tuples of tokens)."""

    full: tuple[str, ...]
    core: tuple[str, ...]
    base: tuple[str, ...]
    regional: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class CompanyName:
    """Everything the matcher compares about one name, computed once per distinct string."""

    raw: str
    variants: tuple[NameForms, ...]
    exact: frozenset[str]
    regional: frozenset[str]
    short_forms: frozenset[str]
    initialisms: frozenset[str]
    block_prefix: int

    @property
    def blocks(self) -> frozenset[str]:
        """Typo blocks (see `_blocks`), worked out when first asked for: a lookup rules most
        candidates out by their scores and never needs theirs."""
        return _name_blocks(self.variants, self.block_prefix)

    @property
    def key(self) -> str:
        """The normalised name shown to people, e.g. ``"walt disney"``."""
        return " ".join(self.variants[0].core) if self.variants else ""

    @property
    def compact(self) -> str:
        """The normalised name without spaces (``"walmart"`` for ``Wal-Mart Stores, Inc.``)."""
        return "".join(self.variants[0].core) if self.variants else ""


def fold(text: str, *, german: bool = False) -> str:
    """Case, accents, ligatures, Cyrillic and Greek folded to lower-case ASCII-ish text."""
    text = text.casefold()
    if text.isascii():  # nothing to decompose or transliterate; of _SPECIAL only & + `
        return text.translate(_SPECIAL) if _ASCII_SPECIAL.search(text) else text
    if german:
        text = text.translate(_GERMAN)
    text = text.translate(_SPECIAL)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.translate(_TRANSLIT)


def tokens(text: str, *, german: bool = False) -> tuple[str, ...]:
    """Folded word tokens: dots and apostrophes joined, ``&``/``+``/``and`` dropped."""
    text = fold(text, german=german)
    if "." in text:
        text = _WEB_SUFFIX.sub(" ", text).replace(".", "")
    text = text.replace("'", "")
    return tuple([t for t in _NON_WORD.sub(" ", text).split() if t not in _DROPPED])


def _by_end(seqs: tuple[tuple[str, ...], ...], end: int) -> dict[str, tuple[tuple[str, ...], ...]]:
    """The phrases grouped by their first (`end=0`) or last (`end=-1`) word, order kept."""
    grouped: dict[str, list[tuple[str, ...]]] = {}
    for seq in seqs:
        grouped.setdefault(seq[end], []).append(seq)
    return {word: tuple(group) for word, group in grouped.items()}


# The word lists by the word a phrase ends or starts with: a name is compared only with the
# phrases that can match it (the same first match as scanning every phrase in order).
_LEGAL_LAST = _by_end(words.LEGAL_SUFFIXES, -1)
_LEGAL_FIRST = _by_end(words.LEGAL_PREFIXES, 0)
_GROUP_LAST = _by_end(words.GROUP_WORDS, -1)
_GROUP_FIRST = _by_end(words.GROUP_WORDS, 0)
_GEOGRAPHY_LAST = _by_end(words.GEOGRAPHY, -1)
_Phrases = dict[str, tuple[tuple[str, ...], ...]]


def _strip_end(toks: tuple[str, ...], by_last: _Phrases) -> tuple[str, ...]:
    """Remove phrases from the end, repeatedly, always keeping at least one token."""
    while len(toks) > 1:
        for seq in by_last.get(toks[-1], ()):
            n = len(seq)
            if len(toks) > n and toks[-n:] == seq:
                toks = toks[:-n]
                break
        else:
            return toks
    return toks


def _strip_start(toks: tuple[str, ...], by_first: _Phrases) -> tuple[str, ...]:
    """Remove phrases from the start, repeatedly, always keeping at least one token."""
    while len(toks) > 1:
        for seq in by_first.get(toks[0], ()):
            n = len(seq)
            if len(toks) > n and toks[:n] == seq:
                toks = toks[n:]
                break
        else:
            return toks
    return toks


def _strip_legal(toks: tuple[str, ...]) -> tuple[str, ...]:
    """Legal forms as prefix or suffix, a leading "The", and a misspelt trailing legal word."""
    toks = _strip_start(_strip_end(toks, _LEGAL_LAST), _LEGAL_FIRST)
    if len(toks) > 1 and len(toks[-1]) >= 7 and _misspelt_legal(toks[-1]):
        toks = _strip_end(toks[:-1], _LEGAL_LAST)
    return toks


@lru_cache(maxsize=4096)
def _misspelt_legal(word: str) -> bool:
    """A long legal word with a typo ("Corporatoin"); cached: the words that ask repeat
    ("solutions", "systems" are asked about in every other name)."""
    return any(fuzz.ratio(word, legal) >= 88 for legal in words.LEGAL_LONG)


def _strip_geography(toks: tuple[str, ...]) -> tuple[str, ...] | None:
    """The name without a trailing place ("Siemens Schweiz" → "siemens"), or None."""
    for seq in _GEOGRAPHY_LAST.get(toks[-1], ()):
        n = len(seq)
        if len(toks) > n and toks[-n:] == seq and toks[-n - 1] not in words.GEO_GUARDS:
            return toks[:-n]
    return None


def _forms(raw: str, *, german: bool) -> NameForms | None:
    """All normalisation levels of one folding, or None when nothing word-like remains."""
    full = tokens(raw, german=german)
    if not full:
        return None
    core = _strip_legal(full)
    base = _strip_start(_strip_end(core, _GROUP_LAST), _GROUP_FIRST)
    return NameForms(full=full, core=core, base=base, regional=_strip_geography(base))


def _initials(toks: tuple[str, ...], *, min_len: int = 1) -> str | None:
    """First letters of the significant words (two or more), or None for fewer than two."""
    picked = [t for t in toks if t not in words.STOPWORDS and len(t) >= min_len]
    return "".join(t[0] for t in picked) if len(picked) >= 2 else None


def _short_form(toks: tuple[str, ...]) -> str | None:
    """The name as an abbreviation ("IBM", "P&G", "3M" → "mmm"), or None if it is not one."""
    compact = "".join(toks)
    if not 2 <= len(compact) <= 4 or not (len(toks) == 1 or all(len(t) <= 2 for t in toks)):
        return None
    repeated = _REPEAT.match(compact)
    return repeated[2] * int(repeated[1]) if repeated else compact


def _widened(full: tuple[str, ...], core: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The core plus the word after it (…Banking *Corporation*: HSBC) or before it (KLM)."""
    n = len(core)
    for i in range(len(full) - n + 1):
        if full[i : i + n] == core:
            return [full[i : i + n + 1], full[max(i - 1, 0) : i + n]]
    return []


def _deletions(text: str) -> set[str]:
    """The text and every string made by deleting one of its characters."""
    found = {text[:i] + text[i + 1 :] for i in range(len(text))}
    found.add(text)
    return found


_OWN_LETTERS = 3
"""A block that starts with common words holds at least this many letters of the others."""


# Common words of 5+ letters and their one-deletion neighbourhoods: a word sharing one of
# these strings is a common word with a typo ("Gllobal", "Sytems").
_COMMON_NEAR = frozenset(s for w in words.COMMON_WORDS if len(w) >= 5 for s in _deletions(w))
# Their first three letters. A token's one-deletion strings start with its own first three
# letters, or (deleting one of them) with one of three others: when none of those four is
# here, none of its deletions is in _COMMON_NEAR, and they need not be worked out.
_COMMON_NEAR_HEADS = frozenset(s[:3] for s in _COMMON_NEAR)


@lru_cache(maxsize=65536)
def _is_common(token: str) -> bool:
    """A common business word, or one with a typo (one edit, words of five letters or more)."""
    if token in words.COMMON_WORDS:
        return True
    if len(token) < 5:
        return False
    heads = _COMMON_NEAR_HEADS
    t = token
    if (
        t[:3] not in heads
        and t[1:4] not in heads
        and t[0] + t[2:4] not in heads
        and t[:2] + t[3] not in heads
    ):
        return False  # most names' first words: a CRM's are mostly distinct, uncached
    return not _COMMON_NEAR.isdisjoint(_deletions(token))


def _block_texts(toks: tuple[str, ...], prefix: int) -> tuple[str, str | None]:
    """(the first `prefix` letters after any leading common business words, the last word
    always kept; the first `prefix` letters of all the words when they lead with common
    words yet hold `_OWN_LETTERS` of the others, else None).

    "global madasena" gives ("madasena", None): "globalma" is shared by hundreds of names
    at CRM scale. "group vodaphone" gives ("vodaphon", "groupvod")."""
    skipped = 0
    while skipped < len(toks) - 1 and _is_common(toks[skipped]):
        skipped += 1
    own = "".join(toks[skipped:])[:prefix]
    if not skipped:
        return own, None
    whole = "".join(toks)[:prefix]
    lead = sum(len(token) for token in toks[:skipped])
    return own, whole if len(whole) - lead >= _OWN_LETTERS else None


def _block_orders(forms: NameForms) -> set[tuple[str, ...]]:
    """The word sequences typo blocks are cut from: core and base, in word order and sorted."""
    return {forms.core, forms.base, tuple(sorted(forms.core)), tuple(sorted(forms.base))}


def _blocks(forms: NameForms, prefix: int) -> set[str]:
    """Typo-tolerant blocking keys of each form, in word order and sorted: the one-deletion
    neighbourhood of its prefix past common leading words, and the prefix with them, exact
    (see `_block_texts`)."""
    out: set[str] = set()
    owns: set[str] = set()  # the orders often share one: "tuza global" and "global tuza"
    for toks in _block_orders(forms):
        own, whole = _block_texts(toks, prefix)
        owns.add(own)
        if whole is not None:
            out.add(whole)
    for own in owns:
        # "ona" and "nna" share only "na", a block of hundreds of thousands of names at CRM
        # scale that no lookup can use: a text this short is a block as it is, not a typo.
        out |= _deletions(own) if len(own) > _OWN_LETTERS else {own}
    return out


def shares_block(a: CompanyName, b: CompanyName) -> bool:
    """Whether ``a.blocks & b.blocks`` is not empty, without working out all of `b`'s.

    `a`'s blocks are worked out once and cached; `b`'s are tried one by one until one is
    among them. A lookup judges its candidates against one subject, so pass the subject as
    `a`: a candidate alike enough to share a block usually shares the first one tried.
    """
    if a.block_prefix != b.block_prefix:
        return not a.blocks.isdisjoint(b.blocks)
    mine, prefix = a.blocks, b.block_prefix
    for forms in b.variants:
        for toks in _block_orders(forms):
            own, whole = _block_texts(toks, prefix)
            if own in mine or (whole is not None and whole in mine):
                return True
            if len(own) > _OWN_LETTERS and any(
                own[:i] + own[i + 1 :] in mine for i in range(len(own))
            ):
                return True
    return False


BLOCK_PREFIX = 8
"""Typo blocks are the one-deletion neighbourhood of a name's first 8 letters, past any common
business words that lead it (see `_blocks`).

Eight, not five: at a million accounts a 4-letter block ("olut" of "Kolu Trading") is shared by
ten thousand names and says nothing, while "olutrad" is shared by the few "?olu Trading"."""


def analyse(raw: str, block_prefix: int = BLOCK_PREFIX) -> CompanyName:
    """Normalise a company name once; the result is cached per distinct string."""
    # One cache entry however it is called: `lru_cache` keys `analyse(x)` and
    # `analyse(x, 8)` apart, and an import analysed every name twice (keys, name_forms).
    return _analyse(raw, block_prefix)


def forget_analyses() -> None:
    """Empty the caches of `analyse` and of typo blocks (a bulk import's names are nearly
    all seen once: kept, they would only grow each import worker by hundreds of MB)."""
    _analyse.cache_clear()
    _name_blocks.cache_clear()


@lru_cache(maxsize=131072)
def _analyse(raw: str, block_prefix: int) -> CompanyName:
    variants: list[NameForms] = []
    # The German folding (ä → ae) differs from the plain one only when the name has an umlaut.
    umlaut = not raw.isascii() and any(ch in raw.casefold() for ch in "äöü")
    for german in (False, True) if umlaut else (False,):
        forms = _forms(raw, german=german)
        if forms is not None and forms not in variants:
            variants.append(forms)
    shorts: set[str] = set()
    inits: set[str] = set()
    for forms in variants:
        core, base = forms.core, forms.base
        for toks in level_pairs(core, base):
            if short := _short_form(toks):
                shorts.add(short)
            if initials := _initials(toks):
                inits.add(initials)
        if len(core) > 1:  # one word has no initials; it is not widened either
            inits |= {i for toks in _widened(forms.full, core) if (i := _initials(toks))}
            if initials := _initials(core, min_len=4):
                inits.add(initials)
    return _assemble(raw, tuple(variants), frozenset(shorts), frozenset(inits), block_prefix)


def _assemble(
    raw: str,
    variants: tuple[NameForms, ...],
    short_forms: frozenset[str],
    initialisms: frozenset[str],
    block_prefix: int,
) -> CompanyName:
    """A `CompanyName` from its forms, short forms and initialisms (the costly parts)."""
    exact: set[str] = set()
    regional: set[str] = set()
    for forms in variants:
        exact |= {"".join(forms.core), "".join(forms.base)}
        if forms.regional is not None:
            regional.add("".join(forms.regional))
    return CompanyName(
        raw=raw,
        variants=variants,
        exact=frozenset(exact),
        regional=frozenset(regional),
        short_forms=short_forms,
        initialisms=initialisms,
        block_prefix=block_prefix,
    )


@lru_cache(maxsize=131072)
def _name_blocks(variants: tuple[NameForms, ...], prefix: int) -> frozenset[str]:
    return frozenset(typo_blocks(variants, prefix))


def typo_blocks(variants: tuple[NameForms, ...], prefix: int) -> set[str]:
    """`CompanyName.blocks` worked out afresh (for a record keyed once, e.g. by an import:
    caching costs more than it saves there)."""
    if len(variants) == 1:
        return _blocks(variants[0], prefix)
    return {block for forms in variants for block in _blocks(forms, prefix)}


_FORMS_VERSION = "f1"
"""Bump when the analysis changes what it stores; older stored forms are then ignored."""


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
    return _assemble(raw, tuple(variants), shorts, inits, block_prefix)


Level = tuple[str, str]
"""One normalisation level of a name: its words space-separated, and without spaces."""


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
    of another version or name (as `load_forms`), at a fraction of `load_forms`' cost."""
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


def name_forms(raw: str) -> str:
    """What a record stores with its name (column ``name_forms``): `dump_forms` of it."""
    return dump_forms(analyse(raw))


def _checksum(raw: str) -> str:
    return f"{zlib.crc32(raw.encode('utf-8', 'surrogatepass')):08x}"


def initialism_hit(a: CompanyName, b: CompanyName) -> tuple[str, str] | None:
    """(short form, long name) when one name abbreviates the other ("IBM", "Intl Business…")."""
    for short, long in ((a, b), (b, a)):
        hits = short.short_forms & long.initialisms
        if hits and not short.exact & long.exact:
            return min(hits), long.key
    return None


def similarity(a: CompanyName, b: CompanyName, *, min_token: float) -> tuple[float, float]:
    """(aligned, compact) similarity in 0..1 over the core and base forms of both names.

    Aligned: same number of words and every word pair alike (≥ ``min_token``), scored with
    ``token_sort_ratio``. Compact: ``fuzz.ratio`` of the names with spaces removed.
    """
    aligned = compact = 0.0
    for fa in a.variants:
        for fb in b.variants:
            for ta, tb in level_pairs((fa.core, fb.core), (fa.base, fb.base)):
                compact = max(compact, fuzz.ratio("".join(ta), "".join(tb)) / 100)
                if len(ta) == len(tb) and _words_alike(ta, tb, min_token):
                    score = fuzz.token_sort_ratio(" ".join(ta), " ".join(tb)) / 100
                    aligned = max(aligned, score)
    return aligned, compact


T = TypeVar("T")


def level_pairs(core: T, base: T) -> tuple[T, ...]:
    """A name's core and base level (or the pairs of two names' levels), the core alone when
    the base is the same (most names have no group word to drop, so their base is their
    core)."""
    return (core,) if base == core else (core, base)


def _words_alike(ta: tuple[str, ...], tb: tuple[str, ...], min_token: float) -> bool:
    """True when the words pair up (in order or sorted) with every pair at least ``min_token``."""
    cutoff = min_token * 100
    for xs, ys in ((ta, tb), (tuple(sorted(ta)), tuple(sorted(tb)))):
        if all(fuzz.ratio(x, y, score_cutoff=cutoff) for x, y in zip(xs, ys, strict=True)):
            return True
    return False
