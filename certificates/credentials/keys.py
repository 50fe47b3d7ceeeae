"""The issuer's Ed25519 keys, kept as files (never in the database), and the did:web documents that
publish them. No ORM.

A folder (settings ``CREDENTIAL_KEYS_DIR``) holds ``<id>.key`` (PKCS#8 PEM, owner-readable only) and
``<id>.pub`` (the Multikey ``z6Mk…``) for each key, and ``current`` naming the one that signs.
Rotating makes a new key current and deletes the old private key, but never an old public key: a
credential signed with it verifies only while its key is published.
"""

from __future__ import annotations

import fcntl
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..atomic_files import write_atomically
from . import multibase
from .contexts import DID_V1, MULTIKEY_V1
from .errors import KeyNotFound

NO_KEY = "no credential signing key in {directory}: run manage.py credential_keys make"
KEY_EXISTS = "a credential signing key already exists in {directory}: use rotate to replace it"


@dataclass(frozen=True)
class PublishedKey:
    id: str  # the fragment of its verification method: did:web:…#<id>
    public_key_multibase: str
    created: datetime
    current: bool
    can_sign: bool  # its private half is still here (only the current key's is kept)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(multibase.public_key_from_multibase(self.public_key_multibase))


@dataclass(frozen=True)
class SigningKey:
    id: str
    private_key: Ed25519PrivateKey


class KeyStore:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def published(self) -> list[PublishedKey]:
        """Every key whose public half is here, oldest first: all of them stay in the DID documents."""
        if not self.directory.is_dir():
            return []
        current = self._current_id()
        keys = []
        for public in self.directory.glob("*.pub"):
            key_id = public.stem
            keys.append(
                PublishedKey(
                    id=key_id,
                    public_key_multibase=public.read_text().strip(),
                    created=datetime.fromtimestamp(public.stat().st_mtime, UTC),
                    current=key_id == current,
                    can_sign=(self.directory / f"{key_id}.key").exists(),
                )
            )
        return sorted(keys, key=lambda key: (key.id,))

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        for key in self.published():
            if key.id == key_id:
                return key.public_key
        return None

    def signing_key(self) -> SigningKey:
        key_id = self._current_id()
        path = self.directory / f"{key_id}.key"
        if not key_id or not path.exists():
            raise KeyNotFound(NO_KEY.format(directory=self.directory))
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyNotFound(f"{path} is not an Ed25519 key")
        return SigningKey(key_id, private)

    def make(self) -> str:
        """The first key; refuses if there is one (``rotate`` replaces it)."""
        with self._lock():
            if self._current_id():
                raise FileExistsError(KEY_EXISTS.format(directory=self.directory))
            return self._new_key()

    def ensure(self) -> bool:
        """Make the first key unless there is one (the embedded default and the demo); True if made."""
        if self._current_id():
            return False
        with self._lock():
            if self._current_id():
                return False
            self._new_key()
            return True

    def rotate(self) -> str:
        """A new current key; the old one's private half is deleted, its public half stays published."""
        with self._lock():
            previous = self._current_id()
            key_id = self._new_key()
            if previous:
                (self.directory / f"{previous}.key").unlink(missing_ok=True)
            return key_id

    def _current_id(self) -> str:
        try:
            return (self.directory / "current").read_text().strip()
        except FileNotFoundError:
            return ""

    def _new_key(self) -> str:
        key = Ed25519PrivateKey.generate()
        # Sortable by age, and unguessable so two stores never mint the same id.
        key_id = f"key-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_atomically(self.directory / f"{key_id}.key", pem, mode=0o600)
        write_atomically(self.directory / f"{key_id}.pub", multibase.public_key_multibase(raw).encode(), mode=0o644)
        write_atomically(self.directory / "current", key_id.encode(), mode=0o644)  # last: the key is whole
        return key_id

    def _lock(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        return _FileLock(self.directory / ".lock")


class _FileLock:
    """Across processes: web and workers starting together make one key, not one each."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        self.handle = open(self.path, "w")  # noqa: SIM115 (held until __exit__)
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc) -> None:
        self.handle.close()


def did_web(site_url: str, *path: str) -> str:
    """The did:web identifier of ``site_url`` (``/.well-known/did.json``) or of a path under it
    (``did:web:host:issuers:acme`` is ``/issuers/acme/did.json``). A port is written ``%3A``."""
    host = urlsplit(site_url).netloc
    return ":".join(["did:web", quote(host, safe="")] + [quote(part, safe="") for part in path])


def did_web_url(did: str) -> str:
    """Where a did:web document is published (the did:web method's rule), for an outside resolver."""
    parts = did.removeprefix("did:web:").split(":")
    host = parts[0].replace("%3A", ":")
    path = "/".join(parts[1:]) or ".well-known"
    return f"https://{host}/{path}/did.json"


def verification_method_id(did: str, key_id: str) -> str:
    return f"{did}#{key_id}"


def did_document(did: str, keys: list[PublishedKey]) -> dict:
    """The DID document: every published key as a Multikey, all of them for assertions (issuing)."""
    methods = [
        {
            "id": verification_method_id(did, key.id),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key_multibase,
        }
        for key in keys
    ]
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
