from anymail.signals import tracking as anymail_tracking
from django.dispatch import receiver

from . import services


@receiver(anymail_tracking, dispatch_uid="delivery.record_email_tracking")
def record_email_tracking(sender, *, event, esp_name: str, **kwargs) -> None:
    # Written here rather than queued: a few fast queries, and if they fail the ESP retries the
    # webhook, which a queued task could not ask it to do.
    services.delivery_record_tracking(
        event_type=event.event_type,
        esp_message_id=event.message_id or "",
        recipient=event.recipient or "",
        event_id=f"{esp_name}:{event.event_id}" if event.event_id else "",
        occurred_at=event.timestamp,
        metadata=event.metadata or {},
        description=event.description or event.mta_response or "",
    )
