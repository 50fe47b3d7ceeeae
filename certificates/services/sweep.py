"""The sweep: re-nudge work that has waited too long. The queue may lose a task, the database never does.

Each nudge is recorded (``nudged_at``), so an item is re-queued once per ``CERTIFICATE_STUCK_AFTER``,
not every minute for ever, and nudges go out in batches: a 50,000-row backlog is a few hundred tasks.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from delivery.services import deliveries_sweep
from learners.selectors import enrollments_awaiting_decision
from learners.services import enrollments_mark_nudged

from ..models import Certificate, CertificateVersion, Credential, Pipeline
from ..selectors.credentials import versions_without_credential
from .handoff import chunks
from .jobs import staff_jobs_sweep

#: Completions decided per task, and renders or emails per task: batches keep queue overhead small.
ISSUE_BATCH = 100
STEP_BATCH = 20
#: At most this many items a step per sweep; the rest wait for the next minute.
SWEEP_LIMIT = 5000


def pipeline_sweep() -> dict[str, int]:
    """Re-queue completions still undecided, certificates stuck before their PDF or their email, and
    versions still without their credential."""
    now = timezone.now()
    stuck_after = settings.CERTIFICATE_STUCK_AFTER
    cutoff = now - timedelta(seconds=stuck_after)
    counts: dict[str, int] = {}

    pending = enrollments_awaiting_decision(older_than=cutoff, limit=SWEEP_LIMIT)
    enrollments_mark_nudged(enrollment_ids=pending)
    for chunk in chunks(pending, ISSUE_BATCH):
        async_task("certificates.tasks.certificate_issue_batch_task", chunk)
    counts["issue"] = len(pending)

    for state, task, key in (
        (Pipeline.ISSUED, "certificates.tasks.certificate_render_batch_task", "render"),
        (Pipeline.RENDERED, "certificates.tasks.certificate_email_batch_task", "email"),
    ):
        ids = list(
            Certificate.objects.filter(pipeline_state=state, updated_at__lt=cutoff)
            .filter(Q(nudged_at__isnull=True) | Q(nudged_at__lt=cutoff))
            .filter(attempts__lt=settings.CERTIFICATE_MAX_ATTEMPTS)  # given up: waiting for staff
            .filter(credential_state=Credential.ACTIVE)  # suspended or revoked: resumed when valid again
            .order_by("updated_at")
            .values_list("pk", flat=True)[:SWEEP_LIMIT]
        )
        Certificate.objects.filter(pk__in=ids).update(nudged_at=now)
        for chunk in chunks(ids, STEP_BATCH):
            async_task(task, chunk)
        counts[key] = len(ids)
    # Credentials are queued on their own after the email; one the queue lost is signed here, its
    # nudge recorded like the others' (a burst's queue may hold its task for minutes).
    unsigned = list(
        versions_without_credential()
        .filter(rendered_at__lt=cutoff)
        .filter(Q(credential_nudged_at__isnull=True) | Q(credential_nudged_at__lt=cutoff))
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    CertificateVersion.objects.filter(pk__in=unsigned).update(credential_nudged_at=now)
    for chunk in chunks(unsigned, STEP_BATCH):
        async_task("certificates.tasks.credential_sign_batch_task", chunk)
    counts["credential"] = len(unsigned)
    counts.update(deliveries_sweep(stuck_after=stuck_after))
    counts.update(staff_jobs_sweep(stuck_after=stuck_after))
    return counts
