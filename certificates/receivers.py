from functools import partial

from django.db import transaction
from django.dispatch import receiver
from django_q.tasks import async_task

from learners.signals import completion_recorded, completions_recorded


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
