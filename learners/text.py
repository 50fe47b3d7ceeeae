"""Names and other short text as learners and LMSs send them, made safe to print. Pure: no ORM.

What cannot be printed is removed at the edge, before it reaches the verify page, a PDF or an email's
To: header: NUL (PostgreSQL refuses it), other C0/C1 controls (a newline in a name is a header
injection), and the bidi controls that make "Ada" read as something else (Trojan Source). Zero-width
joiner and non-joiner stay: Indic and Arabic names need them.
"""

from __future__ import annotations

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
