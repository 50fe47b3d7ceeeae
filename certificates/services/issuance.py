"""Issuing: apply the course's rule to a completion, then issue, hold, approve or reject."""

from __future__ import annotations

import calendar
import logging
from datetime import date

from django.db import transaction
from django.utils import timezone

from courses import rules
from learners.models import CompletionSource, Enrollment
from learners.services import LearnerError, enrollment_record_decision, learner_update_details

from .. import codes
from ..errors import NOT_HELD, REASON_REQUIRED, CertificateNotHeld, CertificateStillHasProblems, ReasonRequired
from ..models import Certificate, CertificateVersion, Pipeline, VersionReason
from ..transitions import log_event, transition
from .emailing import certificate_follow_address
from .handoff import RENDER_TASK, enqueue_after_commit
from .snapshot import snapshot_of

logger = logging.getLogger(__name__)

AWAITING_REVIEW = "awaiting manual review ({reason})"
FACTS_TO_CHECK = "completion record to check: {reason}"
NO_LONGER_ELIGIBLE = "no longer eligible: {reason}"
STAFF_DECISION = "issued by staff decision"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def lock_enrollment(enrollment_id: int) -> Enrollment:
    # The enrollment row lock serialises everything done to one enrollment's certificate: issuing,
    # approving, reissuing. Always enrollment first, then certificate, so they cannot deadlock.
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("learner", "course__organisation")
        .get(pk=enrollment_id)
    )


def create_version(
    certificate: Certificate, snapshot: dict, *, number: int, reason: str, note: str = "", by=None
) -> CertificateVersion:
    return CertificateVersion.objects.create(
        certificate=certificate,
        number=number,
        reason=reason,
        note=note[:500],
        created_by=by if getattr(by, "pk", None) else None,
        issued_at=timezone.now(),
        **snapshot,
    )


def rule_decision(enrollment: Enrollment) -> rules.Decision:
    """What the course's rule says about this completion record, as it stands."""
    course = enrollment.course
    return rules.evaluate(
        rule=course.issuance_rule,
        threshold=course.threshold,
        completed=enrollment.completed_at is not None,
        score=enrollment.score,
        attendance=enrollment.attendance,
    )


@transaction.atomic
def certificate_issue_for_enrollment(*, enrollment_id: int, by=None, override: str = "") -> Certificate | None:
    """Apply the course's rule to a completion and issue (or hold) its certificate; safe to call twice.

    Returns the enrollment's certificate, or None when the rule says it does not qualify. With
    ``override`` (a staff decision on a dispute, and why) the rule's "no" is set aside, for good:
    the certificate remembers it. Bad data still holds it.
    """
    enrollment = lock_enrollment(enrollment_id)
    course = enrollment.course
    decision = rule_decision(enrollment)
    # Recorded even when nothing changes below, so the sweep does not keep re-asking.
    enrollment_record_decision(enrollment_id=enrollment.pk, decision=decision)
    certificate = Certificate.objects.filter(enrollment=enrollment).first()
    overridden = override or (certificate.override_reason if certificate is not None else "")
    if overridden and decision.outcome != rules.Outcome.ELIGIBLE:
        decision = rules.Decision(rules.Outcome.ELIGIBLE, f"{STAFF_DECISION}: {overridden}")
    if override and certificate is not None and not certificate.override_reason:
        Certificate.objects.filter(pk=certificate.pk).update(override_reason=override[:500])
        certificate.override_reason = override[:500]
        log_event(certificate, "overridden", override, actor=by)
    if certificate is not None and certificate.pipeline_state != Pipeline.HELD:
        if certificate.is_public:  # the learner's address may have changed since
            certificate_follow_address(certificate=certificate, email=enrollment.learner.email)
        return certificate  # issued once, never twice; revoked and rejected stay so
    if decision.outcome == rules.Outcome.NOT_ELIGIBLE and certificate is None:
        return None

    snapshot, problems = snapshot_of(enrollment)
    approved = certificate is not None and certificate.approved_at is not None
    if enrollment.review_reason and not approved:  # the LMS's facts contradict each other: staff decide
        problems.append(FACTS_TO_CHECK.format(reason=enrollment.review_reason))
    if decision.outcome == rules.Outcome.NEEDS_REVIEW and not approved:
        problems.append(AWAITING_REVIEW.format(reason=decision.reason))
    elif decision.outcome == rules.Outcome.NOT_ELIGIBLE:
        problems.append(NO_LONGER_ELIGIBLE.format(reason=decision.reason))
    reason = "; ".join(problems)[:500]

    if problems:
        if certificate is None:
            certificate = Certificate.objects.create(
                enrollment=enrollment,
                code=codes.new_code(),
                pipeline_state=Pipeline.HELD,
                state_reason=reason,
                override_reason=override[:500],
            )
        elif reason == certificate.state_reason:
            return certificate
        else:
            Certificate.objects.filter(pk=certificate.pk).update(state_reason=reason, updated_at=timezone.now())
            certificate.state_reason = reason
        log_event(certificate, "held", reason, to_state=Pipeline.HELD)
        return certificate

    now = timezone.now()
    issued = {
        "issued_at": now,
        "valid_until": add_months(snapshot["issued_on"], course.validity_months) if course.validity_months else None,
        "state_reason": "",
        "attempts": 0,
    }
    if certificate is None:  # a new certificate starts issued: creation is not a change of state
        certificate = Certificate.objects.create(
            enrollment=enrollment,
            code=codes.new_code(),
            pipeline_state=Pipeline.ISSUED,
            override_reason=override[:500],
            **issued,
        )
        version = create_version(certificate, snapshot, number=1, reason=VersionReason.FIRST_ISSUE)
        log_event(certificate, "issued", decision.reason, version=version, to_state=Pipeline.ISSUED)
    else:  # released: the data was fixed, or staff approved it
        version = create_version(certificate, snapshot, number=1, reason=VersionReason.FIRST_ISSUE)
        transition(
            certificate.pk,
            from_=Pipeline.HELD,
            to=Pipeline.ISSUED,
            reason=f"released: {decision.reason}",
            kind="issued",
            actor=by,
            version=version,
            **issued,
        )
        certificate.refresh_from_db()
    enqueue_after_commit(RENDER_TASK, certificate.pk)
    return certificate


def certificate_approve(*, certificate_id: int, by) -> Certificate:
    """Staff approve a certificate held for manual review; it is issued if its data is sound.

    The approval is kept even when the data is not (then ``CertificateStillHasProblems`` says why):
    once the data is fixed the certificate is issued without a second review.
    """
    with transaction.atomic():
        enrollment_id = Certificate.objects.values_list("enrollment_id", flat=True).get(pk=certificate_id)
        lock_enrollment(enrollment_id)
        certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
        if certificate.pipeline_state != Pipeline.HELD:
            raise CertificateNotHeld(NOT_HELD)
        if certificate.approved_at is None:
            Certificate.objects.filter(pk=certificate_id).update(approved_at=timezone.now(), approved_by=by)
            log_event(certificate, "approved", actor=by)
        result = certificate_issue_for_enrollment(enrollment_id=enrollment_id, by=by)
    if result is not None and result.pipeline_state == Pipeline.HELD:
        raise CertificateStillHasProblems(result.state_reason)
    return result


def certificate_reject(*, certificate_id: int, by, reason: str) -> Certificate:
    """Staff reject a held certificate (manual review said no); the learner sees the reason."""
    if not (reason or "").strip():
        raise ReasonRequired(REASON_REQUIRED)
    if not transition(
        certificate_id,
        from_=Pipeline.HELD,
        to=Pipeline.REJECTED,
        actor=by,
        reason=reason.strip(),
        kind="rejected",
        state_reason=reason.strip()[:500],
        rejected_at=timezone.now(),
    ):
        raise CertificateNotHeld(NOT_HELD)
    return Certificate.objects.get(pk=certificate_id)


def certificates_issue_for_enrollments(*, enrollment_ids: list[int], by=None) -> int:
    """Issue for many completions (bulk imports, the sweep, staff re-checks); one bad completion never
    stops the rest."""
    issued = 0
    for enrollment_id in enrollment_ids:
        try:
            if certificate_issue_for_enrollment(enrollment_id=enrollment_id, by=by) is not None:
                issued += 1
        except Exception:  # the sweep tries it again
            logger.exception("issuing for enrollment %s failed", enrollment_id)
    return issued


def certificate_fix_holder(*, certificate_id: int, full_name: str, preferred_name: str, email: str, by) -> Certificate:
    """Staff correct the holder's name or address on a held certificate's page, and it is checked
    again at once: issued if that was all that stopped it, still held (with the new reason) if not."""
    with transaction.atomic():
        certificate = Certificate.objects.select_related("enrollment__learner").get(pk=certificate_id)
        learner = certificate.enrollment.learner
        before = f"{learner.full_name!r} / {learner.preferred_name!r} <{learner.email}>"
        try:
            learner = learner_update_details(
                learner_id=learner.pk,
                email=email,
                full_name=full_name,
                preferred_name=preferred_name,
                source=CompletionSource.ADMIN,
            )
        except LearnerError as exc:
            raise CertificateStillHasProblems(str(exc)) from exc
        after = f"{learner.full_name!r} / {learner.preferred_name!r} <{learner.email}>"
        if before != after:
            log_event(certificate, "holder_corrected", f"{before} → {after}"[:500], actor=by)
        certificate_issue_for_enrollment(enrollment_id=certificate.enrollment_id, by=by)
    return Certificate.objects.get(pk=certificate_id)
