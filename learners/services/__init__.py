"""Writes for learners and their completion records, one module per responsibility.

- ``identity``: learners, their details and email history
- ``completions``: one completion record (webhook, admin, an import row on the slow path)
- ``imports``: CSV exports in bulk (``rows``: their multi-row statements); ``drop_folder``: the nightly one
- ``lms_webhook``: LMS webhook events, recorded once
- ``accounts``: the site user a learner signs in as, sign-in links, confirmed address changes

What changes for a record is decided by the pure ``learners.planning``, shared by all of them.
"""

from courses.services import CourseError

from ..ingest import CompletionRecord
from ..planning import (
    COMPLETED_AT_NEEDS_TIMEZONE,
    CREATED,
    MISSING_EMAIL,
    MISSING_LEARNER_ID,
    MISSING_NAME,
    UNCHANGED,
    UPDATED,
)
from .accounts import (
    learner_approve_name,
    learner_change_email,
    learner_for_user,
    learner_user,
    sign_in_link_request,
    sign_in_link_send,
    sign_in_record,
    sign_in_token_check,
    sign_in_url,
    sign_in_with_token,
)
from .completions import (
    IngestResult,
    completion_ingest,
    enrollment_record_completion,
    enrollment_record_decision,
    enrollments_mark_nudged,
)
from .drop_folder import DROP_FOLDER_SETTLE_SECONDS, DROP_FOLDER_STALE_SECONDS, completions_import_drop_folder
from .errors import LearnerError
from .identity import learner_link_user, learner_update_details, learner_upsert
from .imports import IMPORT_BATCH, ImportReport, _ingest_batch, completions_import
from .lms_webhook import WebhookReceipt, webhook_completion_receive

__all__ = [
    "COMPLETED_AT_NEEDS_TIMEZONE",
    "CREATED",
    "DROP_FOLDER_SETTLE_SECONDS",
    "DROP_FOLDER_STALE_SECONDS",
    "IMPORT_BATCH",
    "MISSING_EMAIL",
    "MISSING_LEARNER_ID",
    "MISSING_NAME",
    "UNCHANGED",
    "UPDATED",
    "CompletionRecord",
    "CourseError",
    "ImportReport",
    "IngestResult",
    "LearnerError",
    "WebhookReceipt",
    "_ingest_batch",
    "completion_ingest",
    "completions_import",
    "completions_import_drop_folder",
    "enrollment_record_completion",
    "enrollment_record_decision",
    "enrollments_mark_nudged",
    "learner_approve_name",
    "learner_change_email",
    "learner_for_user",
    "learner_link_user",
    "learner_user",
    "sign_in_link_request",
    "sign_in_link_send",
    "sign_in_record",
    "sign_in_token_check",
    "sign_in_url",
    "sign_in_with_token",
    "learner_update_details",
    "learner_upsert",
    "webhook_completion_receive",
]
