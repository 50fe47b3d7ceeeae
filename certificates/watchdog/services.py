"""Writes for the watchdog: the progress marker and the stall record."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from certificates.models import StallAction, WorkerHeartbeat, WorkerStall


def heartbeat_record(*, name: str, at: datetime | None = None) -> None:
    """Record that cluster `name` finished a task at `at` (now): one UPDATE, an INSERT the first time."""
    at = at or timezone.now()
    if WorkerHeartbeat.objects.filter(name=name).update(last_task_at=at):
        return
    try:
        with transaction.atomic():
            WorkerHeartbeat.objects.create(name=name, last_task_at=at)
    except IntegrityError:  # another process created it first
        WorkerHeartbeat.objects.filter(name=name).update(last_task_at=at)


@transaction.atomic
def stall_record(
    *,
    cluster: str,
    action: StallAction,
    queued: int | None,
    last_task_at: datetime | None,
    detail: str,
    at: datetime | None = None,
) -> WorkerStall:
    """Record a restart of `cluster`; one made while its last stall is still open counts against that stall."""
    at = at or timezone.now()
    stall = WorkerStall.objects.select_for_update().filter(cluster=cluster, resolved_at__isnull=True).first()
    if stall is not None:
        WorkerStall.objects.filter(pk=stall.pk).update(
            restarts=F("restarts") + 1, detail=f"{stall.detail}\n{at:%Y-%m-%d %H:%M:%S} {action.label}: {detail}"
        )
        stall.refresh_from_db()
        return stall
    return WorkerStall.objects.create(
        cluster=cluster,
        detected_at=at,
        queued=queued or 0,
        last_task_at=last_task_at,
        action=action,
        detail=f"{at:%Y-%m-%d %H:%M:%S} {action.label}: {detail}",
    )


def stall_resolve(*, cluster: str, last_task_at: datetime) -> int:
    """Mark `cluster`'s open stall resolved at `last_task_at` if a task finished after it was detected."""
    return WorkerStall.objects.filter(cluster=cluster, resolved_at__isnull=True, detected_at__lt=last_task_at).update(
        resolved_at=last_task_at
    )
