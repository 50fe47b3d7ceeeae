"""Reads for email delivery."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet

from .models import Delivery, DeliveryStatus, SuppressedAddress


def address_suppression(email: str) -> SuppressedAddress | None:
    """Why an address must not be mailed (it bounced or complained), or None."""
    return SuppressedAddress.objects.filter(email__iexact=email).first() if email else None


def deliveries_for(*, composer: str, references: Iterable[str | int]) -> QuerySet[Delivery]:
    return Delivery.objects.filter(composer=composer, reference__in=[str(r) for r in references])


def delivery_pending(*, composer: str, references: Iterable[str | int]) -> Delivery | None:
    """An email of these references that is on its way (or waiting to retry), if any."""
    return (
        deliveries_for(composer=composer, references=references)
        .filter(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING])
        .first()
    )


def requests_since(*, composer: str, references: Iterable[str | int], purpose: str, by, since: datetime) -> int:
    """How many emails of this purpose someone asked for since a moment (for daily limits)."""
    return (
        deliveries_for(composer=composer, references=references)
        .filter(purpose=purpose, requested_by=by, created_at__gte=since)
        .count()
    )
