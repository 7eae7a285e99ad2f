"""Names as the LESC's matcher compares them (pure): the same normalisation on both sides, a
sound spelling that puts officers' spellings of one name together, and the blocking keys the
store indexes.

1. ``plain``: accents stripped (NFKD, combining marks dropped), apostrophes dropped, upper
   case, every other character but A-Z a break: hyphens split compound names into parts
   (``GARCÍA-LÓPEZ`` -> ``GARCIA LOPEZ``, ``O'BRIEN`` -> ``OBRIEN``).
2. ``sound``: one part respelled by the rules in ``_RULES`` (first letters K/C/Q, PH/F, G/J,
   V/B/W, Y/I/J; silent letters KN GN PN PS WR, initial H, H after a consonant; doubled
   letters; transliterations KS/X, TCH/CH, SCH/SZ/SH, ZH, KH, OU, Y, -OV/-OFF/-OW), so that
   names that sound alike are spelled alike.
3. ``key``: the blocking key of a part: Soundex's digits of the sound spelling with the first
   letter coded too (so that a changed first letter of the same class keeps the key), 4
   characters. The store indexes (key, DOB) for every part of every name, surname and given
   names, so a query finds a person through any part it spells alike: a swapped name, one half
   of a compound surname, a misspelt surname with the given name right.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import jellyfish

_NOT_LETTER = re.compile(r"[^A-Z]+")
_VOWELS = "AEIOU"

# (pattern, replacement, needle), applied in order to one part; a rule whose needle (letters
# every match of its pattern holds) is not in the part cannot match and is skipped: a substring
# test costs a twentieth of a substitution that finds nothing.
_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), replacement, needle)
    for pattern, replacement, needle in (
        (r"^(KN|GN|PN)", "N", "N"),  # silent first letters
        (r"^PS", "S", "PS"),
        (r"^WR", "R", "WR"),
        (r"^TCH", "CH", "TCH"),
        (r"^H(?=[AEIOUY])", "", "H"),  # silent initial H (HERNANDEZ, ERNANDEZ)
        (r"^[YIJ](?=[AEIOU])", "J", ""),  # YURI, IURI, JURI
        (r"^G(?=[EIY])", "J", "G"),  # GEORGE, JORGE
        (r"^X", "S", "X"),  # XAVIER, ZAVIER
        (r"^W", "V", "W"),
        (r"PH", "F", "PH"),
        (r"(SCH|SZ|SH|ZH|CZ|TCH)", "S", ""),  # transliterations of one sound
        (r"CH", "K", "CH"),
        (r"KH", "K", "KH"),
        (r"C(?=[EIY])", "S", "C"),
        (r"CK|C|Q", "K", ""),
        (r"KU(?=[AEIOU])", "K", "KU"),  # QU
        (r"X", "KS", "X"),
        (r"GH", "G", "GH"),
        (r"(?<=[BDFGKLMNPRSTVZ])H", "", "H"),  # silent H after a consonant (THOMAS, TOMAS)
        (r"([OE])(V|W|FF)$", r"\1F", ""),  # -OV, -OW, -OFF: one Russian ending
        (r"W", "V", "W"),
        (r"V", "B", "V"),  # V, B and W sound alike in many languages (ALVAREZ, ALBAREZ)
        (r"Z", "S", "Z"),
        (r"Y", "I", "Y"),
        (r"OU", "U", "OU"),
        (r"EE|IE", "I", "E"),
        (r"(.)\1+", r"\1", ""),  # doubled letters
    )
)
_CLASS = {  # Soundex's letter classes, for the first letter too
    **dict.fromkeys("BFPV", "1"),
    **dict.fromkeys("CGJKQSXZ", "2"),
    **dict.fromkeys("DT", "3"),
    "L": "4",
    **dict.fromkeys("MN", "5"),
    "R": "6",
}


def unaccented(text: str) -> str:
    """``text`` upper case without accents (NFKD, combining marks dropped): ``NÚÑEZ`` ->
    ``NUNEZ``."""
    if text.isascii():
        return text.upper()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def plain(text: str) -> str:
    """Accents and apostrophes dropped (``O'BRIEN`` -> ``OBRIEN``), upper case, any other
    character but A-Z a break between parts, parts separated by one space."""
    letters = unaccented(text).replace("'", "").replace("\u2019", "")
    return _NOT_LETTER.sub(" ", letters).strip()


def parts(text: str) -> tuple[str, ...]:
    return tuple(plain(text).split())


@functools.lru_cache(maxsize=65_536)
def sound(part: str) -> str:
    """The sound spelling of one plain part."""
    for pattern, replacement, needle in _RULES:
        if needle in part:  # "" is in every part
            part = pattern.sub(replacement, part)
    return part


@functools.lru_cache(maxsize=65_536)
def key(part: str) -> str:
    """The blocking key of one plain part: the class of its sound spelling's first letter
    (``0`` for a vowel) and Soundex's three digits."""
    spelled = sound(part) or part
    first = _CLASS.get(spelled[0], "0")
    return first + jellyfish.soundex(spelled)[1:]


@functools.lru_cache(maxsize=65_536)
def split(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``LAST, FIRST MIDDLE`` as (surname parts, given-name parts), plain."""
    surname, _, given = name.partition(",")
    return parts(surname), parts(given)


def name_keys(name: str) -> set[str]:
    """The keys of every part of a name of two letters or more (initials have none)."""
    return {key(part) for part in plain(name.replace(",", " ")).split() if len(part) > 1}


def surname_keys(name: str) -> set[str]:
    surname, _ = split(name)
    return {key(part) for part in surname if len(part) > 1}
