"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa). No ORM.

Create and verify, step for step as the specification writes them: the proof options (with the
document's ``@context``) and the document without its proof are each canonicalised with RDFC-1.0
(pyld's URDNA2015, the same algorithm), hashed with SHA-256, and the proof options' hash followed by
the document's is signed with Ed25519; the signature is written multibase base58btc.

Canonicalisation silently drops any term that no context defines, which would leave it outside the
signature while it still reads as part of the credential. So every term is checked as the document
is expanded, and a document with one is refused, naming it.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

from . import multibase
from .contexts import Loader, document_loader
from .errors import MalformedProof, UndefinedTerms, UnknownDocument

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"


class _CheckingProcessor(jsonld.JsonLdProcessor):
    """pyld's processor, noting every key or type it drops because it expands to no IRI.

    pyld also expands an object's keys once with the outer context to find its type (before the
    type's own context applies); only the expansions made while the object's properties are
    expanded decide what is kept, so only those are noted.
    """

    def __init__(self) -> None:
        super().__init__()
        self.undefined: list[str] = []
        self._expanding_properties = False

    def _expand(self, *args, **kwargs):
        outer, self._expanding_properties = self._expanding_properties, False
        try:
            return super()._expand(*args, **kwargs)
        finally:
            self._expanding_properties = outer

    def _expand_object(self, *args, **kwargs):
        outer, self._expanding_properties = self._expanding_properties, True
        try:
            return super()._expand_object(*args, **kwargs)
        finally:
            self._expanding_properties = outer

    def _expand_iri(self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None):
        expanded = super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        if self._expanding_properties and vocab and local_ctx is None and isinstance(value, str):
            absolute = expanded is not None and (jsonld._is_absolute_iri(expanded) or jsonld._is_keyword(expanded))
            if not absolute and value not in self.undefined:
                self.undefined.append(value)
        return expanded


#: pyld keeps one cache of processed contexts per process (a cachetools LRU, not thread-safe): four
#: threads signing at once corrupted it (a KeyError in its eviction, one reissue lost in CI's
#: 2,000-certificate reissue by four workers). Worker and web processes are single-threaded, so
#: the lock costs nothing there.
_PYLD = threading.Lock()


def canonicalize(document: dict, *, loader: Loader | None = None) -> str:
    """The document's RDFC-1.0 canonical N-Quads; ``UndefinedTerms`` if any term would be dropped."""
    processor = _CheckingProcessor()
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": loader or document_loader(),
    }
    try:
        with _PYLD:
            nquads = processor.normalize(copy.deepcopy(document), options)
    except jsonld.JsonLdError as exc:
        raise _unwrapped(exc) from exc
    if processor.undefined:
        raise UndefinedTerms(processor.undefined)
    return nquads


def _unwrapped(exc: jsonld.JsonLdError) -> Exception:
    """pyld wraps the loader's refusal in its own errors: say which document was refused."""
    cause = exc
    while cause is not None:
        if isinstance(cause, UnknownDocument):
            return cause
        details = getattr(cause, "details", None) or {}
        cause = getattr(cause, "cause", None) or details.get("cause") or cause.__cause__
    return exc


def _hash_data(document: dict, proof_options: dict, loader: Loader | None) -> bytes:
    config = {key: value for key, value in proof_options.items() if key != "proofValue"}
    config["@context"] = document["@context"]
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    proof_hash = hashlib.sha256(canonicalize(config, loader=loader).encode()).digest()
    document_hash = hashlib.sha256(canonicalize(unsecured, loader=loader).encode()).digest()
    return proof_hash + document_hash


def xml_datetime(moment: datetime) -> str:
    """A proof's ``created``: UTC to the second (``2026-01-31T09:30:00Z``)."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(
    document: dict,
    *,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
    proof_purpose: str = "assertionMethod",
    loader: Loader | None = None,
) -> dict:
    """A copy of ``document`` with an ``eddsa-rdfc-2022`` proof."""
    if "proof" in document:
        raise MalformedProof("the document already has a proof")
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": xml_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    signature = private_key.sign(_hash_data(document, options, loader))
    return {**document, "proof": {**options, "proofValue": multibase.encode(signature)}}


@dataclass(frozen=True)
class ProofCheck:
    ok: bool
    verification_method: str = ""
    reason: str = ""


def verify(document: dict, *, public_key: Ed25519PublicKey, loader: Loader | None = None) -> ProofCheck:
    """Does the document's proof verify with ``public_key``? (Which key is the caller's business:
    ``proof_method()`` names the one the proof says signed it.)"""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        return ProofCheck(False, reason="the credential has no proof (or more than one)")
    method = proof.get("verificationMethod", "")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return ProofCheck(False, method, f"the proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    try:
        signature = multibase.decode(proof.get("proofValue", ""))
        data = _hash_data(document, proof, loader)
    except (UndefinedTerms, UnknownDocument) as exc:
        return ProofCheck(False, method, str(exc))
    except (ValueError, jsonld.JsonLdError) as exc:
        return ProofCheck(False, method, f"the credential cannot be read as JSON-LD: {exc}")
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return ProofCheck(False, method, "the signature does not match: the credential was changed after signing")
    return ProofCheck(True, method)


def proof_method(document: dict) -> str:
    proof = document.get("proof")
    return proof.get("verificationMethod", "") if isinstance(proof, dict) else ""
