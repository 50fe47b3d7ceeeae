"""Reads for certificates and versions by code, hash or holder, the dashboard, exports and counts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, QuerySet

from courses import rules
from courses.models import IssuanceRule
from delivery.models import DeliveryStatus
from delivery.selectors import deliveries_for
from learners.models import Enrollment, Learner

from .. import codes
from ..emails import COMPOSER
from ..id_lists import id_subquery
from ..models import (
    ISSUED_STATES,
    RENDERED_STATES,
    Case,
    CaseKind,
    Certificate,
    CertificateEvent,
    CertificateVersion,
    Credential,
    Pipeline,
)


def _with_current_version(queryset: QuerySet[Certificate]) -> QuerySet[Certificate]:
    return queryset.prefetch_related(
        Prefetch("versions", queryset=CertificateVersion.objects.current(), to_attr="current_versions")
    )


def certificate_by_typed_code(typed: str) -> Certificate | None:
    """The publicly visible certificate for a code as a person typed it, or None."""
    code = codes.normalize(typed)
    if code is None:
        return None
    return _with_current_version(Certificate.objects.public().filter(code=code)).first()


def version_by_code(typed: str, number: int) -> CertificateVersion | None:
    """One version of a public certificate, current or superseded, by its code and number."""
    code = codes.normalize(typed)
    if code is None:
        return None
    return (
        CertificateVersion.objects.select_related("certificate")
        .filter(certificate__code=code, number=number, certificate__pipeline_state__in=ISSUED_STATES)
        .first()
    )


def version_by_pdf_sha256(sha256: str) -> CertificateVersion | None:
    """The version whose PDF has exactly these bytes (its SHA-256), current or superseded."""
    return (
        CertificateVersion.objects.select_related("certificate")
        .filter(pdf_sha256=(sha256 or "").lower(), certificate__pipeline_state__in=ISSUED_STATES)
        .exclude(pdf_sha256="")
        .first()
    )


def certificates_for_user(user) -> QuerySet[Certificate]:
    """A learner's own certificates, newest first: issued ones, and those held or rejected (never
    public, but theirs to know about, with the reason a rejection gives)."""
    return _with_current_version(
        Certificate.objects.filter(enrollment__learner__user=user)
        .select_related("enrollment__course__organisation")
        .order_by("-created_at", "-pk")
    )


def certificate_for_user(*, user, certificate_id: int) -> Certificate | None:
    return certificates_for_user(user).filter(pk=certificate_id, pipeline_state__in=ISSUED_STATES).first()


def certificate_downloadable_version(*, user, certificate_id: int) -> CertificateVersion | None:
    """The current PDF of one of the user's certificates, unless it is revoked or suspended."""
    certificate = certificate_for_user(user=user, certificate_id=certificate_id)
    if certificate is None or certificate.credential_state != Credential.ACTIVE:
        return None
    version = certificate.current_version
    return version if version is not None and version.pdf else None


def certificate_version_for_user(*, user, certificate_id: int, number: int) -> CertificateVersion | None:
    """One version (current or superseded) of the user's own certificate, with its PDF; none when revoked."""
    return (
        CertificateVersion.objects.select_related("certificate")
        .filter(
            certificate_id=certificate_id,
            number=number,
            certificate__enrollment__learner__user=user,
            certificate__pipeline_state__in=ISSUED_STATES,
        )
        .exclude(certificate__credential_state=Credential.REVOKED)
        .exclude(pdf="")
        .first()
    )


@dataclass
class DashboardEntry:
    """One course of the learner's, as the dashboard shows it."""

    enrollment: Enrollment
    certificate: Certificate | None
    current: CertificateVersion | None = None
    earlier: list[CertificateVersion] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    status: str = ""  # valid / suspended / revoked / expired / preparing / review / rejected / not_eligible
    explanation: str = ""

    @property
    def course(self):
        return self.enrollment.course

    @property
    def locale(self) -> str:
        """The locale the card's dates are written in: the certificate's (as printed), else its course's."""
        if self.current is not None:
            return self.current.locale
        return self.course.locale or self.course.organisation.locale

    @property
    def downloadable(self) -> bool:
        return self.current is not None and bool(self.current.pdf) and self.status in ("valid", "suspended", "expired")

    @property
    def can_dispute(self) -> bool:
        return self.certificate is None or not self.certificate.is_public

    @property
    def live_cases(self) -> list[Case]:
        return [case for case in self.cases if case.is_live]


def _status(enrollment: Enrollment, certificate: Certificate | None) -> tuple[str, str]:
    course = enrollment.course
    if certificate is None or certificate.pipeline_state == Pipeline.HELD:
        if (
            certificate is not None
            and certificate.approved_at is None
            and course.issuance_rule == IssuanceRule.MANUAL_REVIEW
        ):
            return "review", f"Waiting for review by {course.organisation.name} staff."
        if certificate is not None:
            return "preparing", "Being prepared: staff are checking a detail first. You do not need to do anything."
        explanation = rules.explain_to_learner(
            rule=course.issuance_rule,
            threshold=course.threshold,
            completed=enrollment.completed_at is not None,
            score=enrollment.score,
            attendance=enrollment.attendance,
        )
        if course.issuance_rule == IssuanceRule.MANUAL_REVIEW and enrollment.completed_at is not None:
            return "review", f"Waiting for review by {course.organisation.name} staff."
        if explanation:
            return "not_eligible", explanation
        return "preparing", "Being prepared: it appears here within minutes."
    if certificate.pipeline_state == Pipeline.REJECTED:
        return "rejected", certificate.state_reason
    if certificate.credential_state == Credential.REVOKED:
        return "revoked", certificate.credential_reason
    if certificate.credential_state == Credential.SUSPENDED:
        return "suspended", certificate.credential_reason
    if certificate.is_expired:
        return "expired", ""
    if certificate.pipeline_state not in RENDERED_STATES:
        return "preparing", "Being prepared: your PDF is ready in a minute."
    return "valid", ""


@dataclass
class Dashboard:
    learner: Learner | None
    entries: list[DashboardEntry] = field(default_factory=list)
    address_changes: list[Case] = field(default_factory=list)  # requests not about one course

    @property
    def pending_address_change(self) -> Case | None:
        return next((case for case in self.address_changes if case.is_live), None)


def dashboard_for_user(user) -> Dashboard:
    """Everything a learner's dashboard shows, newest first, in a fixed number of queries: their
    courses, each with its certificate, every version, and their requests."""
    learner = Learner.objects.filter(user=user).first() if getattr(user, "pk", None) else None
    if learner is None:
        return Dashboard(learner=None)
    versions = CertificateVersion.objects.order_by("-number")
    enrollments = (
        Enrollment.objects.filter(learner=learner)
        .select_related("course__organisation", "certificate")
        .prefetch_related(Prefetch("certificate__versions", queryset=versions, to_attr="all_versions"))
        .order_by("-completed_at", "-pk")
    )
    cases = list(Case.objects.filter(learner=learner).order_by("-created_at", "-pk"))
    entries = []
    for enrollment in enrollments:
        certificate = getattr(enrollment, "certificate", None)
        entry = DashboardEntry(enrollment=enrollment, certificate=certificate)
        if certificate is not None:
            all_versions = getattr(certificate, "all_versions", [])
            entry.current = next((v for v in all_versions if v.is_current), None)
            entry.earlier = [v for v in all_versions if not v.is_current]
            by_number = {v.number: v for v in all_versions}
            for old in entry.earlier:  # why it was replaced: the reason of the version after it
                newer = by_number.get(old.number + 1)
                old.replaced_because = newer.get_reason_display().lower() if newer else ""
                old.replaced_note = newer.note if newer else ""
        entry.cases = [
            case
            for case in cases
            if case.enrollment_id == enrollment.pk
            or (certificate is not None and case.certificate_id == certificate.pk)
        ]
        entry.status, entry.explanation = _status(enrollment, certificate)
        entries.append(entry)
    entries.sort(key=_newest_first, reverse=True)
    address_changes = [case for case in cases if case.kind == CaseKind.EMAIL_CHANGE][:3]
    return Dashboard(learner=learner, entries=entries, address_changes=address_changes)


def _newest_first(entry: DashboardEntry):
    if entry.certificate is not None and entry.certificate.issued_at is not None:
        return entry.certificate.issued_at
    return entry.enrollment.completed_at or entry.enrollment.created_at


EXPORT_CHUNK = 2000


def _export_status(certificate: Certificate, version: CertificateVersion | None) -> str:
    if version is not None and not version.is_current:
        return "superseded"
    if certificate.credential_state != Credential.ACTIVE:
        return certificate.credential_state
    return certificate.pipeline_state


def _delivery_statuses(version_ids: list[int]) -> dict[int, str]:
    """Per version: sent if any email of it went out, else the state of its latest one."""
    found: dict[int, str] = {}
    rows = deliveries_for(composer=COMPOSER, references=version_ids).order_by("pk").values_list("reference", "status")
    for reference, status in rows:
        key = int(reference)
        if found.get(key) != DeliveryStatus.SENT:
            found[key] = status
    return found


def certificate_export_rows(
    *, course_slug: str | None = None, certificate_ids: list[int] | None = None
) -> Iterator[dict[str, object]]:
    """One row per version of every certificate (superseded ones too), then held and rejected
    certificates, which have no version yet; by course, then certificate. A few queries per 2,000 rows."""
    versions = CertificateVersion.objects.select_related(
        "certificate__enrollment__learner", "certificate__enrollment__course"
    ).order_by("certificate__enrollment__course__slug", "certificate_id", "number")
    unissued = (
        Certificate.objects.filter(pipeline_state__in=[Pipeline.HELD, Pipeline.REJECTED])
        .select_related("enrollment__learner", "enrollment__course")
        .order_by("enrollment__course__slug", "pk")
    )
    if course_slug:
        versions = versions.filter(certificate__enrollment__course__slug=course_slug)
        unissued = unissued.filter(enrollment__course__slug=course_slug)
    if certificate_ids is not None:
        if not isinstance(certificate_ids, QuerySet):
            certificate_ids = list(certificate_ids)  # read twice below
        versions = versions.filter(certificate_id__in=id_subquery(certificate_ids))
        unissued = unissued.filter(pk__in=id_subquery(certificate_ids))
    batch: list[CertificateVersion] = []
    for version in versions.iterator(chunk_size=EXPORT_CHUNK):
        batch.append(version)
        if len(batch) == EXPORT_CHUNK:
            yield from _version_rows(batch)
            batch = []
    yield from _version_rows(batch)
    for certificate in unissued.iterator(chunk_size=EXPORT_CHUNK):
        learner, course = certificate.enrollment.learner, certificate.enrollment.course
        yield {
            "code": certificate.display_code,
            "status": certificate.pipeline_state,
            "version": "",
            "holder_name": learner.certificate_name,
            "learner_external_id": learner.external_id,
            "email": learner.email,
            "course_slug": course.slug,
            "course_title": course.title,
            "issued_at": "",
            "verify_url": "",
            "pdf_sha256": "",
            "pdf_path": "",
            "delivery_status": "not sent",
        }


def _version_rows(batch: list[CertificateVersion]) -> Iterator[dict[str, object]]:
    sent = _delivery_statuses([version.pk for version in batch])
    for version in batch:
        certificate = version.certificate
        yield {
            "code": certificate.display_code,
            "status": _export_status(certificate, version),
            "version": version.number,
            "holder_name": version.holder_name,
            "learner_external_id": certificate.enrollment.learner.external_id,
            "email": version.recipient_email,
            "course_slug": certificate.enrollment.course.slug,
            "course_title": version.course_title,
            "issued_at": version.issued_at.isoformat(),
            "verify_url": version.verify_url,
            "pdf_sha256": version.pdf_sha256,
            "pdf_path": version.pdf.name or "",
            "delivery_status": sent.get(version.pk, "pending" if version.is_current else "not sent"),
        }


def pipeline_counts() -> dict[str, int]:
    """How many certificates wait at each step: the pipeline's health at a glance."""
    counts = dict.fromkeys(Pipeline.values, 0)
    counts.update(
        Certificate.objects.values_list("pipeline_state").annotate(n=Count("pk")).values_list("pipeline_state", "n")
    )
    return counts


def certificate_events(certificate_id: int) -> QuerySet[CertificateEvent]:
    return CertificateEvent.objects.filter(certificate_id=certificate_id).select_related("actor", "version")


def certificate_deliveries(certificate: Certificate):
    """Every email of every version of a certificate, newest first."""
    return deliveries_for(composer=COMPOSER, references=certificate.versions.values_list("pk", flat=True)).order_by(
        "-created_at", "-pk"
    )


def certificate_ids_for_reissue(
    *, course_slug: str | None = None, wanted_codes: list[str] | None = None
) -> tuple[list[int], list[str]]:
    """(ids of issued certificates of a course or with these canonical codes, the codes not found)."""
    queryset = Certificate.objects.public()
    if course_slug:
        queryset = queryset.filter(enrollment__course__slug=course_slug)
    if wanted_codes is not None:
        queryset = queryset.filter(code__in=wanted_codes)
    found = dict(queryset.order_by("pk").values_list("code", "pk"))
    missing = [code for code in (wanted_codes or []) if code not in found]
    return list(found.values()), missing
