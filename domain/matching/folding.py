"""Text folded for comparison: case, accents, ligatures and scripts to plain letters; words."""

from __future__ import annotations

import re
import unicodedata

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
_DROPPED = frozenset({"and", "und", "et"})


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
