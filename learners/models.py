from django.conf import settings
from django.db import models
from django.db.models import Q

from courses.models import PERCENT, Course, custom_fields_fit, validate_custom_fields


class Learner(models.Model):
    """A person as the LMS knows them. Identity is (lms, external_id): emails change mid-course."""

    lms = models.CharField(max_length=50, default="default", help_text="Which LMS the id belongs to.")
    external_id = models.CharField(max_length=200, help_text="The LMS's user id.")
    email = models.CharField(
        max_length=254, blank=True
    )  # validated at issue time, not here: bad data must still arrive
    full_name = models.CharField(max_length=300, blank=True)
    preferred_name = models.CharField(
        max_length=300, blank=True, help_text="Printed on certificates instead of the full name when set."
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="learner"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name", "pk"]
        constraints = [models.UniqueConstraint(fields=["lms", "external_id"], name="learner_unique_lms_id")]

    def __str__(self) -> str:
        return f"{self.certificate_name or '(no name)'} [{self.external_id}]"

    @property
    def certificate_name(self) -> str:
        """The name printed on certificates."""
        return (self.preferred_name or self.full_name).strip()


class CompletionSource(models.TextChoices):
    ADMIN = "admin", "Admin"
    DEMO = "demo", "Demo data"
    WEBHOOK = "webhook", "LMS webhook"
    CSV = "csv", "CSV import"


class Decision(models.TextChoices):
    PENDING = "pending", "Not evaluated yet"
    ELIGIBLE = "eligible", "Eligible"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    NEEDS_REVIEW = "needs_review", "Needs review"


class Enrollment(models.Model):
    """A learner on a course, and the completion record the LMS reported for it."""

    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrollments")
    completed_at = models.DateTimeField(null=True, blank=True)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True, validators=PERCENT)
    attendance = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True, validators=PERCENT)
    source = models.CharField(max_length=20, choices=CompletionSource.choices, default=CompletionSource.ADMIN)
    cohort = models.CharField(max_length=200, blank=True, help_text="Overrides the course's cohort name.")
    custom_fields = models.JSONField(
        default=dict, blank=True, validators=[validate_custom_fields], help_text='e.g. {"Grade": "A", "Skills": "SQL"}'
    )
    # The issuance rule's last verdict, kept so a dispute is decided from facts.
    decision = models.CharField(max_length=20, choices=Decision.choices, default=Decision.PENDING)
    decision_reason = models.CharField(max_length=300, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    nudged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sweep last re-queued the rule's run (its task was lost)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-completed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "course"], name="enrollment_unique_learner_course"),
            models.CheckConstraint(
                name="enrollment_score_is_percent", condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100)
            ),
            models.CheckConstraint(
                name="enrollment_attendance_is_percent",
                condition=Q(attendance__isnull=True) | Q(attendance__gte=0, attendance__lte=100),
            ),
            models.CheckConstraint(name="enrollment_custom_fields_fit", condition=custom_fields_fit("custom_fields")),
        ]

    def __str__(self) -> str:
        return f"{self.learner} on {self.course}"


class LearnerEmailChange(models.Model):
    """History of a learner's addresses: the LMS id stays, the email moves on."""

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="email_changes")
    old_email = models.CharField(max_length=254, blank=True)
    new_email = models.CharField(max_length=254, blank=True)
    source = models.CharField(max_length=20, choices=CompletionSource.choices)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.old_email or '(none)'} -> {self.new_email}"


class WebhookEvent(models.Model):
    """Every accepted LMS webhook, kept for good: its id makes a replay harmless."""

    webhook_id = models.CharField(max_length=200, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()
    enrollment = models.ForeignKey(Enrollment, null=True, blank=True, on_delete=models.SET_NULL)
    outcome = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return self.webhook_id
