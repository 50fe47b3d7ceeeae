"""A verdict on a credential: its proof against its issuer's published key, its dates and its status
lists. No ORM: where DID documents and status lists come from is the caller's (ours read from our
records; the command can fetch others' over HTTPS)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from . import proof, status
from .contexts import Loader
from .keys import PublishedKey


class Outcome(StrEnum):
    VALID = "valid"
    INVALID = "invalid"  # not genuine: bad proof, unknown key, not issued by whoever signed it
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    STATUS_UNKNOWN = "status could not be checked"
    SUPERSEDED = "superseded"  # genuine and not revoked, but a newer version replaces it


#: Worst first: the verdict is the worst of what was found.
_SEVERITY = [
    Outcome.INVALID,
    Outcome.REVOKED,
    Outcome.SUSPENDED,
    Outcome.EXPIRED,
    Outcome.NOT_YET_VALID,
    Outcome.STATUS_UNKNOWN,
    Outcome.SUPERSEDED,
    Outcome.VALID,
]

ResolveDid = Callable[[str], dict | None]
FetchStatusList = Callable[[str], dict | None]


@dataclass
class Verdict:
    outcome: Outcome = Outcome.VALID
    reasons: list[str] = field(default_factory=list)

    def found(self, outcome: Outcome, reason: str) -> None:
        self.reasons.append(reason)
        if _SEVERITY.index(outcome) < _SEVERITY.index(self.outcome):
            self.outcome = outcome


def _issuer_id(document: dict) -> str:
    issuer = document.get("issuer")
    return issuer.get("id", "") if isinstance(issuer, dict) else issuer if isinstance(issuer, str) else ""


def _key_of(did_document: dict, method: str) -> PublishedKey | None:
    if method not in did_document.get("assertionMethod", []):
        return None
    for candidate in did_document.get("verificationMethod", []):
        if candidate.get("id") == method and candidate.get("type") == "Multikey":
            try:
                return PublishedKey(method, candidate["publicKeyMultibase"], datetime.min, False, False)
            except KeyError:
                return None
    return None


def _check_proof(document: dict, resolve_did: ResolveDid, loader: Loader | None) -> str:
    """Why the document's proof is not its issuer's, or '' if it is."""
    method = proof.proof_method(document)
    did = method.split("#", 1)[0]
    if not method or did != _issuer_id(document):
        return "it is not signed with a key of its issuer"
    did_document = resolve_did(did)
    if did_document is None:
        return f"the issuer's keys ({did}) could not be read"
    key = _key_of(did_document, method)
    if key is None:
        return f"the key {method} is not one its issuer publishes for issuing"
    try:
        public_key = key.public_key
    except ValueError:
        return f"the key {method} is not an Ed25519 Multikey"
    check = proof.verify(document, public_key=public_key, loader=loader)
    return "" if check.ok else check.reason


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def check_credential(
    document: object,
    *,
    resolve_did: ResolveDid,
    fetch_status_list: FetchStatusList,
    now: datetime,
    loader: Loader | None = None,
) -> Verdict:
    verdict = Verdict()
    if not isinstance(document, dict) or "VerifiableCredential" not in (document.get("type") or []):
        verdict.found(Outcome.INVALID, "this is not a verifiable credential")
        return verdict
    problem = _check_proof(document, resolve_did, loader)
    if problem:
        verdict.found(Outcome.INVALID, problem)
        return verdict  # nothing else it says can be trusted
    verdict.reasons.append(f"signed by its issuer {_issuer_id(document)} ({proof.proof_method(document)})")
    valid_from, valid_until = _parse_time(document.get("validFrom")), _parse_time(document.get("validUntil"))
    if valid_from is not None and now < valid_from:
        verdict.found(Outcome.NOT_YET_VALID, f"it is valid only from {document['validFrom']}")
    if valid_until is not None and now >= valid_until:
        verdict.found(Outcome.EXPIRED, f"it expired at {document['validUntil']}")
    entries = document.get("credentialStatus") or []
    for entry in entries if isinstance(entries, list) else [entries]:
        _check_status(verdict, document, entry, resolve_did, fetch_status_list, loader)
    if verdict.outcome == Outcome.VALID:
        verdict.reasons.append("neither revoked nor suspended, and within its dates")
    return verdict


_STATUS_OUTCOMES = {
    "revocation": (Outcome.REVOKED, "it has been revoked by its issuer"),
    "suspension": (Outcome.SUSPENDED, "it is suspended by its issuer"),
    "refresh": (Outcome.SUPERSEDED, "a newer version of it has been issued (this one is superseded)"),
}


def _check_status(verdict, document, entry, resolve_did, fetch_status_list, loader) -> None:
    purpose = entry.get("statusPurpose", "") if isinstance(entry, dict) else ""
    url = entry.get("statusListCredential", "") if isinstance(entry, dict) else ""
    unknown = f"its {purpose or 'status'} status could not be checked"
    try:
        index = int(entry["statusListIndex"])
    except (KeyError, TypeError, ValueError):
        verdict.found(Outcome.STATUS_UNKNOWN, f"{unknown}: the entry has no index")
        return
    status_list = fetch_status_list(url) if url else None
    if status_list is None:
        verdict.found(Outcome.STATUS_UNKNOWN, f"{unknown}: the list {url or '(none)'} could not be read")
        return
    if _issuer_id(status_list) != _issuer_id(document) or _check_proof(status_list, resolve_did, loader):
        verdict.found(Outcome.STATUS_UNKNOWN, f"{unknown}: the list {url} is not signed by the credential's issuer")
        return
    subject = status_list.get("credentialSubject") or {}
    if subject.get("statusPurpose") != purpose:
        verdict.found(Outcome.STATUS_UNKNOWN, f"{unknown}: the list {url} is for another purpose")
        return
    try:
        is_set = status.bit(status.decode_list(subject.get("encodedList", "")), index)
    except (ValueError, IndexError, OSError) as exc:
        verdict.found(Outcome.STATUS_UNKNOWN, f"{unknown}: {exc}")
        return
    if is_set and purpose in _STATUS_OUTCOMES:
        verdict.found(*_STATUS_OUTCOMES[purpose])
