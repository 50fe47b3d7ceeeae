"""What the public may know about a certificate: the facts the verify page, the API and the file
check show, in one shape, from one query.

Only issued certificates exist for the public; held and rejected ones, unknown and malformed codes
all read as None, so no caller can tell them apart. Personal data of a withdrawn certificate (its
holder asked to be erased) is never in the facts, whichever version is asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from courses import wording

from .. import codes
from ..models import ISSUED_STATES, RENDERED_STATES, CertificateVersion, Credential
from ..pdf import SCORED_FAMILIES
from .prepared import PreparedQuery

#: The one state a member of the public sees, with its words. Order of precedence: the first that
#: holds wins (a revoked certificate's old version reads revoked, not superseded).
STATES = {
    "withdrawn": "Withdrawn",
    "revoked": "Revoked",
    "suspended": "Suspended",
    "superseded": "Superseded",
    "expired": "Expired",
    "valid": "Valid",
}


@dataclass(frozen=True)
class PublicCertificate:
    code: str  # as printed: K7QM-3XWD-9PHT-R2VA
    state: str  # a key of STATES
    version: int
    is_current: bool
    course_title: str
    organisation_name: str
    issued_on: date
    instructor_name: str = ""
    instructor_title: str = ""
    holder_name: str = ""  # as printed; empty when withdrawn
    score: Decimal | None = None  # only where the certificate prints it
    cohort: str = ""
    custom_fields: tuple[tuple[str, str], ...] = ()
    valid_until: date | None = None
    state_since: date | None = None  # suspended since, revoked on, superseded on, expired on, withdrawn on
    reason: str = ""  # the reason staff gave for a revocation
    pdf_sha256: str = ""
    has_files: bool = False  # the PDF and image are shown (valid, current, rendered)
    has_logo: bool = False
    locale: str = "en"  # the version's: its dates are written as its PDF writes them

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @property
    def is_valid(self) -> bool:
        return self.state == "valid"

    @property
    def is_withdrawn(self) -> bool:
        return self.state == "withdrawn"

    @property
    def verify_url(self) -> str:
        """The certificate's address (always the current version's)."""
        return f"{settings.SITE_URL}/verify/{self.code}/"

    @property
    def version_url(self) -> str:
        return self.verify_url if self.is_current else f"{self.verify_url}v{self.version}/"

    @property
    def share_title(self) -> str:
        return f"{self.holder_name} earned {self.course_title}"


def _state(version: CertificateVersion, today: date) -> tuple[str, date | None]:
    certificate = version.certificate
    local = timezone.localdate
    if certificate.credential_state == Credential.WITHDRAWN:
        return "withdrawn", local(certificate.withdrawn_at)
    if certificate.credential_state == Credential.REVOKED:
        return "revoked", local(certificate.revoked_at)
    if certificate.credential_state == Credential.SUSPENDED:
        return "suspended", local(certificate.suspended_at)
    if not version.is_current:
        return "superseded", local(version.superseded_at)
    if certificate.valid_until is not None and certificate.valid_until < today:
        return "expired", certificate.valid_until
    return "valid", None


def _prints_score(version: CertificateVersion) -> bool:
    """Does its PDF print the score? A published template's version holds one only if it does
    (services.snapshot); a built-in template prints it for its family, or in the course's own line."""
    if version.template_version_id is not None or version.template_family in SCORED_FAMILIES:
        return True
    try:
        return "score" in wording.placeholders(version.phrase)
    except wording.WordingError:
        return False


def public_facts(version: CertificateVersion, *, today: date | None = None) -> PublicCertificate:
    """The facts of one version of a public certificate (pure: no query beyond what is loaded)."""
    certificate = version.certificate
    state, since = _state(version, today or timezone.localdate())
    common = {
        "code": certificate.display_code,
        "state": state,
        "state_since": since,
        "version": version.number,
        "is_current": version.is_current,
        "course_title": version.course_title,
        "organisation_name": version.organisation_name,
        "issued_on": version.issued_on,
        "instructor_name": version.instructor_name,
        "instructor_title": version.instructor_title,
        "valid_until": certificate.valid_until,
        "pdf_sha256": version.pdf_sha256,
        "has_logo": bool(version.logo_path),
        "locale": version.locale,
    }
    if state == "withdrawn":
        return PublicCertificate(**common)
    return PublicCertificate(
        **common,
        holder_name=version.holder_name,
        score=version.score if _prints_score(version) else None,
        cohort=version.cohort,
        custom_fields=tuple((str(label), str(value)) for label, value in version.custom_fields),
        reason=certificate.credential_reason if state == "revoked" else "",
        has_files=state == "valid" and certificate.pipeline_state in RENDERED_STATES and bool(version.pdf),
    )


#: The columns the public reads need (the facts, the files, the LinkedIn links): a third of the two
#: rows' columns, and the busiest page's read builds no more than it shows.
PUBLIC_COLUMNS = (
    *("number", "is_current", "superseded_at", "course_title", "organisation_name", "issued_on"),
    *("instructor_name", "instructor_title", "holder_name", "score", "template_family", "cohort"),
    *("custom_fields", "pdf", "preview", "pdf_sha256", "logo_path", "locale", "template_version", "phrase"),
    *("certificate__code", "certificate__pipeline_state", "certificate__credential_state"),
    *("certificate__credential_reason", "certificate__valid_until", "certificate__suspended_at"),
    *("certificate__revoked_at", "certificate__withdrawn_at"),
)


def _public_versions():
    return (
        CertificateVersion.objects.select_related("certificate")
        .only(*PUBLIC_COLUMNS)
        .filter(certificate__pipeline_state__in=ISSUED_STATES)
    )


#: The verify page's read, compiled once per process (compiling it cost more than running it).
_current_by_code = PreparedQuery(
    CertificateVersion,
    lambda code: (
        CertificateVersion.objects.select_related("certificate")
        .only(*PUBLIC_COLUMNS)
        .filter(certificate__code=code, is_current=True)  # unique: one current version per certificate
        .order_by()
    ),
)


def public_version(typed: str, number: int | None = None) -> CertificateVersion | None:
    """The current version (or version ``number``) of a public certificate, by a typed code: one query."""
    code = codes.normalize(typed)
    if code is None:
        return None
    if number is None:
        # The issued test is made here, not in SQL: the simpler statement is the faster one on PostgreSQL.
        version = _current_by_code.first(code)
        return version if version is not None and version.certificate.pipeline_state in ISSUED_STATES else None
    found = list(_public_versions().filter(certificate__code=code, number=number).order_by()[:1])
    return found[0] if found else None


def public_certificate(typed: str, number: int | None = None) -> PublicCertificate | None:
    version = public_version(typed, number)
    return public_facts(version) if version is not None else None


def public_version_by_pdf_sha256(sha256: str) -> CertificateVersion | None:
    """The version whose PDF has exactly these bytes, current or superseded: one query."""
    if not sha256:
        return None
    found = list(_public_versions().filter(pdf_sha256=sha256.lower()).order_by()[:1])
    return found[0] if found else None


_CREDENTIAL_ID = re.compile(r"^/verify/(?P<code>[^/]+)/v(?P<number>\d{1,6})/credential\.json$")


def public_version_by_credential_id(credential_id: object) -> CertificateVersion | None:
    """The version a credential we signed names by its ``id`` (our address serving it): one query.
    Only meaningful once its proof verified: anyone can write any id in a JSON file."""
    site = settings.SITE_URL
    if not isinstance(credential_id, str) or not credential_id.startswith(site + "/"):
        return None
    match = _CREDENTIAL_ID.match(credential_id.removeprefix(site))
    return public_version(match["code"], int(match["number"])) if match else None
