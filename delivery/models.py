"""Email deliveries: one message to one address for one purpose, claimed before it is sent.

Like anymail, this app knows addresses, messages, attachments and tracking, not certificates: a
delivery names the *composer* that builds its message at send time and an opaque reference for it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"  # claimed by one worker; never sent twice
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


#: Purposes that are sent once per reference (a certificate's first email or notice, a request's answer);
#: anything else (a resend) is its own request each time.
ONCE_PER_REFERENCE = ("first_send", "reissue_notice", "case_decided")
#: ESP verdicts that mean a sent message never arrived: it does not count as delivered.
DEAD = ("bounced", "rejected")


#: What the ESP reported that staff must act on (the address is suppressed until it is corrected).
PROBLEM_TRACKING = ("bounced", "complained", "rejected")


class DeliveryQuerySet(models.QuerySet):
    def problems(self) -> "DeliveryQuerySet":
        """Failed, bounced or complained deliveries that nothing later replaced (no newer email for the
        same thing is on its way or arrived): the delivery-problems queue."""
        replaced = Delivery.objects.filter(
            composer=models.OuterRef("composer"),
            reference=models.OuterRef("reference"),
            created_at__gt=models.OuterRef("created_at"),
            status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.SENT],
        ).exclude(tracking_status__in=PROBLEM_TRACKING)
        failed = self.filter(Q(status=DeliveryStatus.FAILED) | Q(tracking_status__in=PROBLEM_TRACKING))
        return failed.exclude(models.Exists(replaced)).exclude(recipient="")  # erased: nothing left to fix


class Delivery(models.Model):
    composer = models.CharField(max_length=50, help_text="Which registered composer builds the message.")
    reference = models.CharField(max_length=100, help_text="What the composer builds it from (e.g. a version id).")
    recipient = models.CharField(max_length=254)
    purpose = models.CharField(max_length=30, default="first_send")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    esp_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    # What the ESP told us afterwards (anymail tracking webhooks).
    tracking_status = models.CharField(max_length=20, blank=True)  # delivered / bounced / complained / ...
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the message itself began to go to the server (SMTP DATA, the ESP's API call): "
        "a send interrupted before this never reached anyone, one interrupted after it may have.",
    )
    nudged_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep last re-queued it.")
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            # However often a task runs, a first send (or reissue notice) of one reference is queued,
            # sending or sent at most once. A failed or bounced one does not count: once the address
            # is corrected a new one may go out.
            models.UniqueConstraint(
                fields=["composer", "reference", "purpose"],
                condition=Q(purpose__in=ONCE_PER_REFERENCE) & ~Q(status="failed") & ~Q(tracking_status__in=DEAD),
                name="delivery_once_per_reference",
            ),
            models.CheckConstraint(
                name="delivery_sent_has_sent_at", condition=~Q(status="sent") | Q(sent_at__isnull=False)
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_is_due"),
            models.Index(fields=["composer", "reference"], name="delivery_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose.replace('_', ' ')} to {self.recipient}: {self.status}"

    @property
    def purpose_label(self) -> str:
        return self.purpose.replace("_", " ")

    @property
    def message_id(self) -> str:
        """The same Message-ID on every try, so a receiving server can drop a duplicate."""
        host = settings.SITE_URL.split("//")[-1].split("/")[0].split(":")[0]
        return f"<laurel-delivery-{self.pk}@{host}>"


class TrackingEvent(models.Model):
    """An ESP event we processed, kept so a webhook delivered twice changes things once."""

    event_key = models.CharField(max_length=200, unique=True)
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    event_type = models.CharField(max_length=30)
    esp_message_id = models.CharField(max_length=200, blank=True)
    recipient = models.CharField(max_length=254, blank=True)
    description = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.recipient}"


class SuppressedAddress(models.Model):
    """An address that bounced or complained: not mailed again (staff delete the row once it works)."""

    email = models.CharField(max_length=254, unique=True)
    reason = models.CharField(max_length=30)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "suppressed addresses"

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"
