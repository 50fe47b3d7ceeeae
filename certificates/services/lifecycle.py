"""After issue: revoke and un-revoke, suspend and reinstate, reissue one or thousands. Each audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from ..errors import (
    ALREADY_REVOKED,
    NOT_ACTIVE,
    NOT_ISSUED,
    NOT_REISSUABLE,
    NOT_REVOKED,
    NOT_SUSPENDED,
    ONLY_ADMINS_UNREVOKE,
    REASON_REQUIRED,
    CertificateAlreadyRevoked,
    CertificateNotIssued,
    CertificateNotReissuable,
    CertificateStateChanged,
    CertificateStillHasProblems,
    NotAllowed,
    ReasonRequired,
)
from ..id_lists import id_subquery
from ..models import RENDERED_STATES, Certificate, CertificateVersion, Credential, Pipeline, VersionReason
from ..selectors.templates import PublishedTemplates
from ..transitions import log_event, transition
from .handoff import EMAIL_TASK, RENDER_TASK, enqueue_after_commit
from .issuance import create_version, lock_enrollment
from .rendering import prints_the_same
from .snapshot import snapshot_of

logger = logging.getLogger(__name__)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(REASON_REQUIRED)
    return reason[:500]


def _issued(certificate_id: int) -> Certificate:
    certificate = Certificate.objects.get(pk=certificate_id)
    if not certificate.is_public:
        raise CertificateNotIssued(NOT_ISSUED)  # a held certificate was never public: nothing to revoke
    return certificate


def certificate_revoke(*, certificate_id: int, by, reason: str) -> Certificate:
    """Revoke an issued certificate: the verify page shows it as revoked, with the reason, from now on."""
    reason = _reason(reason)
    certificate = _issued(certificate_id)
    if certificate.is_revoked:
        raise CertificateAlreadyRevoked(ALREADY_REVOKED)
    if not transition(
        certificate_id,
        from_=[Credential.ACTIVE, Credential.SUSPENDED],
        to=Credential.REVOKED,
        actor=by,
        reason=reason,
        kind="revoked",
        credential_changed_by=by if getattr(by, "pk", None) else None,
        credential_reason=reason,
        revoked_at=timezone.now(),
    ):
        raise CertificateAlreadyRevoked(ALREADY_REVOKED)
    return Certificate.objects.get(pk=certificate_id)


def certificate_unrevoke(*, certificate_id: int, by, reason: str) -> Certificate:
    """An administrator undoes a revocation (it was a mistake); the certificate is valid again."""
    reason = _reason(reason)
    if not getattr(by, "is_superuser", False) and not (by and by.has_perm("certificates.unrevoke_certificate")):
        raise NotAllowed(ONLY_ADMINS_UNREVOKE)
    if not transition(
        certificate_id,
        from_=Credential.REVOKED,
        to=Credential.ACTIVE,
        actor=by,
        reason=reason,
        kind="unrevoked",
        credential_changed_by=by if getattr(by, "pk", None) else None,
        credential_reason="",
        revoked_at=None,
        suspended_at=None,
    ):
        raise CertificateStateChanged(NOT_REVOKED)
    _resume(certificate_id)
    return Certificate.objects.get(pk=certificate_id)


def _resume(certificate_id: int) -> None:
    """Valid again: whatever the pipeline held back while it was not (its PDF, its email) goes on."""
    state = Certificate.objects.values_list("pipeline_state", flat=True).get(pk=certificate_id)
    if state == Pipeline.ISSUED:
        enqueue_after_commit(RENDER_TASK, certificate_id)
    elif state == Pipeline.RENDERED:
        enqueue_after_commit(EMAIL_TASK, certificate_id)


def certificate_suspend(*, certificate_id: int, by, reason: str) -> Certificate:
    """Suspend an issued certificate while something is looked into (e.g. a dispute); reversible."""
    reason = _reason(reason)
    _issued(certificate_id)
    if not transition(
        certificate_id,
        from_=Credential.ACTIVE,
        to=Credential.SUSPENDED,
        actor=by,
        reason=reason,
        kind="suspended",
        credential_changed_by=by if getattr(by, "pk", None) else None,
        credential_reason=reason,
        suspended_at=timezone.now(),
    ):
        raise CertificateStateChanged(NOT_ACTIVE)
    return Certificate.objects.get(pk=certificate_id)


def certificate_reinstate(*, certificate_id: int, by, reason: str = "reinstated") -> Certificate:
    """End a suspension: the certificate is valid again."""
    if not transition(
        certificate_id,
        from_=Credential.SUSPENDED,
        to=Credential.ACTIVE,
        actor=by,
        reason=_reason(reason),
        kind="reinstated",
        credential_changed_by=by if getattr(by, "pk", None) else None,
        credential_reason="",
        suspended_at=None,
    ):
        raise CertificateStateChanged(NOT_SUSPENDED)
    _resume(certificate_id)
    return Certificate.objects.get(pk=certificate_id)


@transaction.atomic
def certificate_reissue(
    *, certificate_id: int, reason: str = VersionReason.COURSE_CORRECTION, note: str = "", by=None
) -> CertificateVersion | None:
    """A new version from the learner's and course's data now, under the same code; None if it would
    print exactly what the current version prints. The old version stays verifiable as superseded;
    the new one is rendered and its holder gets a short "corrected certificate" email, once."""
    if reason not in VersionReason.values or reason == VersionReason.FIRST_ISSUE:
        raise ValueError(f"not a reason to reissue: {reason!r}")
    enrollment_id = Certificate.objects.values_list("enrollment_id", flat=True).get(pk=certificate_id)
    enrollment = lock_enrollment(enrollment_id)
    certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
    if certificate.pipeline_state not in RENDERED_STATES or certificate.credential_state != Credential.ACTIVE:
        state = certificate.get_pipeline_state_display().lower()
        if certificate.credential_state != Credential.ACTIVE:
            state = certificate.get_credential_state_display().lower()
        raise CertificateNotReissuable(NOT_REISSUABLE.format(state=state))
    current = (
        certificate.versions.select_for_update(of=("self",)).select_related("template_version").get(is_current=True)
    )
    snapshot, problems = snapshot_of(enrollment, issued_on=current.issued_on)
    if problems:
        raise CertificateStillHasProblems("; ".join(problems))
    if prints_the_same(current, CertificateVersion(certificate=certificate, **snapshot)):
        return None  # a reissue that changes nothing on paper makes no version
    now = timezone.now()
    CertificateVersion.objects.filter(pk=current.pk).update(is_current=False, superseded_at=now)
    version = create_version(certificate, snapshot, number=current.number + 1, reason=reason, note=note, by=by)
    transition(
        certificate_id,
        from_=RENDERED_STATES,
        to=Pipeline.ISSUED,
        actor=by,
        kind="reissued",
        reason=f"version {version.number}: {VersionReason(reason).label.lower()}" + (f" ({note})" if note else ""),
        version=version,
        data={"superseded": current.number},
        state_reason="",
        attempts=0,
        claimed_at=None,
    )
    enqueue_after_commit(RENDER_TASK, certificate_id)
    return version


@dataclass
class ReissueOutcome:
    reissued: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (code, why)


def certificates_reissue(*, certificate_ids: list[int], reason: str, note: str = "", by=None) -> ReissueOutcome:
    """Reissue many certificates, each in its own transaction; one that cannot be reissued is reported."""
    outcome = ReissueOutcome()
    for certificate_id in certificate_ids:
        try:
            version = certificate_reissue(certificate_id=certificate_id, reason=reason, note=note, by=by)
        except (CertificateNotReissuable, CertificateStillHasProblems) as exc:
            code = Certificate.objects.values_list("code", flat=True).get(pk=certificate_id)
            logger.warning("reissue of %s refused: %s", code, exc)
            log_event(certificate_id, "reissue_refused", str(exc), actor=by)
            outcome.failed.append((code, str(exc)))
            continue
        if version is None:
            outcome.unchanged += 1
        else:
            outcome.reissued += 1
    return outcome


@dataclass
class ReissuePlan:
    changing: list[int] = field(default_factory=list)
    unchanged: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (code, why)


def certificates_reissue_plan(*, certificate_ids: list[int]) -> ReissuePlan:
    """What a reissue of these certificates would do, without writing anything."""
    plan = ReissuePlan()
    published = PublishedTemplates()
    versions = (
        CertificateVersion.objects.current()
        .filter(certificate_id__in=id_subquery(certificate_ids))
        .select_related(
            "certificate__enrollment__learner", "certificate__enrollment__course__organisation", "template_version"
        )
    )
    for version in versions.iterator(chunk_size=500):
        certificate = version.certificate
        if certificate.pipeline_state not in RENDERED_STATES or certificate.credential_state != Credential.ACTIVE:
            state = certificate.get_pipeline_state_display().lower()
            if certificate.credential_state != Credential.ACTIVE:
                state = certificate.get_credential_state_display().lower()
            plan.refused.append((certificate.code, NOT_REISSUABLE.format(state=state)))
            continue
        snapshot, problems = snapshot_of(certificate.enrollment, issued_on=version.issued_on, published=published)
        if problems:
            plan.refused.append((certificate.code, "; ".join(problems)))
        elif prints_the_same(version, CertificateVersion(certificate=certificate, **snapshot)):
            plan.unchanged += 1
        else:
            plan.changing.append(certificate.pk)
    return plan
