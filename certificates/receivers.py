from functools import partial

from django.db import transaction
from django.dispatch import receiver
from django_q.tasks import async_task

from learners.signals import completion_recorded


@receiver(completion_recorded, dispatch_uid="certificates.issue_on_completion")
def issue_on_completion(sender, *, enrollment_id: int, **kwargs) -> None:
    transaction.on_commit(partial(async_task, "certificates.tasks.certificate_issue_task", enrollment_id))
