"""django-q2 entry points. Thin: each takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

from .services import credentials, emailing, issuance, jobs, lifecycle, rendering, sweep
from .services.handoff import EMAIL_TASK, RENDER_TASK, continue_here

logger = logging.getLogger(__name__)


def certificate_issue_task(enrollment_id: int) -> int | None:
    """Issue, then render and email in this worker: the learner's email does not wait behind every
    other queued completion. (The Open Badges credential is queued: nobody needs it in the first minute.)"""
    with continue_here(RENDER_TASK, EMAIL_TASK):
        certificate = issuance.certificate_issue_for_enrollment(enrollment_id=enrollment_id)
    return certificate.pk if certificate else None


def certificate_issue_batch_task(enrollment_ids: list[int]) -> int:
    """Issue for many completions (bulk imports, the sweep); each one independent and idempotent."""
    return issuance.certificates_issue_for_enrollments(enrollment_ids=enrollment_ids)


def certificate_render_task(certificate_id: int) -> str:
    with continue_here(EMAIL_TASK):
        return rendering.certificate_render(certificate_id=certificate_id).pipeline_state


def certificate_email_task(certificate_id: int) -> bool:
    return emailing.certificate_email(certificate_id=certificate_id)


def _each(step, ids: list[int], key: str = "certificate_id") -> int:
    done = 0
    for one in ids:
        try:
            step(**{key: one})
            done += 1
        except Exception:  # one bad item must not stop the batch; the sweep tries it again
            logger.exception("%s for %s %s failed", step.__name__, key, one)
    return done


def certificate_render_batch_task(certificate_ids: list[int]) -> int:
    with continue_here(EMAIL_TASK):
        return _each(rendering.certificate_render, certificate_ids)


def credential_sign_task(version_id: int) -> int:
    return credentials.credential_sign(version_id=version_id).pk


def credential_sign_batch_task(version_ids: list[int]) -> int:
    return _each(credentials.credential_sign, version_ids, key="version_id")


def certificate_email_batch_task(certificate_ids: list[int]) -> int:
    return _each(emailing.certificate_email, certificate_ids)


def certificates_reissue_task(certificate_ids: list[int], reason: str, note: str, by_id: int | None) -> dict:
    """Kept for reissues queued before jobs (``staff_job_work_task``) existed; nothing queues it now."""
    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    outcome = lifecycle.certificates_reissue(certificate_ids=certificate_ids, reason=reason, note=note, by=by)
    return {"reissued": outcome.reissued, "unchanged": outcome.unchanged, "failed": len(outcome.failed)}


def staff_job_work_task(job_id: int) -> int:
    return jobs.staff_job_work(job_id=job_id)


def pipeline_sweep_task() -> dict[str, int]:
    return sweep.pipeline_sweep()
