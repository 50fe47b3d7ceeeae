"""Certificates and their versions (``certificate``), learners' requests (``cases``), staff desk queues
(``queues``), Open Badges credentials and their status lists (``credentials``), background jobs
(``jobs``), the designs staff manage (``templates``), how often each was checked (``lookups``), and
what the worker supervisor remembers (``watchdog``)."""

from .cases import CLOSED_CASE_STATES, LIVE_CASE_STATES, Case, CaseEvent, CaseKind, CaseState
from .certificate import (
    ISSUED_STATES,
    RENDERED_STATES,
    SNAPSHOT_FIELDS,
    Certificate,
    CertificateEvent,
    CertificateQuerySet,
    CertificateVersion,
    Credential,
    Pipeline,
    VersionQuerySet,
    VersionReason,
    pdf_upload_to,
    preview_upload_to,
)
from .credentials import StatusList, VersionCredential
from .jobs import ItemOutcome, JobKind, JobState, StaffJob, StaffJobItem
from .lookups import LookupChannel, LookupCount
from .queues import CompletionDispute, DeliveryProblem, HeldCertificate, NameCorrection, ReviewCertificate
from .templates import CertificateTemplate, CertificateTemplateVersion, CertificateTemplateWording
from .watchdog import StallAction, WorkerHeartbeat, WorkerStall

__all__ = [
    "CLOSED_CASE_STATES",
    "ISSUED_STATES",
    "LIVE_CASE_STATES",
    "RENDERED_STATES",
    "SNAPSHOT_FIELDS",
    "Case",
    "CaseEvent",
    "CaseKind",
    "CaseState",
    "Certificate",
    "CertificateEvent",
    "CertificateQuerySet",
    "CertificateTemplate",
    "CertificateTemplateVersion",
    "CertificateTemplateWording",
    "CertificateVersion",
    "CompletionDispute",
    "DeliveryProblem",
    "HeldCertificate",
    "ItemOutcome",
    "JobKind",
    "JobState",
    "LookupChannel",
    "LookupCount",
    "NameCorrection",
    "ReviewCertificate",
    "Credential",
    "Pipeline",
    "StaffJob",
    "StaffJobItem",
    "StallAction",
    "StatusList",
    "VersionCredential",
    "VersionQuerySet",
    "VersionReason",
    "WorkerHeartbeat",
    "WorkerStall",
    "pdf_upload_to",
    "preview_upload_to",
]
