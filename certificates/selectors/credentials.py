"""Reads of Open Badges credentials."""

from __future__ import annotations

from ..models import CertificateVersion, VersionCredential


def version_credential_document(version: CertificateVersion) -> dict | None:
    """The version's signed credential, or None before it is signed (or after the holder's data was erased)."""
    return VersionCredential.objects.filter(version=version).values_list("document", flat=True).first()
