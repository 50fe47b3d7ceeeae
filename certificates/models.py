from django.conf import settings
from django.db import models
from django.db.models import Q

from learners.models import Enrollment
from verification import codes


class Status(models.TextChoices):
    """Where a certificate is in the pipeline. The database, not the queue, remembers the work."""

    HELD = "held", "Held for staff"  # not issued: bad data or manual review; see status_reason
    ISSUED = "issued", "Issued, PDF pending"
    RENDERED = "rendered", "PDF ready, email pending"
    SENDING = "sending", "Email being sent"
    EMAILED = "emailed", "Emailed"
    DELIVERY_FAILED = "delivery_failed", "Email failed"
    REVOKED = "revoked", "Revoked"
    SUPERSEDED = "superseded", "Superseded"


#: Statuses in which a certificate is genuine and shown as valid on the verify page.
VALID_STATUSES = (Status.ISSUED, Status.RENDERED, Status.SENDING, Status.EMAILED, Status.DELIVERY_FAILED)
#: Statuses that count as the enrollment's current certificate (at most one, by constraint).
CURRENT_STATUSES = (Status.HELD, *VALID_STATUSES)
#: Statuses a member of the public may look up.
PUBLIC_STATUSES = (*VALID_STATUSES, Status.REVOKED, Status.SUPERSEDED)


class CertificateQuerySet(models.QuerySet):
    def current(self) -> "CertificateQuerySet":
        return self.filter(status__in=CURRENT_STATUSES)

    def public(self) -> "CertificateQuerySet":
        return self.filter(status__in=PUBLIC_STATUSES)


def pdf_upload_to(certificate: "Certificate", filename: str) -> str:
    return f"certificates/{certificate.code}-v{certificate.version}.pdf"


def preview_upload_to(certificate: "Certificate", filename: str) -> str:
    return f"certificates/{certificate.code}-v{certificate.version}.png"


class Certificate(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="certificates")
    version = models.PositiveIntegerField(default=1)
    code = models.CharField(max_length=codes.CODE_LENGTH, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ISSUED)
    status_reason = models.CharField(max_length=500, blank=True, help_text="Why it is held or failed.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Tries at the current pipeline step.")

    # What was printed, frozen at issue: later edits to the learner or course never change it.
    holder_name = models.CharField(max_length=300)
    recipient_email = models.CharField(max_length=254)
    course_title = models.CharField(max_length=300)
    instructor_name = models.CharField(max_length=200, blank=True)
    instructor_title = models.CharField(max_length=200, blank=True)
    organisation_name = models.CharField(max_length=200)
    template_family = models.CharField(max_length=20)
    completed_at = models.DateTimeField()
    issued_on = models.DateField()
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    cohort = models.CharField(max_length=300, blank=True)
    custom_fields = models.JSONField(default=list, blank=True)  # [[label, value], ...] in print order
    accent_color = models.CharField(max_length=7, default="#1F4E79")
    secondary_color = models.CharField(max_length=7, blank=True)
    page_size = models.CharField(max_length=10, default="A4")
    locale = models.CharField(max_length=20, default="en")
    logo_path = models.CharField(max_length=300, blank=True)  # storage names: branding files are never overwritten
    signature_path = models.CharField(max_length=300, blank=True)

    pdf = models.FileField(upload_to=pdf_upload_to, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    renderer_version = models.CharField(
        max_length=20, blank=True, help_text="Regenerating with the same renderer version gives the same bytes."
    )
    preview = models.FileField(upload_to=preview_upload_to, blank=True, help_text="1200x627 PNG for link previews.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True, help_text="When staff approved a manual review.")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Two workers racing on one completion cannot both win: the second insert fails.
            models.UniqueConstraint(
                fields=["enrollment"], condition=Q(status__in=CURRENT_STATUSES), name="certificate_one_current"
            ),
            models.UniqueConstraint(fields=["enrollment", "version"], name="certificate_unique_version"),
            models.CheckConstraint(
                name="certificate_rendered_has_pdf",
                condition=Q(rendered_at__isnull=True) | ~Q(pdf_sha256=""),
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="certificate_status_updated")]

    def __str__(self) -> str:
        return f"{self.display_code} ({self.holder_name or 'no name'}, {self.course_title})"

    @property
    def display_code(self) -> str:
        return codes.display(self.code)

    @property
    def is_valid(self) -> bool:
        return self.status in VALID_STATUSES

    @property
    def verify_url(self) -> str:
        return f"{settings.SITE_URL}/verify/{self.display_code}/"


class CertificateEvent(models.Model):
    """Append-only log of everything that happened to a certificate: who, what, when."""

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=100, default="system", help_text="'system', 'worker' or a username.")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("certificate events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("certificate events are append-only")


class Purpose(models.TextChoices):
    FIRST_SEND = "first_send", "First send"
    RESEND = "resend", "Resend"
    REISSUE_NOTICE = "reissue_notice", "Reissue notice"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"  # claimed by one worker; never sent twice
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One email of one certificate version to one address for one purpose: claimed, then sent once."""

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="deliveries")
    recipient = models.CharField(max_length=254)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.FIRST_SEND)
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
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            # A first send (or reissue notice) exists once per version and address, however often a
            # task runs; resends are explicit requests, each its own record.
            models.UniqueConstraint(
                fields=["certificate", "recipient", "purpose"],
                condition=~Q(purpose="resend"),
                name="delivery_once_per_purpose",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} of {self.certificate_id} to {self.recipient}: {self.status}"

    @property
    def message_id(self) -> str:
        """The same Message-ID on every try, so a receiving server can drop a duplicate."""
        return f"<laurel-delivery-{self.pk}@{settings.SITE_URL.split('//')[-1].split('/')[0].split(':')[0]}>"


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
    """An address that bounced or complained: not mailed again until the learner's email changes."""

    email = models.CharField(max_length=254, unique=True)
    reason = models.CharField(max_length=30)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "suppressed addresses"

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


# --- Worker watchdog (docs/WATCHDOG.md) ---------------------------------------------------------


class WorkerHeartbeat(models.Model):
    """When a worker cluster last finished a task; written (throttled) by the cluster, read by its supervisor."""

    name = models.CharField(max_length=200, unique=True, help_text="Cluster name @ host name.")
    last_task_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} at {self.last_task_at:%Y-%m-%d %H:%M:%S}"


class StallAction(models.TextChoices):
    RESTARTED_STALLED = "restarted_stalled", "Restarted: queued work stopped moving"
    RESTARTED_EXITED = "restarted_exited", "Restarted: cluster process exited"


class WorkerStall(models.Model):
    """A time the supervisor found its worker cluster stuck or gone and restarted it."""

    cluster = models.CharField(max_length=200)
    detected_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="When tasks finished again.")
    queued = models.PositiveIntegerField(help_text="Tasks waiting in the queue when the stall was detected.")
    last_task_at = models.DateTimeField(null=True, blank=True, help_text="Last finished task seen at detection.")
    action = models.CharField(max_length=30, choices=StallAction.choices)
    restarts = models.PositiveIntegerField(default=1, help_text="Restarts before tasks finished again.")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-detected_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.cluster} stalled at {self.detected_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
