"""The sweep's part for email: re-nudge what is due, give back dead claims, report interrupted sends."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from ..errors import SEND_INTERRUPTED
from ..models import Delivery, DeliveryStatus
from .sending import announce_settled


def deliveries_sweep(*, stuck_after: int) -> dict[str, int]:
    """Re-nudge deliveries whose retry is due or whose task was lost; report interrupted sends.

    A nudge is recorded (the next attempt moves on), so one lost task is re-queued once per
    ``stuck_after``, not every minute for ever.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=stuck_after)
    # Claimed, but its message never began to go (the worker died connecting or in the envelope):
    # nobody can have it, so it is sent again. (A live worker that outlived its claim finds it
    # given back when it marks the message submitted, and stops.)
    released = Delivery.objects.filter(
        status=DeliveryStatus.SENDING, submitted_at__isnull=True, claimed_at__lt=cutoff
    ).update(status=DeliveryStatus.QUEUED, claimed_at=None, next_attempt_at=now)
    due = Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lt=cutoff)
    not_nudged = Q(nudged_at__isnull=True) | Q(nudged_at__lt=cutoff)
    ids = list(
        Delivery.objects.filter(due, not_nudged, status=DeliveryStatus.QUEUED).values_list("pk", flat=True)[:5000]
    )
    Delivery.objects.filter(pk__in=ids).update(nudged_at=now)
    for delivery_id in ids:
        async_task("delivery.tasks.delivery_send_task", delivery_id)
    # A send that began and never finished is not retried: a doubled email is worse than asking staff.
    interrupted = 0
    stale = now - timedelta(seconds=stuck_after * 5)
    for delivery in Delivery.objects.filter(
        status=DeliveryStatus.SENDING, submitted_at__isnull=False, claimed_at__lt=stale
    ):
        with transaction.atomic():
            if Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
                status=DeliveryStatus.FAILED, last_error=SEND_INTERRUPTED
            ):
                announce_settled(delivery, sent=False, reason=SEND_INTERRUPTED)
                interrupted += 1
    return {"retry": len(ids), "released": released, "interrupted": interrupted}
