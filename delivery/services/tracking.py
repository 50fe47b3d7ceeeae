"""ESP tracking events applied to their deliveries (once each), and the addresses they suppress."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Delivery, SuppressedAddress, TrackingEvent
from ..signals import delivery_tracked

SUPPRESSING_EVENTS = {"bounced": "bounced", "complained": "complained", "rejected": "was rejected"}
TRACKED_EVENTS = {"delivered", "bounced", "complained", "rejected", "opened", "clicked", "deferred"}
TRACKING_RANK = {"": 0, "deferred": 1, "delivered": 2, "rejected": 3, "bounced": 4, "complained": 5}


def delivery_record_tracking(
    *,
    event_type: str,
    esp_message_id: str = "",
    recipient: str = "",
    event_id: str = "",
    occurred_at: datetime | None = None,
    metadata: dict | None = None,
    description: str = "",
) -> bool:
    """Apply one ESP tracking event to its delivery; an event seen before changes nothing.

    Returns whether the event was new. A bounce or complaint suppresses the address.
    """
    if event_type not in TRACKED_EVENTS:
        return False
    # The ESP's own message id first: our metadata could come from another deployment on one account.
    delivery = Delivery.objects.filter(esp_message_id=esp_message_id).first() if esp_message_id else None
    delivery_id = str((metadata or {}).get("delivery_id", ""))
    if delivery is None and delivery_id.isdigit() and not esp_message_id:
        delivery = Delivery.objects.filter(pk=int(delivery_id)).first()
    recipient = (recipient or "")[:254]
    stamp = occurred_at.isoformat() if occurred_at else ""
    key = event_id or hashlib.sha256(f"{esp_message_id}|{event_type}|{recipient}|{stamp}".encode()).hexdigest()
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(
                event_key=f"{event_type}:{key}"[:200],
                delivery=delivery,
                event_type=event_type,
                esp_message_id=esp_message_id[:200],
                recipient=recipient,
                description=description[:500],
                occurred_at=occurred_at,
            )
            if delivery is not None:
                if event_type in ("opened", "clicked"):
                    field = "opened_at" if event_type == "opened" else "clicked_at"
                    Delivery.objects.filter(pk=delivery.pk, **{f"{field}__isnull": True}).update(
                        **{field: occurred_at or timezone.now()}
                    )
                elif TRACKING_RANK[event_type] >= TRACKING_RANK.get(delivery.tracking_status, 0):
                    # Events arrive out of order: a late "delivered" must not hide a bounce.
                    Delivery.objects.filter(pk=delivery.pk).update(tracking_status=event_type)
                delivery_tracked.send(
                    sender=Delivery,
                    delivery_id=delivery.pk,
                    composer=delivery.composer,
                    reference=delivery.reference,
                    purpose=delivery.purpose,
                    event_type=event_type,
                    description=description[:500] or recipient,
                )
            address = recipient or (delivery.recipient if delivery else "")
            if event_type in SUPPRESSING_EVENTS and address:
                SuppressedAddress.objects.get_or_create(
                    email=address.lower()[:254],
                    defaults={"reason": SUPPRESSING_EVENTS[event_type], "description": description[:500]},
                )
    except IntegrityError:
        return False  # the ESP sent this event before
    return True
