"""Multibase base58btc (``z…``) and Multikey Ed25519 keys (``z6Mk…``), as the Data Integrity specs
write signatures and keys. Pure. Base58 is a dozen lines, checked by the W3C test vectors."""

from __future__ import annotations

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(_ALPHABET)}
#: Multicodec prefixes (unsigned varints): ed25519-pub 0xed, ed25519-priv 0x1300.
ED25519_PUBLIC_PREFIX = b"\xed\x01"
ED25519_PRIVATE_PREFIX = b"\x80\x26"


def base58btc_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, remainder = divmod(number, 58)
        out.append(_ALPHABET[remainder])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))  # each is written as '1'
    return "1" * leading_zeros + "".join(reversed(out))


def base58btc_decode(text: str) -> bytes:
    number = 0
    for char in text:
        try:
            number = number * 58 + _INDEX[char]
        except KeyError:
            raise ValueError(f"{char!r} is not a base58btc character") from None
    leading_ones = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading_ones + body


def encode(data: bytes) -> str:
    """Multibase base58btc: ``z`` and the base58 text."""
    return "z" + base58btc_encode(data)


def decode(text: str) -> bytes:
    if not text.startswith("z"):
        raise ValueError("not a multibase base58btc value (it must start with 'z')")
    return base58btc_decode(text[1:])


def public_key_multibase(raw: bytes) -> str:
    """A 32-byte Ed25519 public key as Multikey ``publicKeyMultibase`` (``z6Mk…``)."""
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return encode(ED25519_PUBLIC_PREFIX + raw)


def public_key_from_multibase(text: str) -> bytes:
    data = decode(text)
    if not data.startswith(ED25519_PUBLIC_PREFIX) or len(data) != 34:
        raise ValueError("not a Multikey Ed25519 public key")
    return data[2:]


def private_key_from_multibase(text: str) -> bytes:
    """The 32-byte seed of a Multikey ``secretKeyMultibase`` (as the W3C test vectors write it)."""
    data = decode(text)
    if not data.startswith(ED25519_PRIVATE_PREFIX) or len(data) != 34:
        raise ValueError("not a Multikey Ed25519 private key")
    return data[2:]
