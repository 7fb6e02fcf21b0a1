"""How alike two analysed names are: one the other's initialism, a shared typo block, and
their fuzzy similarity."""

from __future__ import annotations

from rapidfuzz import fuzz

from domain.matching.blocking import any_block_in
from domain.matching.forms import level_pairs
from domain.matching.names import CompanyName


def initialism_hit(a: CompanyName, b: CompanyName) -> tuple[str, str] | None:
    """(short form, long name) when one name abbreviates the other ("IBM", "Intl Business…")."""
    for short, long in ((a, b), (b, a)):
        hits = short.short_forms & long.initialisms
        if hits and not short.exact & long.exact:
            return min(hits), long.key
    return None


def shares_block(a: CompanyName, b: CompanyName) -> bool:
    """Whether ``a.blocks & b.blocks`` is not empty, without working out all of `b`'s.

    `a`'s blocks are worked out once and cached; `b`'s are tried one by one until one is
    among them. A lookup judges its candidates against one subject, so pass the subject as
    `a`: a candidate alike enough to share a block usually shares the first one tried.
    """
    if a.block_prefix != b.block_prefix:
        return not a.blocks.isdisjoint(b.blocks)
    return any_block_in(a.blocks, b.variants, b.block_prefix)


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


def _words_alike(ta: tuple[str, ...], tb: tuple[str, ...], min_token: float) -> bool:
    """True when the words pair up (in order or sorted) with every pair at least ``min_token``."""
    cutoff = min_token * 100
    for xs, ys in ((ta, tb), (tuple(sorted(ta)), tuple(sorted(tb)))):
        if all(fuzz.ratio(x, y, score_cutoff=cutoff) for x, y in zip(xs, ys, strict=True)):
            return True
    return False
