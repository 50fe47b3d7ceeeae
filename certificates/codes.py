"""Certificate codes: unguessable, easy to type, self-checking. Pure: no Django imports.

A code is 15 random Crockford base32 symbols (75 bits) and one Luhn mod 32 check symbol, shown in
four groups of four: ``K7QM-3XWD-9PHT-R2VA``. Crockford's alphabet has no I, L, O or U, so what a
person reads off paper maps back unambiguously; the Luhn check (rather than Crockford's mod 37,
whose extra symbols ``*~$=U`` are awkward in URLs) catches every single-symbol typo and most
swapped neighbours before we ever query the database.
"""

from __future__ import annotations

import secrets
import unicodedata
from enum import Enum

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# What people type for what they read: Crockford's decoding aliases.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", " -_.\t\u2212")

RANDOM_SYMBOLS = 15
CODE_LENGTH = RANDOM_SYMBOLS + 1
GROUP = 4


def check_symbol(payload: str) -> str:
    """Luhn mod N (N = 32) check symbol for ``payload`` (canonical symbols only)."""
    factor = 2
    total = 0
    for symbol in reversed(payload):
        addend = factor * _VALUE[symbol]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def new_code() -> str:
    """A fresh canonical code (16 symbols, no separators) from the OS's CSPRNG."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return payload + check_symbol(payload)


def _is_separator(char: str) -> bool:
    # Spaces of any width, dashes of any length, and what copying from a PDF, a chat or a web page
    # brings along unseen: zero-width spaces and joiners, direction marks, the BOM (category Cf).
    return unicodedata.category(char) in {"Zs", "Zl", "Zp", "Pd", "Cf", "Cc"}


def _candidate(typed: str) -> str:
    # NFKC folds full-width letters (typed on a CJK keyboard) and the like to plain ones.
    folded = unicodedata.normalize("NFKC", typed).translate(_SEPARATORS)
    return "".join(char for char in folded if not _is_separator(char)).upper().translate(_ALIASES)


class Problem(Enum):
    """Why a typed code is not a code, in words a person can act on."""

    EMPTY = "Type the certificate ID printed on the certificate."
    LENGTH = "A certificate ID has 16 letters and digits; this has {count}."
    SYMBOLS = "A certificate ID never has {symbols}: check it against the certificate."
    MISTYPED = "One character looks mistyped: check the ID against the certificate."


def diagnose(typed: str) -> tuple[str | None, str]:
    """(canonical code, "") for a well-formed code, else (None, what is wrong with it).

    Well-formed is not the same as issued: only the database knows that. Accepts lower case,
    spaces, hyphens and dashes of any kind, invisible characters and the look-alikes O/I/L.
    """
    if not isinstance(typed, str) or len(typed) > 64:
        return None, Problem.LENGTH.value.format(count="too many")
    candidate = _candidate(typed)
    if not candidate:
        return None, Problem.EMPTY.value
    foreign = sorted({symbol for symbol in candidate if symbol not in _VALUE})
    if foreign:
        return None, Problem.SYMBOLS.value.format(symbols=" ".join(foreign))
    if len(candidate) != CODE_LENGTH:
        return None, Problem.LENGTH.value.format(count=len(candidate))
    if check_symbol(candidate[:-1]) != candidate[-1]:
        return None, Problem.MISTYPED.value
    return candidate, ""


def normalize(typed: str) -> str | None:
    """The canonical code for what a person typed, or None if it cannot be a valid code."""
    return diagnose(typed)[0]


def display(code: str) -> str:
    """``K7QM3XWD9PHTR2VA`` -> ``K7QM-3XWD-9PHT-R2VA``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))
