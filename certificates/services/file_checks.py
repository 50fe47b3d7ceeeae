"""A verdict on a file someone was given: a certificate PDF (its signature, and our records) or an
Open Badges credential (its proof, dates and status lists). For ``manage.py verify_credential``."""

from __future__ import annotations

import hashlib
import io
import json
import urllib.request
from dataclasses import dataclass
from urllib.error import URLError

from .. import signing
from ..credentials import keys
from ..credentials.checking import Outcome, Verdict
from ..models import Credential
from ..selectors import PublicCertificate, public_facts, public_version_by_credential_id, public_version_by_pdf_sha256
from ..selectors.public import STATES
from .credentials import credential_check

FETCH_TIMEOUT = 10


def _fetch_json(url: str) -> dict | None:
    """An outside document over HTTPS (never another scheme), or None when it cannot be read."""
    if not url.startswith("https://"):
        return None
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 (https only)
            return json.loads(response.read(2_000_000))
    except (URLError, OSError, ValueError):
        return None


def _fetch_did(did: str) -> dict | None:
    return _fetch_json(keys.did_web_url(did)) if did.startswith("did:web:") else None


def file_check(*, data: bytes, fetch: bool = False) -> Verdict:
    """Verdict on a PDF or a credential JSON; ``fetch`` lets another issuer's keys and lists be read
    over HTTPS (ours are read from our own records)."""
    if data.startswith(b"%PDF-"):
        return _pdf_check(data)
    try:
        document = json.loads(data)
    except ValueError:
        verdict = Verdict()
        verdict.found(Outcome.INVALID, "the file is neither a PDF nor a credential (JSON)")
        return verdict
    if fetch:
        return credential_check(document=document, resolve_did=_fetch_did, fetch=_fetch_json)
    return credential_check(document=document)


def _our_trust():
    """Trust exactly our own PDF signing certificate (docs/SIGNING.md): is it ours, not is it anyone's."""
    from asn1crypto import pem, x509
    from pyhanko_certvalidator import ValidationContext

    from .. import signing

    path = signing.configured_identity().certificate
    if not path.exists():
        return ValidationContext(trust_roots=[])
    _, _, der = pem.unarmor(path.read_bytes())
    return ValidationContext(trust_roots=[x509.Certificate.load(der)])


def _pdf_check(data: bytes) -> Verdict:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature

    verdict = Verdict()
    try:
        signatures = PdfFileReader(io.BytesIO(data)).embedded_signatures
    except Exception as exc:  # pyHanko raises many kinds for a damaged file
        verdict.found(Outcome.INVALID, f"the PDF cannot be read: {exc}")
        return verdict
    if not signatures:
        verdict.found(Outcome.INVALID, "the PDF is not signed")
        return verdict
    status = signing.outside_event_loop(lambda: validate_pdf_signature(signatures[-1], _our_trust()))
    if not (status.intact and status.valid):
        verdict.found(Outcome.INVALID, "the PDF's signature does not match: it was changed after signing")
        return verdict
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        verdict.found(Outcome.INVALID, "something was added to the PDF after it was signed")
        return verdict
    signer = status.signing_cert.subject.human_friendly
    trust = "our signing certificate" if status.trusted else "not our signing certificate"
    verdict.reasons.append(f"the PDF's signature is intact and covers the whole file; signer {signer} ({trust})")
    version = public_version_by_pdf_sha256(hashlib.sha256(data).hexdigest())
    if version is None:
        verdict.found(Outcome.STATUS_UNKNOWN, "our records have no certificate with exactly this file")
        return verdict
    certificate = version.certificate
    verdict.reasons.append(f"our records: certificate {certificate.display_code} version {version.number}")
    if certificate.credential_state in (Credential.REVOKED, Credential.WITHDRAWN):
        verdict.found(Outcome.REVOKED, f"it has been {certificate.get_credential_state_display().lower()}")
    elif certificate.credential_state == Credential.SUSPENDED:
        verdict.found(Outcome.SUSPENDED, "it is suspended by its issuer")
    elif certificate.is_expired:
        verdict.found(Outcome.EXPIRED, f"it expired after {certificate.valid_until}")
    if not version.is_current:
        verdict.found(Outcome.SUPERSEDED, "a newer version of it has been issued (this one is superseded)")
    return verdict


#: What a checked credential is, with its words: the public states, and three a credential may be in
#: beside them. ``status_unknown`` is never shown as valid: a list that could not be read proves nothing.
CREDENTIAL_STATES = {
    "invalid": "Not genuine",
    **STATES,
    "not_yet_valid": "Not yet valid",
    "status_unknown": "Status could not be checked",
}

_OUTCOME_STATES = {
    Outcome.INVALID: "invalid",
    Outcome.REVOKED: "revoked",
    Outcome.SUSPENDED: "suspended",
    Outcome.EXPIRED: "expired",
    Outcome.NOT_YET_VALID: "not_yet_valid",
    Outcome.STATUS_UNKNOWN: "status_unknown",
    Outcome.SUPERSEDED: "superseded",
    Outcome.VALID: "valid",
}


#: Worst first: a checked credential of ours is the worse of what it proves and what our records say
#: (an expiry set after it was signed is ours to state); a definite "no" beats "could not be checked".
_PRECEDENCE = [
    *("invalid", "withdrawn", "revoked", "suspended", "expired", "not_yet_valid"),
    *("status_unknown", "superseded", "valid"),
]


@dataclass(frozen=True)
class CredentialCheck:
    """The public answer on an uploaded credential: what its proof, dates and lists say, and which of
    our certificates it is (only when its proof is ours: anyone can write any id in a file)."""

    state: str  # a key of CREDENTIAL_STATES
    reasons: tuple[str, ...]
    facts: PublicCertificate | None = None
    certificate_id: int | None = None  # to count the lookup; never shown

    @property
    def state_label(self) -> str:
        return CREDENTIAL_STATES[self.state]

    @property
    def proof_verified(self) -> bool:
        return self.state != "invalid"


def public_credential_check(*, document: dict) -> CredentialCheck:
    """Check a credential someone uploaded against our keys and our status lists (nothing is fetched)."""
    verdict = credential_check(document=document)
    state = _OUTCOME_STATES[verdict.outcome]
    if state == "invalid":
        return CredentialCheck(state, tuple(verdict.reasons))
    version = public_version_by_credential_id(document.get("id"))
    if version is None:
        return CredentialCheck(state, (*verdict.reasons, "our records have no certificate at the address it names"))
    facts = public_facts(version)
    reasons = [
        *verdict.reasons,
        f"our records: certificate {facts.code} version {facts.version}, {facts.state_label.lower()}",
    ]
    state = min(state, facts.state, key=_PRECEDENCE.index)
    if state == "revoked" and facts.is_withdrawn:
        state = "withdrawn"  # its revocation bit is set because the holder's data was erased
    return CredentialCheck(state, reasons, facts, version.certificate_id)
