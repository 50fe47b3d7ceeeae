"""Names and other short text as learners and LMSs send them, made safe to print. Pure: no ORM.

What cannot be printed is removed at the edge, before it reaches the verify page, a PDF or an email's
To: header: NUL (PostgreSQL refuses it), other C0/C1 controls (a newline in a name is a header
injection), and the bidi controls that make "Ada" read as something else (Trojan Source). Zero-width
joiner and non-joiner stay: Indic and Arabic names need them.
"""

from __future__ import annotations

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


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F


def clean_name(value: str | None) -> str:
    """NFC, without control or bidi characters, whitespace collapsed to single spaces, trimmed."""
    if not value:
        return ""
    kept = []
    for char in str(value):
        if char in _SPACES:
            kept.append(" ")
        elif not _is_control(char) and char not in BIDI_CONTROLS:
            kept.append(char)
    # Normalise after removing: a control between a letter and its accent hid a composition.
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


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
    if _MARKUP.search(text):
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
    decomposed = unicodedata.normalize("NFKD", (value or "").casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(unicodedata.normalize("NFC", bare.translate(_FOLD_EXTRA)).split())
