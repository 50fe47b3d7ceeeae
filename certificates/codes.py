"""Certificate codes: unguessable, easy to type, self-checking. Pure: no Django imports.

A code is 15 random Crockford base32 symbols (75 bits) and one Luhn mod 32 check symbol, shown in
four groups of four: ``K7QM-3XWD-9PHT-R2VA``. Crockford's alphabet has no I, L, O or U, so what a
person reads off paper maps back unambiguously; the Luhn check (rather than Crockford's mod 37,
whose extra symbols ``*~$=U`` are awkward in URLs) catches every single-symbol typo and most
swapped neighbours before we ever query the database.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# What people type for what they read: Crockford's decoding aliases.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", " -_.\t\u00a0\u2010\u2011\u2012\u2013\u2014")

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


def normalize(typed: str) -> str | None:
    """The canonical code for what a person typed, or None if it cannot be a valid code.

    Accepts lower case, spaces, hyphens and the look-alikes O/I/L; rejects wrong length, foreign
    symbols and a failing check symbol.
    """
    if not isinstance(typed, str) or len(typed) > 64:
        return None
    candidate = typed.translate(_SEPARATORS).upper().translate(_ALIASES)
    if len(candidate) != CODE_LENGTH or any(symbol not in _VALUE for symbol in candidate):
        return None
    if check_symbol(candidate[:-1]) != candidate[-1]:
        return None
    return candidate


def display(code: str) -> str:
    """``K7QM3XWD9PHTR2VA`` -> ``K7QM-3XWD-9PHT-R2VA``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))
