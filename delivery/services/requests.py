"""Asking for an email, pointing a waiting one elsewhere, and forgetting addresses."""

from __future__ import annotations

from functools import partial

from django.db import IntegrityError, transaction
from django_q.tasks import async_task

from ..models import DEAD, ONCE_PER_REFERENCE, Delivery, DeliveryStatus, TrackingEvent


def delivery_request(
    *, composer: str, reference: str | int, recipient: str, purpose: str, requested_by=None, enqueue: bool = True
) -> tuple[Delivery, bool]:
    """Ask for one email; returns (delivery, created). Safe to call twice: a first send or notice of
    one reference that is queued, sending or sent already is returned instead of a second one."""
    reference = str(reference)
    by = requested_by if getattr(requested_by, "pk", None) else None
    if purpose in ONCE_PER_REFERENCE:
        existing = _live(composer, reference, purpose)
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                composer=composer, reference=reference, recipient=recipient, purpose=purpose, requested_by=by
            )
    except IntegrityError:  # another worker asked a moment ago
        existing = _live(composer, reference, purpose)
        if existing is None:
            raise
        return existing, False
    if enqueue:
        transaction.on_commit(partial(async_task, "delivery.tasks.delivery_send_task", delivery.pk))
    return delivery, True


def _live(composer: str, reference: str, purpose: str) -> Delivery | None:
    return (
        Delivery.objects.filter(composer=composer, reference=reference, purpose=purpose)
        .exclude(status=DeliveryStatus.FAILED)
        .exclude(tracking_status__in=DEAD)
        .first()
    )


def delivery_repoint(*, delivery_id: int, recipient: str) -> bool:
    """Send a delivery that is still waiting to a corrected address instead; False if it has gone."""
    return bool(
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED)
        .exclude(recipient=recipient)
        .update(recipient=recipient)
    )


@transaction.atomic
def delivery_forget_addresses(addresses: list[str]) -> int:
    """Erase addresses (the person asked to be forgotten): unsent deliveries to them are dropped,
    and no delivery or tracking event keeps them. Returns how many deliveries held one."""
    if not addresses:
        return 0
    deliveries = Delivery.objects.filter(recipient__in=addresses)
    deliveries.filter(status=DeliveryStatus.QUEUED).update(status=DeliveryStatus.FAILED, last_error="address erased")
    TrackingEvent.objects.filter(recipient__in=addresses).update(recipient="")
    return deliveries.update(recipient="")
