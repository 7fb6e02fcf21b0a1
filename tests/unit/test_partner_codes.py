"""Partner codes: what a typed code must look like, and the one a partner gets by default."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from domain.partner import check_code, derive_code


class TestCheckCode:
    @pytest.mark.parametrize(
        ("typed", "code"),
        [("NW", "NW"), ("nw", "NW"), (" NW ", "NW"), ("GC2", "GC2"), ("ABCDEF", "ABCDEF"),
         ("A1", "A1")],
    )  # fmt: skip
    def test_two_to_six_letters_or_digits_starting_with_a_letter(
        self, typed: str, code: str
    ) -> None:
        assert check_code(typed) == code

    @pytest.mark.parametrize("typed", ["", " ", "N", "ABCDEFG", "2W", "N-W", "N W", "NÖ", "N_W"])
    def test_anything_else_is_refused_naming_the_rule(self, typed: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            check_code(typed)

        assert refused.value.field == "code"
        assert refused.value.message.endswith(
            "is not a partner code: use 2 to 6 letters or digits, starting with a letter."
        )

    @pytest.mark.parametrize("typed", ["DR", "dr", " Dr "])
    def test_dr_is_reserved_for_the_legacy_references(self, typed: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            check_code(typed)

        assert refused.value.message == (
            "DR is reserved for the references given before partner codes; pick another code."
        )


class TestDeriveCode:
    @pytest.mark.parametrize(
        ("name", "code"),
        [
            ("Northwind Traders", "NT"),
            ("Acme Resellers", "AR"),
            ("Globex Corporation", "GC"),
            ("Initech", "IN"),
            ("acme", "AC"),
            ("Hewlett-Packard Enterprise", "HPE"),
            ("Johnson & Johnson", "JJ"),
            ("Macy's Inc", "MI"),
            ("Société Générale", "SG"),
            ("3M Company", "MC"),
            ("The Very Big Long Company Name Of Things", "TVBLCN"),
            ("X", "XP"),
            ("", "PP"),
        ],
    )
    def test_initials_of_the_words_or_a_single_words_first_two_letters(
        self, name: str, code: str
    ) -> None:
        assert derive_code(name) == code
        assert check_code(code) == code

    def test_a_taken_code_gets_the_next_free_number(self) -> None:
        assert derive_code("Northwind Traders", {"NT"}) == "NT2"
        assert derive_code("Northwind Traders", {"NT", "nt2", "NT3"}) == "NT4"

    def test_a_long_code_makes_room_for_its_number(self) -> None:
        assert derive_code("A B C D E F", {"ABCDEF"}) == "ABCDE2"

    def test_never_derives_the_reserved_dr(self) -> None:
        assert derive_code("Dr. Reddy's") == "DR2"
        assert derive_code("Deal Registrations") == "DR2"
