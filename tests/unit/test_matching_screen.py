"""Screen: rules out, from a record's stored text, only records that `match` would reject."""

from hypothesis import given, settings

from domain.matching import Aliases, CompanyRef, MatchRules, Screen, judge, match, name_forms
from domain.matching.names import analyse
from domain.matching.stored_forms import dump_forms
from tests.company_refs import company_refs, evaluation_pairs, match_rules


def kept(subject: CompanyRef, record: CompanyRef, **options: object) -> bool:
    """Whether the subject's screen keeps the record as storage holds it."""
    screen = Screen(subject, **options)  # type: ignore[arg-type]
    return screen.may_match(record.name, name_forms(record.name), record.domain, record.email)


def test_keeps_every_evaluation_match_from_either_side() -> None:
    for aliases in (Aliases.default(), Aliases.none()):
        for a, b in evaluation_pairs():
            if match(a, b, aliases=aliases) is not None:
                assert kept(a, b, aliases=aliases), (a.name, b.name)
                assert kept(b, a, aliases=aliases), (b.name, a.name)


def test_rules_out_most_evaluation_non_matches() -> None:
    strangers = [(a, b) for a, b in evaluation_pairs() if match(a, b) is None]
    ruled_out = [pair for pair in strangers if not kept(*pair)]
    assert len(ruled_out) > len(strangers) / 2


@settings(max_examples=600)
@given(company_refs(), company_refs())
def test_keeps_any_match(a: CompanyRef, b: CompanyRef) -> None:
    if match(a, b) is not None:
        assert kept(a, b)


@settings(max_examples=200)
@given(company_refs(), company_refs(), match_rules())
def test_keeps_any_match_under_other_rules(a: CompanyRef, b: CompanyRef, rules: MatchRules) -> None:
    if match(a, b, rules=rules) is not None:
        assert kept(a, b, rules=rules)


def test_rules_out_a_name_that_only_shares_a_typo_block() -> None:
    umbrella = CompanyRef("Umbrella")
    stranger = CompanyRef("Umbrellaz Tiramisu Kitchen")
    assert match(umbrella, stranger) is None
    assert not kept(umbrella, stranger)
    assert kept(umbrella, CompanyRef("Umbrela Ltd"))


def test_keeps_the_same_words_in_another_order() -> None:
    subject, record = CompanyRef("Tuzamo Kolvaro"), CompanyRef("Kolvaro Tuzamo")
    assert match(subject, record) is not None
    assert kept(subject, record)


def test_keeps_a_record_whose_website_holds_the_subjects_domain() -> None:
    subject = CompanyRef("Zeta Holdings", domain="acme.com")
    assert kept(subject, CompanyRef("Other Name", domain="https://www.acme.com/de"))
    assert not kept(subject, CompanyRef("Other Name", domain="globex.com"))


def test_keeps_initialisms_regional_arms_and_aliases_admins_add() -> None:
    assert kept(CompanyRef("IBM"), CompanyRef("International Business Machines"))
    assert kept(CompanyRef("Siemens"), CompanyRef("Siemens Schweiz AG"))
    meta, facebook = CompanyRef("Meta Platforms"), CompanyRef("Facebook")
    assert not kept(meta, facebook, aliases=Aliases.none())
    assert kept(meta, facebook, aliases=Aliases.none().with_pairs([("Meta Platforms", "Facebook")]))


def test_keeps_what_it_cannot_read() -> None:
    screen = Screen(CompanyRef("Umbrella"))
    globex = name_forms("Globex")
    assert not screen.may_match("Globex", globex)
    assert screen.may_match("Globex", None)
    assert screen.may_match("Globex Corp", globex)  # left behind by another name
    assert screen.may_match("Globex", "f0" + globex[2:])  # another version of the analysis


def test_a_nameless_subject_keeps_only_records_holding_its_domain() -> None:
    screen = Screen(CompanyRef("", domain="acme.com"))
    forms = dump_forms(analyse("Acme"))
    assert screen.may_match("Acme", forms, "acme.com")
    assert not screen.may_match("Acme", forms, "globex.com")


def test_a_screened_pair_gets_the_same_evidence_without_the_quick_tests() -> None:
    # `judge` skips the rule-out a screen already ran; it must never change the answer,
    # even for a pair no screen would have kept.
    for aliases in (Aliases.default(), Aliases.none()):
        for a, b in evaluation_pairs():
            for x, y in ((a, b), (b, a)):
                assert judge(x, y, MatchRules(), aliases) == match(x, y, aliases=aliases), (
                    x.name,
                    y.name,
                )


@settings(max_examples=600)
@given(company_refs(), company_refs(), match_rules())
def test_screening_never_changes_the_evidence(
    a: CompanyRef, b: CompanyRef, rules: MatchRules
) -> None:
    assert judge(a, b, rules, Aliases.default()) == match(a, b, rules=rules)
