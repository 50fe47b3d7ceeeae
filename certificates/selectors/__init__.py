"""Reads for certificates, shaped so that pages listing them run a fixed number of queries.

- ``records``: certificates and versions by code, hash or holder; the dashboard; exports; counts
- ``desk``: the staff desk: search, work pages, queue columns
- ``public``: what the public verify page, API and file check may show
"""

from .credentials import version_credential_document, versions_without_credential
from .desk import (
    CertificateWork,
    LearnerWork,
    UnprintableCharacter,
    certificate_work,
    learner_work,
    resend_refusal,
    search_by_learner,
    unprintable_characters,
    with_certificate_columns,
)
from .public import (
    PublicCertificate,
    public_certificate,
    public_facts,
    public_version,
    public_version_by_credential_id,
    public_version_by_pdf_sha256,
)
from .records import (
    EXPORT_CHUNK,
    Dashboard,
    DashboardEntry,
    certificate_by_typed_code,
    certificate_deliveries,
    certificate_downloadable_version,
    certificate_events,
    certificate_export_rows,
    certificate_for_user,
    certificate_ids_for_reissue,
    certificate_version_for_user,
    certificates_for_user,
    dashboard_for_user,
    pipeline_counts,
    version_by_code,
    version_by_pdf_sha256,
)

__all__ = [
    "version_credential_document",
    "versions_without_credential",
    "CertificateWork",
    "Dashboard",
    "DashboardEntry",
    "EXPORT_CHUNK",
    "LearnerWork",
    "PublicCertificate",
    "UnprintableCharacter",
    "certificate_by_typed_code",
    "certificate_deliveries",
    "certificate_downloadable_version",
    "certificate_events",
    "certificate_export_rows",
    "certificate_for_user",
    "certificate_ids_for_reissue",
    "certificate_version_for_user",
    "certificate_work",
    "certificates_for_user",
    "dashboard_for_user",
    "learner_work",
    "pipeline_counts",
    "public_certificate",
    "public_facts",
    "public_version",
    "public_version_by_credential_id",
    "public_version_by_pdf_sha256",
    "resend_refusal",
    "search_by_learner",
    "unprintable_characters",
    "version_by_code",
    "version_by_pdf_sha256",
    "with_certificate_columns",
]
