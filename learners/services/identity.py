"""Writes for learners: who they are (LMS id), their details, and the history of their addresses."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import CompletionSource, Enrollment, Learner, LearnerEmailChange
from ..planning import LearnerDetails, LearnerPlan, Rejection, plan_learner
from ..signals import completion_recorded
from .errors import LearnerError

T = TypeVar("T")


@transaction.atomic
def learner_upsert(
    *,
    external_id: str,
    email: str,
    full_name: str,
    preferred_name: str = "",
    lms: str = "default",
    source: str = CompletionSource.ADMIN,
    keep_blank: bool = False,
) -> Learner:
    """Create or update a learner by LMS id. A changed email updates the same learner, history kept.

    With ``keep_blank`` an empty value leaves what we had (exports that lack a column).
    """
    sent = LearnerDetails(email=email, full_name=full_name, preferred_name=preferred_name)

    def attempt() -> Learner:
        learner = learner_locked(lms=lms, external_id=external_id)
        plan = plan_learner(external_id=external_id, sent=sent, stored=details_of(learner), keep_blank=keep_blank)
        if isinstance(plan, Rejection):
            raise LearnerError(plan.reason)
        return learner_write(learner, plan, lms=lms, source=source)

    return retry_on_conflict(attempt)


@transaction.atomic
def learner_update_details(
    *,
    learner_id: int,
    email: str,
    full_name: str,
    preferred_name: str = "",
    source: str = CompletionSource.ADMIN,
) -> Learner:
    """Correct a learner's details, email history kept; completions waiting on bad data are evaluated again."""
    learner = Learner.objects.select_for_update().get(pk=learner_id)
    plan = plan_learner(
        external_id=learner.external_id,
        sent=LearnerDetails(email=email, full_name=full_name, preferred_name=preferred_name),
        stored=details_of(learner),
        keep_blank=False,
    )
    if isinstance(plan, Rejection):
        raise LearnerError(plan.reason)
    learner_apply(learner, plan, source=source)
    for enrollment_id in learner.enrollments.filter(completed_at__isnull=False).values_list("pk", flat=True):
        completion_recorded.send(sender=Enrollment, enrollment_id=enrollment_id)
    return learner


def learner_link_user(*, learner_id: int, user_id: int | None) -> None:
    """Link a learner to the site account they sign in with (their dashboard), or unlink it."""
    Learner.objects.filter(pk=learner_id).update(user_id=user_id, updated_at=timezone.now())


def details_of(learner: Learner | None) -> LearnerDetails | None:
    if learner is None:
        return None
    return LearnerDetails(
        email=learner.email,
        full_name=learner.full_name,
        preferred_name=learner.preferred_name,
        email_replaced=learner.email_replaced,
    )


def learner_apply(learner: Learner, plan: LearnerPlan, *, source: str) -> None:
    """Write a plan for a learner we have (locked by the caller)."""
    if plan.email_change:
        old, new = plan.email_change
        LearnerEmailChange.objects.create(learner=learner, old_email=old, new_email=new, source=source)
    if plan.changes:
        for name, value in plan.changes.items():
            setattr(learner, name, value)
        learner.search_text = learner.search_key
        learner.save(update_fields=[*plan.changes, "search_text", "updated_at"])


def learner_locked(*, lms: str, external_id: str) -> Learner | None:
    return Learner.objects.select_for_update().filter(lms=lms, external_id=(external_id or "").strip()).first()


def learner_write(learner: Learner | None, plan: LearnerPlan, *, lms: str, source: str) -> Learner:
    """Apply a plan: create the learner, or update the one the caller locked."""
    if learner is None:
        learner = Learner(lms=lms, external_id=plan.external_id, **plan.changes)
        learner.search_text = learner.search_key
        learner.save(force_insert=True)
        return learner
    learner_apply(learner, plan, source=source)
    return learner


def retry_on_conflict(attempt: Callable[[], T]) -> T:
    """Run ``attempt`` on a savepoint; when a row it creates appeared meanwhile, run it once more.

    The second run finds (and locks) the row the other writer created, and plans against it.
    """
    try:
        with transaction.atomic():
            return attempt()
    except IntegrityError:
        with transaction.atomic():
            return attempt()
