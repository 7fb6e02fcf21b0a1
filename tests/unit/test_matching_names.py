"""Company-name normalisation: folding, legal forms, group and geography words, initialisms."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.matching import (
    CompanyRef,
    MatchRules,
    analysed_name,
    blocking,
    load_forms,
    match,
    name_forms,
)
from domain.matching import wordlists as words
from domain.matching.blocking import typo_blocks
from domain.matching.folding import fold
from domain.matching.likeness import initialism_hit, similarity
from domain.matching.names import analyse


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("The Walt Disney Company", "walt disney"),
        ("Henkel AG & Co. KGaA", "henkel"),
        ("PT Bank Central Asia Tbk", "bank central asia"),
        ("Grupo Bimbo, S.A.B. de C.V.", "grupo bimbo"),
        ("Amazon EU S.à r.l.", "amazon eu"),
        ("Novo Nordisk A/S", "novo nordisk"),
        ("AB Volvo", "volvo"),
        ("Volvo AB", "volvo"),
        ("OOO Yandex", "yandex"),
        ("Koninklijke Philips N.V.", "philips"),
        ("Atlassian Pty Ltd", "atlassian"),
        ("Samsung Electronics Co., Ltd.", "samsung electronics"),
        ("Goldman Sachs & Co. LLC", "goldman sachs"),
        ("Eni S.p.A.", "eni"),
        ("Nokia Oyj", "nokia"),
        ("Oracle Corporaton", "oracle"),
        ("Salesforce.com, Inc.", "salesforce"),
    ],
)
def test_strips_legal_forms_as_prefix_or_suffix(raw: str, key: str) -> None:
    assert analyse(raw).key == key


@pytest.mark.parametrize("raw", ["AG", "The Company", "Inc.", "S.A.", "The"])
def test_never_normalises_a_name_to_nothing(raw: str) -> None:
    assert analyse(raw).key


def test_empty_or_symbol_only_names_have_no_forms() -> None:
    assert analyse("!!!").exact == frozenset()
    assert analyse("").key == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nestlé", "Nestle"),
        ("Ørsted", "Orsted"),
        ("Mærsk", "Maersk"),
        ("Straße", "Strasse"),
        ("Würth", "Wurth"),
        ("Würth", "Wuerth"),
        ("Kühne + Nagel", "Kuehne and Nagel"),
        ("Газпром", "Gazprom"),
        ("Лукойл", "Lukoil"),
        ("ΟΤΕ", "OTE"),
    ],
)
def test_folds_accents_ligatures_and_scripts(a: str, b: str) -> None:
    assert analyse(a).exact & analyse(b).exact


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("AT&T", "AT and T"),
        ("I.B.M.", "IBM"),
        ("Wal-Mart", "Walmart"),
        ("McDONALD'S", "McDonalds"),
        ("LinkedIn", "Linked In"),
        ("T-Mobile", "TMobile"),
        ("Yahoo!", "Yahoo"),
        ("Marks & Spencer", "Marks and Spencer"),
    ],
)
def test_ignores_punctuation_case_and_ampersands(a: str, b: str) -> None:
    assert analyse(a).exact & analyse(b).exact


@pytest.mark.parametrize(
    ("a", "b"),
    [("Acme", "Acme Dental Supplies"), ("Apple", "Apple Bank"), ("Air China", "Air Canada")],
)
def test_keeps_distinguishing_words(a: str, b: str) -> None:
    left, right = analyse(a), analyse(b)
    assert not left.exact & right.exact
    assert not left.regional & right.exact
    assert not left.exact & right.regional


def test_group_and_holding_words_are_a_separate_level() -> None:
    assert "goldmansachs" in analyse("Goldman Sachs Group").exact
    assert analyse("Goldman Sachs Group").key == "goldman sachs group"


def test_trailing_geography_marks_a_regional_arm() -> None:
    assert analyse("Siemens Schweiz AG").regional == {"siemens"}
    assert analyse("Toyota Motor North America").regional == {"toyotamotor"}
    assert analyse("Bank of America").regional == frozenset()


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("IBM", "International Business Machines"),
        ("P&G", "Procter & Gamble"),
        ("HSBC", "Hongkong and Shanghai Banking Corporation"),
        ("SNCF", "Société Nationale des Chemins de fer Français"),
        ("3M", "Minnesota Mining and Manufacturing"),
        ("AT&T", "American Telephone and Telegraph Company"),
    ],
)
def test_generates_initialisms(short: str, long: str) -> None:
    assert initialism_hit(analyse(short), analyse(long)) is not None
    assert initialism_hit(analyse(long), analyse(short)) is not None


def test_an_ordinary_word_is_not_an_abbreviation() -> None:
    assert initialism_hit(analyse("Apple"), analyse("Associated Press Plumbing Lumber Ent")) is None


def test_similarity_requires_every_word_to_be_alike() -> None:
    aligned, _ = similarity(analyse("Goldman Sacks"), analyse("Goldman Sachs"), min_token=0.75)
    assert aligned > 0.9
    aligned, _ = similarity(analyse("General Motors"), analyse("General Mills"), min_token=0.75)
    assert aligned == 0.0


@given(st.text(max_size=40))
def test_analyse_never_fails_and_keeps_a_key_when_there_are_words(raw: str) -> None:
    name = analyse(raw)
    assert bool(name.key) == bool(name.variants)
    assert fold(raw) == fold(raw)


class TestStoredForms:
    """A record stores its analysed name; reading it back gives what `analyse` gives."""

    @pytest.mark.parametrize(
        "raw",
        ["Vodafone Group Plc", "Würth Österreich GmbH", "Газпром", "3M", "I.B.M.", "", "  &  "],
    )
    def test_round_trip(self, raw: str) -> None:
        assert load_forms(raw, name_forms(raw)) == analyse(raw)
        assert load_forms(raw, name_forms(raw), 5) == analyse(raw, 5)

    @given(st.text(max_size=40))
    def test_round_trip_of_any_text(self, raw: str) -> None:
        loaded = load_forms(raw, name_forms(raw))
        assert loaded == analyse(raw)
        assert loaded is not None
        assert loaded.blocks == analyse(raw).blocks
        assert typo_blocks(loaded.variants, loaded.block_prefix) == loaded.blocks  # uncached

    def test_forms_of_another_name_or_version_are_ignored(self) -> None:
        forms = name_forms("Acme Corp")
        assert load_forms("Acme Corporation", forms) is None  # the name changed alone
        assert load_forms("Acme Corp", "f0" + forms[2:]) is None
        assert load_forms("Acme Corp", "garbage") is None

    def test_the_matcher_uses_the_stored_analysis(self) -> None:
        stored = load_forms("Acme Corp", name_forms("Acme Corp"))
        assert stored is not None
        ref = CompanyRef("Acme Corp", analysed=stored)
        assert ref == CompanyRef("Acme Corp")
        assert analysed_name(ref) is stored
        assert analysed_name(ref, MatchRules(block_prefix=5)) == analyse("Acme Corp", 5)
        assert match(ref, CompanyRef("ACME Corporation")) is not None


_LETTERS = st.sampled_from("abcdefghijklmnopqrstuvwxyz")
_COMMON_5 = sorted(w for w in words.COMMON_WORDS if len(w) >= 5)


@st.composite
def _near_common_words(draw: st.DrawFn) -> str:
    """A common word of five letters or more with one letter dropped, added or changed."""
    word = draw(st.sampled_from(_COMMON_5))
    at = draw(st.integers(0, len(word) - 1))
    letter = draw(_LETTERS)
    edit = draw(st.sampled_from(["drop", "add", "change"]))
    tail = word[at + 1 :] if edit != "add" else word[at:]
    return word[:at] + ("" if edit == "drop" else letter) + tail


@given(st.one_of(st.text(_LETTERS, min_size=1, max_size=12), _near_common_words()))
def test_the_common_word_shortcut_decides_as_the_deletions_would(token: str) -> None:
    by_deletions = token in words.COMMON_WORDS or (
        len(token) >= 5 and not blocking._COMMON_NEAR.isdisjoint(blocking._deletions(token))
    )
    assert blocking._is_common.__wrapped__(token) == by_deletions
