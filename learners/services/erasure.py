"""Erasing a learner's personal data (the right to erasure), on their side of the line.

The certificates app calls this from its own erasure service, which also withdraws the
certificates; nothing else should. The row stays (enrollments and certificates point at it), with
no name, no address and no LMS id: the LMS sending the same person again makes a new learner.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from ..models import Enrollment, Learner, LearnerEmailChange, WebhookEvent

ERASED_PAYLOAD = {"erased": True}


@transaction.atomic
def learner_erase_personal_data(*, learner_id: int) -> list[str]:
    """Blank the learner's names, addresses and LMS id, their completion records' custom fields and
    the webhook payloads that carried them; returns every address we knew, for the caller to forget."""
    learner = Learner.objects.select_for_update().get(pk=learner_id)
    changes = LearnerEmailChange.objects.filter(learner=learner)
    addresses = {learner.email, learner.email_replaced, *changes.values_list("old_email", flat=True)}
    addresses |= set(changes.values_list("new_email", flat=True))
    changes.delete()
    enrollments = Enrollment.objects.filter(learner=learner)
    WebhookEvent.objects.filter(enrollment__in=enrollments).update(payload=ERASED_PAYLOAD)
    enrollments.update(custom_fields={}, cohort="")
    for field in ("email", "full_name", "preferred_name", "approved_name", "email_replaced"):
        setattr(learner, field, "")
    learner.external_id = f"erased-{learner.pk}"
    learner.search_text = learner.search_key
    learner.save()
    if learner.user_id:
        get_user_model().objects.filter(pk=learner.user_id).update(
            username=f"erased-{learner.pk}", email="", first_name="", last_name="", is_active=False
        )
    return sorted(address for address in addresses if address)
