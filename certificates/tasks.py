"""django-q2 entry points. Thin: each takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

import logging

from . import services

logger = logging.getLogger(__name__)


def certificate_issue_task(enrollment_id: int) -> int | None:
    certificate = services.certificate_issue_for_enrollment(enrollment_id=enrollment_id)
    return certificate.pk if certificate else None


def certificate_render_task(certificate_id: int) -> str:
    return services.certificate_render(certificate_id=certificate_id).status


def certificate_email_task(certificate_id: int) -> bool:
    return services.certificate_email(certificate_id=certificate_id)


def delivery_send_task(delivery_id: int) -> bool:
    return services.delivery_send(delivery_id=delivery_id)


def pipeline_sweep_task() -> dict[str, int]:
    return services.pipeline_sweep()


def certificate_issue_batch_task(enrollment_ids: list[int]) -> int:
    """Issue for many completions (bulk imports); each one is independent and idempotent."""
    issued = 0
    for enrollment_id in enrollment_ids:
        try:
            if services.certificate_issue_for_enrollment(enrollment_id=enrollment_id) is not None:
                issued += 1
        except Exception:  # one bad completion must not stop the batch; the sweep retries it
            logger.exception("issuing for enrollment %s failed", enrollment_id)
    return issued
