"""django-q2 entry points. Thin: each takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

from . import services


def certificate_issue_task(enrollment_id: int) -> int | None:
    certificate = services.certificate_issue_for_enrollment(enrollment_id=enrollment_id)
    return certificate.pk if certificate else None


def certificate_render_task(certificate_id: int) -> str:
    return services.certificate_render(certificate_id=certificate_id).status


def certificate_email_task(certificate_id: int) -> bool:
    return services.certificate_email(certificate_id=certificate_id)


def pipeline_sweep_task() -> dict[str, int]:
    return services.pipeline_sweep()
