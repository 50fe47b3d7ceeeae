"""Reads of Open Badges credentials."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import RENDERED_STATES, CertificateVersion, Credential, VersionCredential


def version_credential_document(version: CertificateVersion) -> dict | None:
    """The version's signed credential, or None before it is signed (or after the holder's data was erased)."""
    return VersionCredential.objects.filter(version=version).values_list("document", flat=True).first()


def versions_without_credential(*, course_slug: str | None = None) -> QuerySet[CertificateVersion]:
    """Current rendered versions with no signed credential (rendered before credentials existed, or
    whose signing failed), oldest first. Withdrawn ones are left out: their holder's data is erased."""
    versions = (
        CertificateVersion.objects.filter(is_current=True, certificate__pipeline_state__in=RENDERED_STATES)
        .exclude(pdf_sha256="")
        .exclude(certificate__credential_state=Credential.WITHDRAWN)
        .exclude(credential__document__isnull=False)
        .order_by("pk")
    )
    return versions.filter(certificate__enrollment__course__slug=course_slug) if course_slug else versions
