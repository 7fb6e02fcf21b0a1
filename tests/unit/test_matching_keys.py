"""Keys: whenever match(a, b) finds evidence, a's lookup keys meet b's stored keys."""

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.matching import Aliases, CompanyRef, MatchRules, candidate_keys, lookup_keys, match
from domain.matching.names import analyse
from domain.matching.wordlists import COMMON_WORDS
from tests.company_refs import company_refs, evaluation_pairs, match_rules, mutate


def test_keys_have_prefixes_and_stay_short() -> None:
    keys = candidate_keys(
        CompanyRef("Microsoft Corporation", domain="microsoft.com", email="x@gmail.com")
    )
    assert "d:microsoft.com" in keys
    assert "n:microsoft" in keys
    assert not any("gmail" in k for k in keys)
    assert all(k[:2] in {"d:", "n:", "t:", "i:", "s:", "a:"} and len(k) <= 48 for k in keys)


def test_alias_and_initialism_keys() -> None:
    assert any(k.startswith("a:") for k in candidate_keys(CompanyRef("Facebook")))
    long, short = CompanyRef("International Business Machines"), CompanyRef("IBM")
    assert "i:ibm" in candidate_keys(long)
    assert "s:ibm" in candidate_keys(short)
    assert "i:ibm" in lookup_keys(short) & candidate_keys(long, aliases=Aliases.none())
    assert "s:ibm" in lookup_keys(long) & candidate_keys(short, aliases=Aliases.none())


def test_long_names_with_the_same_initials_share_no_initialism_key() -> None:
    a, b = CompanyRef("Sodamo Labs"), CompanyRef("Sami Lu")
    assert "i:sl" in candidate_keys(a)
    assert "i:sl" in candidate_keys(b)
    assert not lookup_keys(a) & candidate_keys(b)
    assert match(a, b) is None


def test_lookup_and_stored_keys_differ_only_in_initialisms() -> None:
    ref = CompanyRef("Procter & Gamble Co.", domain="pg.com")
    stored, looked_up = candidate_keys(ref), lookup_keys(ref)
    assert {k for k in stored if k[:2] not in {"i:", "s:"}} == {
        k for k in looked_up if k[:2] not in {"i:", "s:"}
    }
    assert "i:pg" in stored
    assert "s:pg" in looked_up


def test_a_nameless_record_still_has_its_domain_key() -> None:
    assert candidate_keys(CompanyRef("", domain="acme.com")) == frozenset({"d:acme.com"})


def test_every_evaluation_match_shares_a_key() -> None:
    pairs = evaluation_pairs()
    assert len(pairs) >= 400
    for aliases in (Aliases.default(), Aliases.none()):
        for a, b in pairs:
            if match(a, b, aliases=aliases) is not None:
                for x, y in ((a, b), (b, a)):
                    shared = lookup_keys(x, aliases=aliases) & candidate_keys(y, aliases=aliases)
                    assert shared, (a.name, b.name)


@settings(max_examples=600)
@given(company_refs(), company_refs())
def test_any_match_shares_a_candidate_key(a: CompanyRef, b: CompanyRef) -> None:
    if match(a, b) is not None:
        assert lookup_keys(a) & candidate_keys(b)
        assert lookup_keys(b) & candidate_keys(a)


@settings(max_examples=200)
@given(company_refs(), company_refs(), match_rules())
def test_the_property_holds_under_other_rules(
    a: CompanyRef, b: CompanyRef, rules: MatchRules
) -> None:
    if match(a, b, rules=rules) is not None:
        assert lookup_keys(a, rules=rules) & candidate_keys(b, rules=rules)
        assert lookup_keys(b, rules=rules) & candidate_keys(a, rules=rules)


def test_typo_blocks_reach_past_a_short_first_word() -> None:
    kolu = lookup_keys(CompanyRef("Kolu Trading"))
    assert "t:olutrad" in kolu & candidate_keys(CompanyRef("Lolu Trading"))
    shared = kolu & candidate_keys(CompanyRef("Kolu Systems"))
    assert not {key for key in shared if key.startswith("t:")}


def test_names_are_analysed_with_the_rules_block_length_by_default() -> None:
    assert MatchRules().block_prefix == 8
    assert all(len(block) <= 8 for block in analyse("Vodafone Group Plc").blocks)
    assert "vodafone" in analyse("Vodafone Group Plc").blocks


def test_a_common_leading_word_does_not_fill_a_typo_block() -> None:
    a, b = CompanyRef("Madasena Global"), CompanyRef("Masivena Global")
    assert "globalma" not in analyse(a.name).blocks
    assert "madasena" in analyse(a.name).blocks
    assert not {k for k in lookup_keys(a) & candidate_keys(b) if k.startswith("t:")}
    assert match(a, b) is None  # only the common word made them look alike


def test_a_short_common_word_keeps_its_exact_block() -> None:
    a, b = CompanyRef("Vodaphone Group"), CompanyRef("Vodafone Group Plc")
    assert match(a, b) is not None
    assert "t:groupvod" in lookup_keys(a) & candidate_keys(b)
    assert "groupvo" not in analyse(a.name).blocks  # no deletions of the common-led block


def test_a_word_of_three_letters_is_a_block_as_it_is() -> None:
    """Found by hypothesis: the two shared only "na", which hundreds of thousands of names
    share at CRM scale, so no lookup could find one from the other."""
    a, b = CompanyRef("Global Global Ona"), CompanyRef("Global Global Nna")
    assert "t:ona" in candidate_keys(a)
    assert "t:na" not in candidate_keys(a)
    assert match(a, b) is None


def _filled_by_common_words(key: str) -> bool:
    """A typo block that is common words plus at most two letters of another word: shared
    by hundreds of names in a large CRM, so a lookup can never use it."""
    if not key.startswith("t:"):
        return False
    rest = key[2:]
    while len(rest) > 2:
        word = next((w for w in COMMON_WORDS if rest.startswith(w)), None)
        if word is None:
            return any(w.startswith(rest) for w in COMMON_WORDS)
        rest = rest[len(word) :]
    return True


_BUSINESS = ["Global", "Group", "International", "Systems", "Trading", "Tech", "Solutions"]
_SIBLINGS = [
    ("Madasena", "Masivena"),
    ("Nona", "Nohina"),
    ("Vodafone", "Vodaphone"),
    ("Kolu", "Lolu"),
    ("Riel", "Rebiel"),
    ("Joruni", "Orni"),
]


@st.composite
def business_name_pairs(draw: st.DrawFn) -> tuple[CompanyRef, CompanyRef]:
    """Two names of the same shape: own words (or their look-alikes) and common business
    words in the same order, each word perhaps with a typo."""
    data = draw(st.data())
    own = draw(st.lists(st.sampled_from(_SIBLINGS), min_size=1, max_size=2))
    common = [(w, w) for w in draw(st.lists(st.sampled_from(_BUSINESS), max_size=2))]
    shape = draw(st.permutations([*own, *common]))
    names = []
    for side in (0, 1):
        picked = [pair[draw(st.integers(0, 1))] if side else pair[0] for pair in shape]
        legal = draw(st.sampled_from(["", " Inc", " GmbH", " Group"]))
        names.append(CompanyRef(" ".join(mutate(w, data) for w in picked) + legal))
    return names[0], names[1]


@settings(max_examples=800)
@given(business_name_pairs())
def test_any_match_shares_a_key_not_filled_by_common_words(
    pair: tuple[CompanyRef, CompanyRef],
) -> None:
    a, b = pair
    if match(a, b) is not None:
        for x, y in ((a, b), (b, a)):
            shared = lookup_keys(x) & candidate_keys(y)
            assert {k for k in shared if not _filled_by_common_words(k)}, (a.name, b.name, shared)
