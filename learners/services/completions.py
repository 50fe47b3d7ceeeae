"""Writes for one completion record: what an LMS (or staff) says about a learner on a course."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from courses.models import Course
from courses.rules import Decision as RuleDecision
from courses.selectors import course_by_key
from courses.services import course_get_or_create_from_import

from ..ingest import CompletionRecord
from ..models import CompletionSource, Decision, Enrollment
from ..planning import (
    FACT_FIELDS,
    UNCHANGED,
    EnrollmentPlan,
    Facts,
    Rejection,
    plan_completion,
    plan_enrollment,
)
from ..signals import completion_recorded
from .errors import LearnerError
from .identity import details_of, learner_locked, learner_write, retry_on_conflict


@dataclass(frozen=True, slots=True)
class IngestResult:
    enrollment_id: int
    outcome: str  # created / updated / unchanged
    queued: bool  # the issuance rule will run for it
    held: str = ""  # why issuance will hold its certificate for staff, or ""


@transaction.atomic
def enrollment_record_completion(
    *,
    learner_id: int,
    course_id: int,
    completed_at: datetime | None,
    score: Decimal | None = None,
    attendance: Decimal | None = None,
    cohort: str = "",
    custom_fields: dict | None = None,
    source: str = CompletionSource.ADMIN,
) -> Enrollment:
    """Record what the LMS says about a learner on a course; safe to call again with the same facts.

    Every fact is replaced (a blank cohort clears it). New or changed facts send
    ``completion_recorded`` so the issuance rule runs (again) after commit.
    """
    sent = Facts(
        completed_at=completed_at,
        score=score,
        attendance=attendance,
        cohort=cohort,
        custom_fields=custom_fields or {},
    )

    def attempt() -> tuple[Enrollment, EnrollmentPlan]:
        enrollment = enrollment_locked(learner_id=learner_id, course_id=course_id)
        plan = plan_enrollment(sent=sent, stored=facts_of_enrollment(enrollment), now=timezone.now())
        if isinstance(plan, Rejection):
            raise LearnerError(plan.reason)
        return enrollment_write(enrollment, plan, learner_id=learner_id, course_id=course_id, source=source), plan

    enrollment, plan = retry_on_conflict(attempt)
    if plan.outcome != UNCHANGED and plan.completed:
        completion_recorded.send(sender=Enrollment, enrollment_id=enrollment.pk)
    return enrollment


@transaction.atomic
def completion_ingest(
    *,
    record: CompletionRecord,
    source: str,
    notify: bool = True,
    create_courses: bool = False,
    require_email: bool = True,
) -> IngestResult:
    """Take one completion from an LMS (webhook or import row): learner, course, facts. Idempotent.

    Raises ``LearnerError`` with a reason a person understands when the record cannot be taken; then
    nothing is written. With ``notify=False`` the caller (a bulk import) queues issuance itself.
    Without ``require_email`` (the import) a new learner with no address is taken, and held.
    """
    course = _course_for(record, create_courses=create_courses)

    def attempt() -> IngestResult:
        learner = learner_locked(lms=record.lms, external_id=record.learner_id)
        enrollment = enrollment_locked(learner_id=learner.pk, course_id=course.pk) if learner else None
        plan = plan_completion(
            record=record,
            learner=details_of(learner),
            enrollment=facts_of_enrollment(enrollment),
            now=timezone.now(),
            course_start=course.cohort_start,
            require_email=require_email,
        )
        if isinstance(plan, Rejection):
            raise LearnerError(plan.reason)
        learner = learner_write(learner, plan.learner, lms=record.lms, source=source)
        enrollment = enrollment_write(
            enrollment, plan.enrollment, learner_id=learner.pk, course_id=course.pk, source=source
        )
        return IngestResult(enrollment.pk, plan.outcome, plan.queue_issuance, plan.held)

    result = retry_on_conflict(attempt)
    if result.queued and notify:
        completion_recorded.send(sender=Enrollment, enrollment_id=result.enrollment_id)
    return result


def enrollment_record_decision(*, enrollment_id: int, decision: RuleDecision) -> None:
    """Keep the issuance rule's verdict and reason on the completion record."""
    Enrollment.objects.filter(pk=enrollment_id).update(
        decision=decision.outcome.value, decision_reason=decision.reason[:300], decided_at=timezone.now()
    )


def enrollments_mark_nudged(*, enrollment_ids: list[int]) -> None:
    """Record that the sweep re-queued these completions, so it waits a while before asking again."""
    Enrollment.objects.filter(pk__in=enrollment_ids).update(nudged_at=timezone.now())


def unknown_course(key: str) -> str:
    return f"unknown course {key}" if key else "missing course"


def _course_for(record: CompletionRecord, *, create_courses: bool) -> Course:
    course = course_by_key(record.course_key)
    if course is None and create_courses and record.course_key:
        course = course_get_or_create_from_import(key=record.course_key, title=record.course_title)
    if course is None:
        raise LearnerError(unknown_course(record.course_key))
    return course


def facts_of_enrollment(enrollment: Enrollment | None) -> Facts | None:
    if enrollment is None:
        return None
    return Facts(**{name: getattr(enrollment, name) for name in FACT_FIELDS})


def enrollment_locked(*, learner_id: int, course_id: int) -> Enrollment | None:
    return Enrollment.objects.select_for_update().filter(learner_id=learner_id, course_id=course_id).first()


def enrollment_write(
    enrollment: Enrollment | None, plan: EnrollmentPlan, *, learner_id: int, course_id: int, source: str
) -> Enrollment:
    """Apply a plan: create the enrollment, or update the one the caller locked."""
    if enrollment is None:
        return Enrollment.objects.create(learner_id=learner_id, course_id=course_id, source=source, **plan.changes)
    if plan.changes:
        enrollment_change(enrollment, plan, source=source)
        enrollment.save()
    return enrollment


def enrollment_change(enrollment: Enrollment, plan: EnrollmentPlan, *, source: str) -> None:
    """Set a plan's facts on an enrollment, unsaved (the bulk path saves many at once)."""
    for name, value in plan.changes.items():
        setattr(enrollment, name, value)
    enrollment.source = source
    # New facts, new verdict: the sweep re-runs anything left pending if the signal is lost.
    enrollment.decision = Decision.PENDING
