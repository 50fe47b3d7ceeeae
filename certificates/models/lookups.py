"""How often each certificate was checked, and how: counts per day and channel, nothing about the visitor."""

from django.db import models

from .certificate import Certificate


class LookupChannel(models.TextChoices):
    PAGE = "page", "Verify page"
    API = "api", "Verify API"
    FILE = "file", "File check"
    LINKEDIN_ADD = "linkedin_add", "LinkedIn: added to profile"
    LINKEDIN_SHARE = "linkedin_share", "LinkedIn: shared"


class LookupCount(models.Model):
    """One certificate, one day, one channel: how many times. No address, agent or referrer is kept."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="lookup_counts")
    day = models.DateField()
    channel = models.CharField(max_length=20, choices=LookupChannel.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["certificate", "day", "channel"], name="lookup_count_one_row_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id} {self.day} {self.channel}: {self.count}"
