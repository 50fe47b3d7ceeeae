"""Names and other short text as learners and LMSs send them, made safe to print. Pure: no ORM.

What cannot be printed is removed at the edge, before it reaches the verify page, a PDF or an email's
To: header: NUL (PostgreSQL refuses it), other C0/C1 controls (a newline in a name is a header
injection), and the bidi controls that make "Ada" read as something else (Trojan Source). Zero-width
joiner and non-joiner stay: Indic and Arabic names need them.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Embedding, override and isolate controls, and the invisible direction marks.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # LRE RLE PDF LRO RLO
    "\u2066\u2067\u2068\u2069"  # LRI RLI FSI PDI
    "\u200e\u200f\u061c"  # LRM RLM ALM
)
# Line breaks and tabs separate words: they become spaces, not nothing ("Ada\nLovelace").
_SPACES = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")


# What clean_name removes or turns into a space, as one str.translate table: the per-character
# Python loop it replaces was the largest single cost of a 50,000-row import (docs/PERFORMANCE.md).
_CLEAN_TABLE: dict[int, str | None] = {
    **{code: None for code in [*range(0x20), *range(0x7F, 0xA0)]},
    **{ord(char): None for char in BIDI_CONTROLS},
    **{ord(char): " " for char in _SPACES},
}


def clean_name(value: str | None) -> str:
    """NFC, without control or bidi characters, whitespace collapsed to single spaces, trimmed."""
    if not value:
        return ""
    if isinstance(value, str) and len(value) <= _REMEMBERED_LENGTH:
        return _clean_text(value)
    return _clean_text.__wrapped__(str(value))


# Remembered: a bulk import cleans the same cohort, labels and values on every row, and each name
# twice (reading the row, then planning it). Only short values, so the cache stays a few megabytes.
_REMEMBERED_LENGTH = 300


@functools.lru_cache(maxsize=4096)
def _clean_text(text: str) -> str:
    # Every character the table changes is unprintable to Python (Cc, Cf, Zl, Zp): most values skip it.
    if not text.isprintable():
        text = text.translate(_CLEAN_TABLE)
    # Normalise after removing: a control between a letter and its accent hid a composition.
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


# A tag (<b>, </i>, <script ...>, <!-- -->) or BBCode ([url], [b], [/img]): an LMS field someone
# pasted markup into, never a name to print.
_MARKUP = re.compile(
    r"<\s*[/!]?\s*[a-z][^<>]*>|<!--|\[\s*/?\s*(?:url|b|i|u|s|img|link|color|size|quote|code)\b[^\]]*\]", re.I
)
# What a spreadsheet runs as a formula when the cell starts with it (OWASP's CSV injection list);
# a hyphen only before something that is not a letter, so "-Ann" typed by mistake stays a name.
_FORMULA = re.compile(r"^(?:[=+@\uff1d\uff0b\uff20]|-(?=[^\w\s]|\d))")
NAME_LOOKS_LIKE_MARKUP = "name looks like markup: {name!r}"
NAME_LOOKS_LIKE_FORMULA = "name looks like a spreadsheet formula: {name!r}"


def name_problem(name: str | None) -> str:
    """Why a name must be checked by staff before it is printed (markup, a formula), or ''.

    The CSV import and the webhook store what the LMS sent; issuance holds the certificate with
    this reason until staff correct the name, so it is never printed or emailed as it came.
    """
    text = clean_name(name)
    if not text:
        return ""
    if _FORMULA.match(text):
        return NAME_LOOKS_LIKE_FORMULA.format(name=text[:80])
    if ("<" in text or "[" in text) and _MARKUP.search(text):  # every markup pattern starts with one
        return NAME_LOOKS_LIKE_MARKUP.format(name=text[:80])
    return ""


def email_key(value: str | None) -> str:
    """An address as compared: no surrounding spaces, no case ("Ada@Example.COM " is ada@example.com).

    Mailbox names are case-sensitive in theory and never in practice; every LMS, webhook and
    staff form that sends the same address in another case means the same learner.
    """
    return clean_name(value).casefold()


# "Ada Lovelace, PhD" is not "PhD Ada Lovelace": a comma before one of these is not last-first.
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "mba", "msc", "bsc"})


def last_first(value: str) -> str:
    """ "Lovelace, Ada" printed "Ada Lovelace"; anything but one comma between two parts unchanged."""
    if "," not in value:  # what every branch below gives a value without a comma, without the checks
        return value.strip()
    parts = [part.strip() for part in value.split(",")]
    if name_problem(value):  # kept as sent, so staff see (and the hold names) what really came
        return value.strip()
    if len(parts) != 2 or not all(parts) or parts[1].rstrip(".").replace(".", "").lower() in _NAME_SUFFIXES:
        return value.strip().strip(",").strip()
    return f"{parts[1]} {parts[0]}"


def clean_custom_fields(value: dict | None) -> dict:
    """Custom fields with every label and text value (or list item) cleaned; empty ones dropped."""
    cleaned: dict = {}
    for label, item in (value or {}).items():
        if isinstance(item, list):
            item = [clean_name(i) if isinstance(i, str) else i for i in item]
            item = [i for i in item if i != ""]
        elif isinstance(item, str):
            item = clean_name(item)
        if clean_name(str(label)) and item not in ("", [], None):
            cleaned[clean_name(str(label))] = item
    return cleaned


# Letters Unicode does not decompose into a base letter and a mark, written as people type them.
_FOLD_EXTRA = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d"}
)


def search_fold(value: str | None) -> str:
    """``value`` as staff type it when searching: no accents, no case ("Müller", "MULLER" → "muller").

    Both the stored search text and the typed query go through this, so SQLite and PostgreSQL find the
    same rows without a database extension. Scripts without case or accents pass through unchanged.
    """
    value = value or ""
    if value.isascii():  # NFKD changes no ASCII letter, none is a mark, none is in _FOLD_EXTRA
        return " ".join(value.lower().split())
    # Word by word: every step maps characters or runs that never cross whitespace (whitespace
    # stays whitespace and composes with nothing), and names repeat (Ångström, Müller) where rows don't.
    folded = [word.lower() if word.isascii() else _fold_word(word) for word in value.split()]
    return " ".join(" ".join(folded).split())  # a folded word may be empty, or two ("a´b" is "a b")


def _fold_word(word: str) -> str:
    if len(word) > _REMEMBERED_WORD:
        return _fold_text(word)
    return _fold_remembered(word)


_REMEMBERED_WORD = 40


def _fold_text(text: str) -> str:
    bare = unicodedata.normalize("NFKD", text.casefold()).translate(_combining_marks())
    return unicodedata.normalize("NFC", bare.translate(_FOLD_EXTRA))


_fold_remembered = functools.lru_cache(maxsize=8192)(_fold_text)


#: Every code point with a combining class is below this (Unicode 15; a test checks the running one).
MARKS_END = 0x20000


@functools.cache
def _combining_marks() -> dict[int, None]:
    """Every combining mark, to delete with str.translate (a per-character generator here cost more
    than the rest of an imported row's cleaning; docs/PERFORMANCE.md)."""
    return {code: None for code in range(MARKS_END) if unicodedata.combining(chr(code))}


# A strict subset of the addresses Django's EmailValidator accepts: a dot-atom local part of common
# characters, LDH domain labels, a letters-only top-level domain, ASCII only. It decides the usual
# address in 3 µs instead of 25 (two checks a row, 50,000 rows a night); anything else still goes
# through Django's validator, so what is accepted is exactly what it accepts (tested with hypothesis).
_PLAIN_ADDRESS = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.I | re.ASCII
)


def plain_address(value: str) -> bool:
    """An ordinary address (see _PLAIN_ADDRESS) within the 254 characters an address may have:
    one Django's ``validate_email`` accepts, with nothing ``clean_name`` would change."""
    return len(value) <= 254 and _PLAIN_ADDRESS.fullmatch(value) is not None


def check_email(value: str) -> None:
    """Raise ``ValidationError`` unless Django's ``validate_email`` accepts ``value``."""
    if plain_address(value):
        return
    from django.core.validators import validate_email

    validate_email(value)
