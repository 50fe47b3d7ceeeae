"""Receivers only hand off: to the queue after commit, or (for the delivery app's reports, which must
commit with the delivery) to one small service in the same transaction."""

from django.dispatch import receiver

from delivery.signals import delivery_settled, delivery_tracked
from learners.signals import completion_recorded, completions_recorded

from .emails import COMPOSER
from .services.emailing import certificate_record_delivery, certificate_record_tracking
from .services.handoff import chunks, enqueue_after_commit

ISSUE_BATCH = 100


@receiver(completion_recorded, dispatch_uid="certificates.issue_on_completion")
def issue_on_completion(sender, *, enrollment_id: int, **kwargs) -> None:
    enqueue_after_commit("certificates.tasks.certificate_issue_task", enrollment_id)


@receiver(completions_recorded, dispatch_uid="certificates.issue_on_bulk_completion")
def issue_on_bulk_completion(sender, *, enrollment_ids: list[int], **kwargs) -> None:
    # One task per hundred completions: a 50,000-row import must not flood the queue.
    for chunk in chunks(enrollment_ids, ISSUE_BATCH):
        enqueue_after_commit("certificates.tasks.certificate_issue_batch_task", chunk)


@receiver(delivery_settled, dispatch_uid="certificates.record_delivery")
def record_delivery(
    sender, *, composer: str, reference: str, purpose: str, recipient: str, sent: bool, reason: str, **kwargs
) -> None:
    if composer == COMPOSER:
        certificate_record_delivery(reference=reference, purpose=purpose, recipient=recipient, sent=sent, reason=reason)


@receiver(delivery_tracked, dispatch_uid="certificates.record_tracking")
def record_tracking(
    sender, *, composer: str, reference: str, purpose: str, event_type: str, description: str, **kwargs
) -> None:
    if composer == COMPOSER:
        certificate_record_tracking(
            reference=reference, purpose=purpose, event_type=event_type, description=description
        )
