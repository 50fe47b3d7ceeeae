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

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from cachetools import LRUCache
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from frozendict import frozendict
from pyld import jsonld
from pyld.context_resolver import ContextResolver

from . import multibase
from .contexts import Loader, document_loader
from .errors import MalformedProof, UndefinedTerms, UnknownDocument

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"


def _objects(value: object) -> list[dict | list]:
    """Every object and array in a JSON value."""
    found, stack = [], [value]
    while stack:
        value = stack.pop()
        if isinstance(value, dict | list):
            found.append(value)
            stack.extend(value.values() if isinstance(value, dict) else value)
    return found


def _imports(value: object) -> bool:
    # pyld merges a context into the one it names by @import, in place: a cache would keep that.
    return any(isinstance(item, dict) and "@import" in item for item in _objects(value))


class _LoaderCache:
    """What pyld resolved and processed through one loader, kept from call to call (used only
    under ``_PYLD``).

    pyld's own cache is one per process and keyed by URL alone, so a context resolved through one
    loader would be served to a caller of another (one that does not serve that URL, or serves
    something else there); this one belongs to its loader. A loader must therefore answer the same
    for a URL as long as it lives, as ``document_loader``'s do (they copy what they serve).
    """

    def __init__(self, loader: Loader) -> None:
        self.loader = loader
        # pyld's shape: key (a URL, or the JCS of an inline context) -> {tag: ResolvedContext}.
        self.resolved: LRUCache = LRUCache(maxsize=jsonld.RESOLVED_CONTEXT_CACHE_MAX_SIZE)
        # (active context's _uuid, context_key, flags) -> the processed (frozen) active context.
        self.processed: LRUCache = LRUCache(maxsize=256)
        # Each document as first loaded, held (and served again if pyld's LRU drops and re-resolves
        # it) so the objects in it keep their ids, which are ``_owned``.
        self._loaded: dict[str, dict] = {}
        self._owned: set[int] = set()
        #: set when pyld may change what it was served (see _imports): the cache is then dropped.
        self.spoilt = False

    def load(self, url: str, options: dict | None = None) -> dict:
        remote = self._loaded.get(url)
        if remote is None:
            remote = self.loader(url, options)
            # pyld appends a Link-header context to the document's own list.
            self.spoilt |= bool(remote.get("contextUrl")) or _imports(remote["document"])
            self._loaded[url] = remote
            self._owned.update(id(item) for item in _objects(remote["document"]))
        # pyld keeps a remote context between operations only when its loader tags it "static".
        return {**remote, "tag": "static"}

    def resolver(self) -> ContextResolver:
        return ContextResolver(self.resolved, self.load)

    def context_key(self, local_ctx: object) -> str | tuple[str, ...] | int | None:
        """How a local context is known to ``processed``; None if it is not to be kept.

        URLs by value; an object by identity if it is part of a document this loader served: pyld
        does not change a context once it has resolved it (its own caches rely on that). Objects
        of the document being canonicalised are left to pyld: each call has a new copy of them.
        """
        if isinstance(local_ctx, str):
            return local_ctx
        if isinstance(local_ctx, list) and all(isinstance(url, str) for url in local_ctx):
            return tuple(local_ctx)
        return id(local_ctx) if id(local_ctx) in self._owned else None


#: Keyed by the loader's identity (the entry holds the loader, so the id is not reused while it is
#: here); a few, since a caller may make a loader per call (the tests do).
_CACHES: LRUCache = LRUCache(maxsize=8)


def _cache_for(loader: Loader) -> _LoaderCache:
    cache = _CACHES.get(id(loader))
    if cache is None or cache.loader is not loader:
        cache = _CACHES[id(loader)] = _LoaderCache(loader)
    return cache


class _CheckingProcessor(jsonld.JsonLdProcessor):
    """pyld's processor, noting every key or type it drops because it expands to no IRI.

    pyld also expands an object's keys once with the outer context to find its type (before the
    type's own context applies); only the expansions made while the object's properties are
    expanded decide what is kept, so only those are noted (never those made processing a context).

    It also keeps the contexts it processes in its loader's cache (see ``_process_context``).
    """

    def __init__(self, cache: _LoaderCache) -> None:
        super().__init__()
        self.undefined: list[str] = []
        self._expanding_properties = False
        self._cache = cache

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

    def _process_context(
        self,
        active_ctx,
        local_ctx,
        options,
        override_protected=False,
        propagate=True,
        validate_scoped=True,
        cycles=None,
    ):
        """pyld's, remembered when the active context is one pyld has finished (frozen: it never
        changes, and its ``_uuid`` is never reused).

        pyld caches a processed context by the active context's ``_uuid``, but a type-scoped
        context (``propagate=False``, which each typed object of a credential applies) is processed
        against a fresh clone with a fresh ``_uuid``, so it is never found again: a credential's
        scoped contexts were processed afresh each time, and each one found by the JCS of its
        whole text.
        """
        outer, self._expanding_properties = self._expanding_properties, False
        try:
            if cycles is not None:  # pyld checking a context it is still building: not finished
                return super()._process_context(
                    active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
                )
            context_key = self._cache.context_key(local_ctx)
            if not isinstance(active_ctx, frozendict) or context_key is None:
                return super()._process_context(
                    active_ctx, local_ctx, options, override_protected, propagate, validate_scoped
                )
            key = (
                active_ctx["_uuid"],
                context_key,
                override_protected,
                propagate,
                validate_scoped,
                options.get("base"),
            )
            processed = self._cache.processed.get(key)
            if processed is None:
                processed = super()._process_context(
                    active_ctx, local_ctx, options, override_protected, propagate, validate_scoped
                )
                self._cache.processed[key] = processed
            return processed
        finally:
            self._expanding_properties = outer


#: pyld keeps one cache of processed contexts per process (a cachetools LRU, not thread-safe): four
#: threads signing at once corrupted it (a KeyError in its eviction, one reissue lost in CI's
#: 2,000-certificate reissue by four workers). Worker and web processes are single-threaded, so
#: the lock costs nothing there.
_PYLD = threading.Lock()


def canonicalize(document: dict, *, loader: Loader | None = None) -> str:
    """The document's RDFC-1.0 canonical N-Quads; ``UndefinedTerms`` if any term would be dropped."""
    try:
        with _PYLD:
            loader = loader or document_loader()
            # A document that imports a context gets a cache of its own, dropped after it.
            cache = _LoaderCache(loader) if _imports(document) else _cache_for(loader)
            processor = _CheckingProcessor(cache)
            options = {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": cache.load,
                "contextResolver": cache.resolver(),
            }
            # No copy of the document: pyld's expand deep-copies its input before anything touches it.
            try:
                nquads = processor.normalize(document, options)
            finally:
                if cache.spoilt:
                    _CACHES.pop(id(loader), None)
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
