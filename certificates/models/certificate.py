"""A certificate is the credential a learner holds for one enrollment; its versions are what was printed.

The code is the certificate's and never changes: a name correction or a course rename makes a new
version under the same code, and the old version stays verifiable as superseded. Two states live on
the certificate, apart: where it is in the pipeline (held / issued / rendered / emailed ...) and what
the credential is worth (active / suspended / revoked), so revoking an emailed certificate keeps the
fact that it was emailed. Every change of either goes through ``certificates.transitions``.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from learners.models import Decision, Enrollment

from .. import codes


class Pipeline(models.TextChoices):
    """How far the issuing work has got. The database, not the queue, remembers it."""

    HELD = "held", "Held for staff"  # not issued: bad data or manual review; see state_reason
    REJECTED = "rejected", "Rejected in review"  # never issued, never public; the reason is the learner's
    ISSUED = "issued", "Issued, PDF pending"
    RENDERED = "rendered", "PDF ready, email pending"
    EMAILED = "emailed", "Emailed"
    DELIVERY_FAILED = "delivery_failed", "Email failed"


#: Pipeline states of a certificate that exists for the public (it has a current version).
ISSUED_STATES = (Pipeline.ISSUED, Pipeline.RENDERED, Pipeline.EMAILED, Pipeline.DELIVERY_FAILED)
#: ... and of one whose current version has its PDF.
RENDERED_STATES = (Pipeline.RENDERED, Pipeline.EMAILED, Pipeline.DELIVERY_FAILED)


class Credential(models.TextChoices):
    """What the credential is worth; shown on the verify page with the reason staff gave."""

    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"
    # The holder's personal data was erased: the code still answers, with no personal data.
    WITHDRAWN = "withdrawn", "Withdrawn (personal data erased)"


class VersionReason(models.TextChoices):
    FIRST_ISSUE = "first_issue", "First issue"
    NAME_CORRECTION = "name_correction", "Name correction"
    COURSE_CORRECTION = "course_correction", "Course correction"
    DISPUTE_DECISION = "dispute_decision", "Dispute decision"
    BULK_REISSUE = "bulk_reissue", "Bulk reissue"
    TEMPLATE_CHANGE = "template_change", "Template change"


class CertificateQuerySet(models.QuerySet):
    def public(self) -> "CertificateQuerySet":
        """Certificates a member of the public may look up (held and rejected ones were never issued)."""
        return self.filter(pipeline_state__in=ISSUED_STATES)

    def awaiting_review(self) -> "CertificateQuerySet":
        """Held because the course's rule asks a person to look (and nobody has approved it yet)."""
        return self.filter(
            pipeline_state=Pipeline.HELD, approved_at__isnull=True, enrollment__decision=Decision.NEEDS_REVIEW
        )

    def held_for_data(self) -> "CertificateQuerySet":
        """Held for anything else: a name the fonts cannot print, a bad address, a rule no longer met."""
        return self.filter(pipeline_state=Pipeline.HELD).exclude(
            approved_at__isnull=True, enrollment__decision=Decision.NEEDS_REVIEW
        )


class Certificate(models.Model):
    enrollment = models.OneToOneField(Enrollment, on_delete=models.PROTECT, related_name="certificate")
    code = models.CharField(max_length=codes.CODE_LENGTH, unique=True, editable=False)

    pipeline_state = models.CharField(max_length=20, choices=Pipeline.choices, default=Pipeline.ISSUED)
    state_reason = models.CharField(max_length=500, blank=True, help_text="Why it is held, rejected or failed.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Claimed tries at the current pipeline step.")
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker last claimed the step.")
    nudged_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep last re-queued the step.")

    credential_state = models.CharField(max_length=20, choices=Credential.choices, default=Credential.ACTIVE)
    credential_reason = models.CharField(max_length=500, blank=True, help_text="Shown on the verify page.")
    suspended_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True, help_text="When the holder's personal data was erased.")
    credential_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who last suspended, reinstated, revoked or un-revoked it (the log has every change).",
    )
    valid_until = models.DateField(null=True, blank=True, help_text="Blank: never expires.")

    issued_at = models.DateTimeField(null=True, blank=True, help_text="When version 1 was issued.")
    emailed_at = models.DateTimeField(null=True, blank=True, help_text="When the holder was first emailed.")
    approved_at = models.DateTimeField(null=True, blank=True, help_text="When staff approved a manual review.")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.CharField(
        max_length=500,
        blank=True,
        help_text="Issued by a staff decision although the course's rule said no (a completion dispute), and why.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        # What staff may do, beyond looking. The "support" and "admin" groups (a migration makes them)
        # hold these; docs/STAFF.md says who does what.
        permissions = [
            ("review_certificate", "Can approve, reject, re-check and fix held certificates"),
            ("resend_certificate", "Can resend a certificate's email"),
            ("reissue_certificate", "Can reissue one certificate"),
            ("revoke_certificate", "Can revoke, suspend and reinstate certificates"),
            ("unrevoke_certificate", "Can un-revoke a certificate"),
            ("reissue_course", "Can reissue every certificate of a course"),
            ("export_certificates", "Can export certificates (CSV, ZIP of PDFs)"),
            ("erase_personal_data", "Can erase a learner's personal data (certificates are withdrawn)"),
        ]
        constraints = [
            models.CheckConstraint(
                name="certificate_issued_has_issued_at",
                condition=~Q(pipeline_state__in=ISSUED_STATES) | Q(issued_at__isnull=False),
            ),
            models.CheckConstraint(
                name="certificate_held_never_issued",
                condition=~Q(pipeline_state__in=[Pipeline.HELD, Pipeline.REJECTED]) | Q(issued_at__isnull=True),
            ),
            models.CheckConstraint(
                name="certificate_rejected_has_rejected_at",
                condition=~Q(pipeline_state=Pipeline.REJECTED) | Q(rejected_at__isnull=False),
            ),
            models.CheckConstraint(
                name="certificate_revoked_has_revoked_at",
                condition=~Q(credential_state=Credential.REVOKED) | Q(revoked_at__isnull=False),
            ),
            models.CheckConstraint(
                name="certificate_suspended_has_suspended_at",
                condition=~Q(credential_state=Credential.SUSPENDED) | Q(suspended_at__isnull=False),
            ),
            models.CheckConstraint(
                name="certificate_withdrawn_has_withdrawn_at",
                condition=~Q(credential_state=Credential.WITHDRAWN) | Q(withdrawn_at__isnull=False),
            ),
            models.CheckConstraint(
                # Only an issued certificate can be revoked or suspended: a held one was never public.
                name="certificate_credential_needs_issue",
                condition=Q(credential_state=Credential.ACTIVE) | Q(issued_at__isnull=False),
            ),
            models.CheckConstraint(
                name="certificate_emailed_has_emailed_at",
                condition=~Q(pipeline_state=Pipeline.EMAILED) | Q(emailed_at__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["pipeline_state", "updated_at"], name="certificate_pipeline_updated")]

    def __str__(self) -> str:
        return self.display_code

    @property
    def display_code(self) -> str:
        return codes.display(self.code)

    @property
    def verify_url(self) -> str:
        return f"{settings.SITE_URL}/verify/{self.display_code}/"

    @property
    def is_public(self) -> bool:
        return self.pipeline_state in ISSUED_STATES

    @property
    def is_expired(self) -> bool:
        return self.valid_until is not None and self.valid_until < timezone.localdate()

    @property
    def is_valid(self) -> bool:
        """Genuine and in force: issued, active (neither suspended nor revoked) and not expired."""
        return self.is_public and self.credential_state == Credential.ACTIVE and not self.is_expired

    @property
    def is_revoked(self) -> bool:
        return self.credential_state == Credential.REVOKED

    @property
    def is_withdrawn(self) -> bool:
        return self.credential_state == Credential.WITHDRAWN

    @property
    def current_version(self) -> "CertificateVersion | None":
        """The version in force (None while held); selectors prefetch it as ``current_versions``."""
        if hasattr(self, "current_versions"):
            return self.current_versions[0] if self.current_versions else None
        return self.versions.filter(is_current=True).first()


def pdf_upload_to(version: "CertificateVersion", filename: str) -> str:
    return f"certificates/{version.certificate.code}-v{version.number}.pdf"


def preview_upload_to(version: "CertificateVersion", filename: str) -> str:
    return f"certificates/{version.certificate.code}-v{version.number}.png"


#: The snapshot fields of a version: what it prints (and the address it was issued to, which it does not).
SNAPSHOT_FIELDS = (
    "holder_name",
    "recipient_email",
    "course_title",
    "instructor_name",
    "instructor_title",
    "organisation_name",
    "template_family",
    "completed_at",
    "issued_on",
    "score",
    "cohort",
    "custom_fields",
    "accent_color",
    "secondary_color",
    "page_size",
    "locale",
    "logo_path",
    "signature_path",
    "phrase",
    "template_version_id",
)


class VersionQuerySet(models.QuerySet):
    def current(self) -> "VersionQuerySet":
        return self.filter(is_current=True)


class CertificateVersion(models.Model):
    """One frozen printing of a certificate: later edits to the learner or course never change it."""

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    reason = models.CharField(max_length=30, choices=VersionReason.choices, default=VersionReason.FIRST_ISSUE)
    note = models.CharField(max_length=500, blank=True, help_text="What staff wrote when they reissued it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    holder_name = models.CharField(max_length=300)
    recipient_email = models.CharField(max_length=254)
    course_title = models.CharField(max_length=300)
    instructor_name = models.CharField(max_length=200, blank=True)
    instructor_title = models.CharField(max_length=200, blank=True)
    organisation_name = models.CharField(max_length=200)
    template_family = models.CharField(max_length=20)
    completed_at = models.DateTimeField()
    issued_on = models.DateField(help_text="The date printed: the first issue's, kept by reissues.")
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    cohort = models.CharField(max_length=300, blank=True)
    custom_fields = models.JSONField(default=list, blank=True)  # [[label, value], ...] in print order
    accent_color = models.CharField(max_length=7, default="#1F4E79")
    secondary_color = models.CharField(max_length=7, blank=True)
    page_size = models.CharField(max_length=10, default="A4")
    locale = models.CharField(max_length=20, default="en")
    logo_path = models.CharField(max_length=300, blank=True)  # storage names: branding files are never overwritten
    signature_path = models.CharField(max_length=300, blank=True)
    phrase = models.CharField(max_length=200, blank=True, help_text="The course's own line of wording, if any.")
    template_version = models.ForeignKey(
        "certificates.CertificateTemplateVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificate_versions",
        help_text="The published template that printed it; blank: the built-in template of its family.",
    )

    pdf = models.FileField(upload_to=pdf_upload_to, blank=True, max_length=200)
    pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    preview = models.FileField(upload_to=preview_upload_to, blank=True, max_length=200)
    preview_sha256 = models.CharField(max_length=64, blank=True)
    renderer_version = models.CharField(
        max_length=20, blank=True, help_text="Regenerating with the same renderer version gives the same bytes."
    )
    rendered_at = models.DateTimeField(null=True, blank=True)
    credential_nudged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sweep last queued this version's credential to be signed."
    )

    objects = VersionQuerySet.as_manager()

    class Meta:
        ordering = ["certificate", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["certificate", "number"], name="version_unique_number"),
            # Exactly one current version: two racing reissues cannot both win.
            models.UniqueConstraint(fields=["certificate"], condition=Q(is_current=True), name="version_one_current"),
            models.CheckConstraint(
                name="version_current_xor_superseded",
                condition=Q(is_current=True, superseded_at__isnull=True)
                | Q(is_current=False, superseded_at__isnull=False),
            ),
            models.CheckConstraint(
                name="version_rendered_has_pdf", condition=Q(rendered_at__isnull=True) | ~Q(pdf_sha256="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certificate.display_code} v{self.number}"

    @property
    def display_code(self) -> str:
        return self.certificate.display_code

    @property
    def verify_url(self) -> str:
        """Where this very version is checked: the current one at the certificate's address."""
        if self.is_current:
            return self.certificate.verify_url
        return f"{self.certificate.verify_url}v{self.number}/"


class CertificateEvent(models.Model):
    """Append-only log of everything that happened to a certificate: who, what, when, from and to.

    The database refuses UPDATE and DELETE on PostgreSQL (a trigger), not only this class.
    """

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="events")
    version = models.ForeignKey(
        CertificateVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=40)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(max_length=150, default="system", help_text="'system', 'worker' or a username.")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        triggers = [
            pgtrigger.Protect(name="certificate_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("certificate events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("certificate events are append-only")

    @property
    def kind_label(self) -> str:
        return self.kind.replace("_", " ")
