"""Company records for matching properties: the labelled evaluation pairs, and records
built from overlapping pieces (with typos) so that many random pairs match."""

from hypothesis import strategies as st

from bench.matching_eval import load as load_evaluation_set
from domain.matching import CompanyRef, MatchRules


def evaluation_pairs() -> list[tuple[CompanyRef, CompanyRef]]:
    """Both records of every row of the labelled evaluation set (matches and not)."""
    return [(pair.a, pair.b) for pair in load_evaluation_set()]


_PIECES = [
    "Acme",
    "Zenith",
    "International",
    "Business",
    "Machines",
    "Bank",
    "Apple",
    "Würth",
    "Wuerth",
    "Schweiz",
    "Group",
    "The",
    "of",
    "America",
    "&",
    "Co.",
    "AG",
    "Inc.",
    "Ltd",
    "I.B.M.",
    "P&G",
    "Procter",
    "Gamble",
    "Facebook",
    "Meta",
    "Platforms",
    "Газпром",
    "Gazprom",
]


def mutate(word: str, data: st.DataObject) -> str:
    """A word with a random typo (swap, drop, double or replace one character)."""
    if len(word) < 2 or not data.draw(st.booleans()):
        return word
    i = data.draw(st.integers(0, len(word) - 2))
    kind = data.draw(st.sampled_from(["swap", "drop", "double", "replace"]))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + data.draw(st.sampled_from("aeiouxyz")) + word[i + 1 :]


@st.composite
def company_refs(draw: st.DrawFn) -> CompanyRef:
    """Records built from overlapping pieces so that many pairs match."""
    data = draw(st.data())
    words = draw(st.lists(st.sampled_from(_PIECES), min_size=0, max_size=4))
    name = " ".join(mutate(w, data) for w in words) or draw(st.text(max_size=8))
    domain = draw(
        st.sampled_from([None, "acme.com", "acme.de", "https://www.zenith.io/x", "gmail.com"])
    )
    email = draw(st.sampled_from([None, "a@acme.com", "b@gmail.com", "c@zenith.io"]))
    country = draw(st.sampled_from([None, "US", "DE", "GB"]))
    return CompanyRef(name=name, domain=domain, email=email, country=country)


def match_rules() -> st.SearchStrategy[MatchRules]:
    """Matcher rules other than the default: one fuzzy threshold for both scores, and a
    typo-block prefix of three to eight letters."""
    return st.builds(
        lambda threshold, prefix: MatchRules(
            fuzzy_threshold=threshold, fuzzy_compact_threshold=threshold, block_prefix=prefix
        ),
        st.floats(0.5, 1.0),
        st.integers(3, 8),
    )
