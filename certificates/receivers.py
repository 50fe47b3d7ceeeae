from functools import partial

from anymail.signals import tracking as anymail_tracking
from django.db import transaction
from django.dispatch import receiver
from django_q.tasks import async_task

from learners.signals import completion_recorded, completions_recorded

from . import services


@receiver(completion_recorded, dispatch_uid="certificates.issue_on_completion")
def issue_on_completion(sender, *, enrollment_id: int, **kwargs) -> None:
    transaction.on_commit(partial(async_task, "certificates.tasks.certificate_issue_task", enrollment_id))


ISSUE_BATCH = 100


@receiver(completions_recorded, dispatch_uid="certificates.issue_on_bulk_completion")
def issue_on_bulk_completion(sender, *, enrollment_ids: list[int], **kwargs) -> None:
    # One task per hundred completions: a 50,000-row import must not flood the queue.
    for start in range(0, len(enrollment_ids), ISSUE_BATCH):
        chunk = list(enrollment_ids[start : start + ISSUE_BATCH])
        transaction.on_commit(partial(async_task, "certificates.tasks.certificate_issue_batch_task", chunk))


@receiver(anymail_tracking, dispatch_uid="certificates.record_email_tracking")
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
