"""Writes for learners and their completion records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from courses.rules import Decision as RuleDecision

from .models import CompletionSource, Decision, Enrollment, Learner
from .signals import completion_recorded


class LearnerError(Exception):
    pass


COMPLETED_AT_NEEDS_TIMEZONE = "completed_at must carry a timezone"


def learner_upsert(
    *, external_id: str, email: str, full_name: str, preferred_name: str = "", lms: str = "default"
) -> Learner:
    """Create or update a learner by LMS id. A changed email or name updates the same learner."""
    external_id = (external_id or "").strip()
    if not external_id:
        raise LearnerError("a learner needs the LMS's user id")
    learner, _ = Learner.objects.update_or_create(
        lms=lms,
        external_id=external_id,
        defaults={
            "email": (email or "").strip(),
            "full_name": (full_name or "").strip(),
            "preferred_name": (preferred_name or "").strip(),
        },
    )
    return learner


@transaction.atomic
def learner_update_details(*, learner_id: int, email: str, full_name: str, preferred_name: str = "") -> Learner:
    """Correct a learner's details; completions waiting on bad data are evaluated again."""
    learner = Learner.objects.select_for_update().get(pk=learner_id)
    learner.email = (email or "").strip()
    learner.full_name = (full_name or "").strip()
    learner.preferred_name = (preferred_name or "").strip()
    learner.save(update_fields=["email", "full_name", "preferred_name", "updated_at"])
    for enrollment_id in learner.enrollments.filter(completed_at__isnull=False).values_list("pk", flat=True):
        completion_recorded.send(sender=Enrollment, enrollment_id=enrollment_id)
    return learner


@transaction.atomic
def enrollment_record_completion(
    *,
    learner_id: int,
    course_id: int,
    completed_at: datetime | None,
    score: Decimal | None = None,
    attendance: Decimal | None = None,
    source: str = CompletionSource.ADMIN,
) -> Enrollment:
    """Record what the LMS says about a learner on a course; safe to call again with the same facts.

    New or changed facts send ``completion_recorded`` so the issuance rule runs (again) after commit.
    """
    if completed_at is not None and timezone.is_naive(completed_at):
        raise LearnerError(COMPLETED_AT_NEEDS_TIMEZONE)
    facts = {"completed_at": completed_at, "score": score, "attendance": attendance}
    enrollment, created = Enrollment.objects.select_for_update().get_or_create(
        learner_id=learner_id, course_id=course_id, defaults={**facts, "source": source}
    )
    changed = created or any(getattr(enrollment, field) != value for field, value in facts.items())
    if not created and changed:
        for field, value in facts.items():
            setattr(enrollment, field, value)
        enrollment.source = source
        # New facts, new verdict: the sweep re-runs anything left pending if the signal is lost.
        enrollment.decision = Decision.PENDING
        enrollment.save()
    if changed and enrollment.completed_at is not None:
        completion_recorded.send(sender=Enrollment, enrollment_id=enrollment.pk)
    return enrollment


def enrollment_record_decision(*, enrollment_id: int, decision: RuleDecision) -> None:
    """Keep the issuance rule's verdict and reason on the completion record."""
    Enrollment.objects.filter(pk=enrollment_id).update(
        decision=decision.outcome.value, decision_reason=decision.reason[:300], decided_at=timezone.now()
    )
