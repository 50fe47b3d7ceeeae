"""Staff jobs that run in the background: reissuing many certificates, building a ZIP of a course's PDFs.

The job's rows remember the work, not the queue: each reissue is an item that is claimed, done and
recorded in the same transaction as the new version, so a worker killed halfway leaves nothing done
twice and nothing lost. The sweep gives claims that outlived their worker back, and nudges the job.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from courses.models import Course

from .certificate import Certificate


class JobKind(models.TextChoices):
    REISSUE = "reissue", "Reissue"
    EXPORT_ZIP = "export_zip", "ZIP of PDFs"


class JobState(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class StaffJob(models.Model):
    kind = models.CharField(max_length=20, choices=JobKind.choices)
    state = models.CharField(max_length=20, choices=JobState.choices, default=JobState.RUNNING)
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=30, blank=True, help_text="A reissue's version reason.")
    note = models.CharField(max_length=500, blank=True, help_text="What staff wrote: kept with every new version.")
    total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Blank: started by a command without --by.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker last took the job (a ZIP).")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker took a ZIP job.")
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="exports/", blank=True, max_length=200)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="job_finished_iff_finished_at",
                condition=Q(state=JobState.RUNNING, finished_at__isnull=True)
                | (~Q(state=JobState.RUNNING) & Q(finished_at__isnull=False)),
            )
        ]

    def __str__(self) -> str:
        what = self.course.title if self.course_id else f"{self.total} certificates"
        return f"{self.get_kind_display()} #{self.pk}: {what}"


class ItemOutcome(models.TextChoices):
    PENDING = "pending", "Waiting"
    CLAIMED = "claimed", "Being done"
    REISSUED = "reissued", "Reissued"
    UNCHANGED = "unchanged", "Unchanged (would print the same)"
    FAILED = "failed", "Not done"


#: Outcomes of an item whose work is over.
ITEM_DONE = (ItemOutcome.REISSUED, ItemOutcome.UNCHANGED, ItemOutcome.FAILED)


class StaffJobItem(models.Model):
    job = models.ForeignKey(StaffJob, on_delete=models.CASCADE, related_name="items")
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=20, choices=ItemOutcome.choices, default=ItemOutcome.PENDING)
    detail = models.CharField(max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "certificate"], name="job_item_once_per_certificate"),
            models.CheckConstraint(
                name="job_item_claimed_has_claimed_at",
                condition=~Q(outcome=ItemOutcome.CLAIMED) | Q(claimed_at__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["job", "outcome"], name="job_item_progress")]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.certificate_id}: {self.outcome}"
