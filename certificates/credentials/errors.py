"""What can go wrong signing or checking a credential. Messages a user sees are these constants."""

from __future__ import annotations

UNDEFINED_TERMS = "no context defines {terms}: they would be dropped, so left unsigned"
UNKNOWN_DOCUMENT = "{url} is not a context or document this service ships, and none is fetched"


class CredentialError(Exception):
    """Base of every credential signing or checking error."""


class UnknownDocument(CredentialError, LookupError):
    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(UNKNOWN_DOCUMENT.format(url=url))


class UndefinedTerms(CredentialError, ValueError):
    def __init__(self, terms: list[str]) -> None:
        self.terms = terms
        super().__init__(UNDEFINED_TERMS.format(terms=", ".join(repr(term) for term in terms)))


class MalformedProof(CredentialError, ValueError):
    pass


class KeyNotFound(CredentialError, LookupError):
    pass
