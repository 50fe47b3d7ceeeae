"""W3C Bitstring Status List: the bitstring, and the BitstringStatusListCredential that carries it. Pure.

Bit ``i`` is the ``i``-th bit from the left (most significant first), GZIP-compressed and written
multibase base64url without padding (``u…``), as the specification says. A list has at least
131,072 entries so that one learner's bit hides among many (the specification's herd privacy).
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from datetime import datetime

from .contexts import VC_V2
from .proof import xml_datetime

MINIMUM_SIZE = 131_072
PURPOSES = ("revocation", "suspension", "refresh")


def encode_list(set_bits: Iterable[int], size: int) -> str:
    bits = bytearray(size // 8)
    for index in set_bits:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} is outside a list of {size}")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same bits give the same text, so an unchanged list is an unchanged document.
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).decode().rstrip("=")


def decode_list(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("an encodedList is multibase base64url: it starts with 'u'")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def bit(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise IndexError(f"status index {index} is outside a list of {len(bits) * 8}")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(
    *, url: str, issuer_did: str, purpose: str, set_bits: Iterable[int], size: int, ttl_seconds: int, now: datetime
) -> dict:
    """The unsigned BitstringStatusListCredential (``ttl`` is in milliseconds, as the spec writes it)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown status purpose {purpose!r}")
    if size < MINIMUM_SIZE or size % 8:
        raise ValueError(f"a status list has at least {MINIMUM_SIZE} entries, a multiple of 8")
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": xml_datetime(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_list(set_bits, size),
            "ttl": ttl_seconds * 1000,
        },
    }
