"""django-q2 entry points. Thin: each takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

from .services import emailing, issuance, jobs, lifecycle, rendering, sweep

logger = logging.getLogger(__name__)


def certificate_issue_task(enrollment_id: int) -> int | None:
    certificate = issuance.certificate_issue_for_enrollment(enrollment_id=enrollment_id)
    return certificate.pk if certificate else None


def certificate_issue_batch_task(enrollment_ids: list[int]) -> int:
    """Issue for many completions (bulk imports, the sweep); each one independent and idempotent."""
    return issuance.certificates_issue_for_enrollments(enrollment_ids=enrollment_ids)


def certificate_render_task(certificate_id: int) -> str:
    return rendering.certificate_render(certificate_id=certificate_id).pipeline_state


def certificate_email_task(certificate_id: int) -> bool:
    return emailing.certificate_email(certificate_id=certificate_id)


def _each(step, certificate_ids: list[int]) -> int:
    done = 0
    for certificate_id in certificate_ids:
        try:
            step(certificate_id=certificate_id)
            done += 1
        except Exception:  # one bad certificate must not stop the batch; its attempts are counted
            logger.exception("%s for certificate %s failed", step.__name__, certificate_id)
    return done


def certificate_render_batch_task(certificate_ids: list[int]) -> int:
    return _each(rendering.certificate_render, certificate_ids)


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
