"""Word lists for name normalisation: legal forms, group words, geography, transliteration."""

from __future__ import annotations


def _seqs(text: str) -> tuple[tuple[str, ...], ...]:
    """Comma-separated phrases as token tuples, longest first."""
    phrases = {tuple(p.split()) for p in text.split(",") if p.strip()}
    return tuple(sorted(phrases, key=lambda p: (-len(p), p)))


# Legal forms as they look after folding, dots removed and punctuation split ("S.à r.l." → sa rl).
LEGAL_SUFFIXES = _seqs(
    """
    inc, incorporated, corp, corporation, co, company, companies, cos, llc, l l c, llp, lp,
    lllp, plc, pllc, pc, ltd, limited, lda, ltda, gmbh, mbh, ag, a g, kg, kgaa, ohg, gbr, ug,
    eg, ev, e v, ek, e k, se, sa, s a, sas, s a s, sasu, sarl, sa rl, s a r l, s a rl, sau,
    s a u, sab, sl, slu, spa, s p a, srl, s r l, sapa, sca, scs, snc, bv, b v, nv, n v, vof,
    cv, kk, k k, gk, yk, tbk, persero, ooo, oao, zao, pao, pjsc, ojsc, cjsc, jsc, ao, pty,
    pte, bhd, berhad, sdn, ab, asa, as, a s, aps, oy, oyj, ab oy, hf, ehf, nyrt, zrt, kft,
    sro, s r o, spol s r o, ad, dd, doo, d o o, eireli, pvt, sae, saog, psc, qsc, wll, fze,
    fzco, fzc, sp z oo, sp zoo, spzoo, sa de cv, sab de cv, s a de c v, s a b de c v, de cv,
    s de rl, s de rl de cv, sa rl de cv, sapi de cv, private limited, public limited company,
    public company limited, limited liability company, gesellschaft mit beschrankter haftung,
    aktiengesellschaft, aktiebolag, aktiebolaget, aktieselskab, allmennaksjeselskap,
    kabushiki kaisha, kabushikigaisha, kabushikikaisha, naamloze vennootschap,
    besloten vennootschap, societe anonyme, sociedad anonima, societa per azioni,
    genossenschaft, cie, compagnie, sdn bhd
    """
)
LEGAL_PREFIXES = _seqs(
    """
    the, pt, pjsc, pao, oao, ooo, zao, ao, jsc, ojsc, cjsc, tov, ab, aktiebolaget, uab, sia,
    kabushiki kaisha, kabushikigaisha, koninklijke, compagnie de, compagnie, cie
    """
)
# Long legal words a typo may hide in ("Corporaton"); the last token is compared fuzzily.
LEGAL_LONG = (
    "corporation",
    "incorporated",
    "limited",
    "company",
    "aktiengesellschaft",
    "companies",
)
# Corporate-structure words that do not change which business is meant.
GROUP_WORDS = _seqs("group, groupe, gruppe, grupo, gruppo, holding, holdings, grp")
# Geography that marks a national or regional arm when it ends a name ("Siemens Schweiz").
GEOGRAPHY = _seqs(
    """
    america, north america, usa, us, united states, uk, united kingdom, great britain, gb,
    ireland, deutschland, germany, schweiz, suisse, svizzera, switzerland, osterreich,
    oesterreich, austria, france, italia, italy, espana, spain, portugal, nederland,
    netherlands, holland, belgium, belgique, belgie, luxembourg, danmark, denmark, sverige,
    sweden, norge, norway, suomi, finland, polska, poland, czech republic, ceska republika,
    hungary, magyarorszag, romania, greece, hellas, turkey, turkiye, russia, rus, india,
    china, hong kong, japan, korea, singapore, malaysia, indonesia, thailand, vietnam,
    philippines, australia, new zealand, nz, canada, mexico, brasil, brazil, argentina, chile,
    colombia, peru, south africa, africa, middle east, emea, apac, asia, asia pacific, europe,
    eu, latam, latin america, nordic, nordics, benelux, dach, israel, egypt, uae, saudi arabia
    """
)
# Generic business words that lead a great many names in a large CRM. A typo block that
# they would fill is cut after them ("Global Madasena" → "madasena"): "globalma" is shared
# by so many accounts that it never narrows a lookup, and a match resting on it rests on
# the common word ("Madasena Global" ~ "Masivena Global").
COMMON_WORDS = frozenset(
    """
    global international intl worldwide world universal united national general american
    systems system solutions solution technologies technology tech trading traders services
    service consulting consultants partners capital management industries industrial
    enterprises enterprise associates software networks network digital media logistics
    engineering holdings holding group ventures health healthcare financial finance insurance
    energy resources products manufacturing marketing communications development construction
    investments properties
    """.split()
)
# Words skipped when building initialisms (Bank *of* America, Chemins *de* fer).
STOPWORDS = frozenset(
    "of the and de des du la le les der die das von van y e et for fur di del della da do".split()
)
# Words after which a trailing place is part of the name ("Bank of America").
GEO_GUARDS = frozenset({"of", "de", "du", "des", "del", "di", "da", "do", "van", "von", "the"})

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
}  # fmt: skip
_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p",
    "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps",
    "ω": "o",
}  # fmt: skip
TRANSLITERATION: dict[str, str] = {**_CYRILLIC, **_GREEK}
