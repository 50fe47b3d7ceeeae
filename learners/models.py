import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from courses.models import PERCENT, Course, custom_fields_fit, validate_custom_fields

from .text import search_fold


def learner_search_key(*, full_name: str, preferred_name: str, approved_name: str, email: str, external_id: str) -> str:
    """What ``Learner.search_text`` holds; paths that write rows without a model instance use it too."""
    parts = (full_name, preferred_name, approved_name, email, external_id)
    return search_fold(" ".join(part for part in parts if part))[:1200]


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
    # Ours, never the LMS's: a name correction the learner asked for and staff approved. The LMS
    # keeps sending its own names, and those must not undo the correction.
    approved_name = models.CharField(
        max_length=300, blank=True, help_text="A corrected name staff approved; printed instead of the LMS's names."
    )
    # The LMS address a learner replaced with one they confirmed: the LMS sending it again (it still
    # has it) does not undo their change; a different address from the LMS does win.
    email_replaced = models.CharField(max_length=254, blank=True)
    # Names, address and LMS id folded (no accents, no case) for staff search; every write sets it
    # from ``search_key`` (a test checks that each path keeps the two equal).
    search_text = models.CharField(max_length=1200, blank=True, editable=False)
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
    def search_key(self) -> str:
        return learner_search_key(
            full_name=self.full_name,
            preferred_name=self.preferred_name,
            approved_name=self.approved_name,
            email=self.email,
            external_id=self.external_id,
        )

    @property
    def certificate_name(self) -> str:
        """The name printed on certificates."""
        return (self.approved_name or self.preferred_name or self.full_name).strip()


class CompletionSource(models.TextChoices):
    ADMIN = "admin", "Admin"
    DEMO = "demo", "Demo data"
    WEBHOOK = "webhook", "LMS webhook"
    CSV = "csv", "CSV import"
    LEARNER = "learner", "The learner"


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
    # Facts from the LMS that contradict each other or the calendar (a "not started" status with a
    # completion date, a date in the future): the certificate is held for staff until the LMS sends
    # sound facts or staff approve it (certificates reads this; learners only records it).
    review_reason = models.CharField(max_length=300, blank=True)
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


class SignInKind(models.TextChoices):
    LINK_REQUESTED = "link_requested", "Sign-in link requested"
    LINK_SENT = "link_sent", "Sign-in link sent"
    LINK_REFUSED = "link_refused", "Sign-in link refused (rate limit)"
    LINK_INVALID = "link_invalid", "Used, expired or forged link"
    SIGNED_IN = "signed_in", "Signed in"
    SIGNED_OUT = "signed_out", "Signed out"
    FAILED = "failed", "Wrong password"
    LOCKED_OUT = "locked_out", "Password attempts refused (rate limit)"


class SignInEvent(models.Model):
    """Who signed in or out, how, from where; append-only (a database trigger refuses changes)."""

    kind = models.CharField(max_length=20, choices=SignInKind.choices)
    method = models.CharField(max_length=20, blank=True)  # link / email_link / password
    # PROTECT: an audited account is deactivated, never deleted (the log cannot be rewritten).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    learner = models.ForeignKey(Learner, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    username = models.CharField(max_length=150, blank=True, help_text="The username tried, for wrong passwords.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        triggers = [pgtrigger.Protect(name="sign_in_events_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.user or self.username or ''}".strip()
