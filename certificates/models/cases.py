"""A learner's request ("my name is wrong", "I finished but got no certificate", "use my new address",
"send it again"), as a case staff can see and decide, and whose state the learner sees.

Its states change only through ``certificates.services.cases`` (one table, one helper), and every
change is a line in its append-only history.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from learners.models import Enrollment, Learner

from .certificate import Certificate


class CaseKind(models.TextChoices):
    NAME_CORRECTION = "name_correction", "Name correction"
    COMPLETION_DISPUTE = "completion_dispute", "Completion dispute"
    EMAIL_CHANGE = "email_change", "Email change"
    RESEND = "resend", "Resend"


class CaseState(models.TextChoices):
    OPEN = "open", "Open"
    WAITING_ON_LEARNER = "waiting_on_learner", "Waiting on learner"
    RESOLVED = "resolved", "Resolved"
    DECLINED = "declined", "Declined"


LIVE_CASE_STATES = (CaseState.OPEN, CaseState.WAITING_ON_LEARNER)
CLOSED_CASE_STATES = (CaseState.RESOLVED, CaseState.DECLINED)


class Case(models.Model):
    kind = models.CharField(max_length=20, choices=CaseKind.choices)
    state = models.CharField(max_length=20, choices=CaseState.choices, default=CaseState.OPEN)
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="cases")
    certificate = models.ForeignKey(Certificate, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    enrollment = models.ForeignKey(Enrollment, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    current_name = models.CharField(max_length=300, blank=True, help_text="The name printed when it was asked.")
    requested_name = models.CharField(max_length=300, blank=True)
    new_email = models.CharField(max_length=254, blank=True)
    message = models.TextField(max_length=2000, blank=True, help_text="In the learner's words.")
    decision_note = models.CharField(max_length=500, blank=True, help_text="The learner sees this.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_cases"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("decide_case", "Can take, decide and answer learners' requests")]
        constraints = [
            models.CheckConstraint(
                name="case_name_correction_has_name",
                condition=~Q(kind=CaseKind.NAME_CORRECTION) | (~Q(requested_name="") & Q(certificate__isnull=False)),
            ),
            models.CheckConstraint(
                name="case_email_change_has_address", condition=~Q(kind=CaseKind.EMAIL_CHANGE) | ~Q(new_email="")
            ),
            models.CheckConstraint(
                name="case_dispute_has_enrollment",
                condition=~Q(kind=CaseKind.COMPLETION_DISPUTE) | Q(enrollment__isnull=False),
            ),
            models.CheckConstraint(
                name="case_closed_iff_decided",
                condition=Q(state__in=CLOSED_CASE_STATES, decided_at__isnull=False)
                | Q(state__in=LIVE_CASE_STATES, decided_at__isnull=True),
            ),
            # One live request of a kind at a time: asking twice must not make two cases.
            models.UniqueConstraint(
                fields=["learner", "kind"],
                condition=Q(state__in=LIVE_CASE_STATES, kind__in=[CaseKind.NAME_CORRECTION, CaseKind.EMAIL_CHANGE]),
                name="case_one_live_per_learner",
            ),
            models.UniqueConstraint(
                fields=["enrollment", "kind"],
                condition=Q(state__in=LIVE_CASE_STATES, kind=CaseKind.COMPLETION_DISPUTE),
                name="case_one_live_dispute_per_enrollment",
            ),
        ]
        indexes = [models.Index(fields=["state", "kind"], name="case_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_state_display().lower()})"

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_CASE_STATES


class CaseEvent(models.Model):
    """Append-only history of a case: opened, assigned, waiting, resolved, declined, with who and why."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=30)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(max_length=150, default="system")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        triggers = [pgtrigger.Protect(name="case_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_state}->{self.to_state}".strip()
