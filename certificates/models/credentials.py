"""Open Badges credentials of versions and the status lists their bits live in (docs/CREDENTIALS.md).

A version's credential names one random position in its organisation's status lists, the same
position in each list (revocation, suspension, refresh). The bits are not stored: they are read
from the certificate's state when a list is served, so no transition can forget to set one.
"""

from django.db import models

from courses.models import Organisation

from .certificate import CertificateVersion


class StatusList(models.Model):
    """One numbered set of status lists of an organisation; a new one starts when it fills up."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    size = models.PositiveIntegerField(help_text="Entries in each of its lists (at least 131,072).")
    used = models.PositiveIntegerField(
        default=0, help_text="Entries taken: counted as each is made (under the list's row lock), never by COUNT."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="status_list_unique_number"),
            models.CheckConstraint(name="status_list_big_enough", condition=models.Q(size__gte=131_072)),
            models.CheckConstraint(name="status_list_used_within_size", condition=models.Q(used__lte=models.F("size"))),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.slug} status list {self.number}"


class VersionCredential(models.Model):
    """A version's OpenBadgeCredential: where its status bits are, and the signed document."""

    version = models.OneToOneField(CertificateVersion, on_delete=models.PROTECT, related_name="credential")
    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="entries")
    status_index = models.PositiveIntegerField()
    document = models.JSONField(null=True, blank=True, help_text="The signed credential; empty until signed.")
    key_id = models.CharField(max_length=100, blank=True, help_text="The key that signed it.")
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["status_list", "status_index"], name="credential_unique_status_index"),
            models.CheckConstraint(
                name="credential_signed_has_document",
                condition=models.Q(signed_at__isnull=True) | models.Q(document__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"credential of {self.version}"
