"""Writes for the LMS webhook: each event recorded once, with the completion it carries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DatabaseError, transaction

from ..ingest import CompletionRecord
from ..models import CompletionSource, WebhookEvent
from .completions import IngestResult, completion_ingest


@dataclass(frozen=True, slots=True)
class WebhookReceipt:
    duplicate: bool
    result: IngestResult | None = None


def webhook_completion_receive(*, webhook_id: str, payload: dict, record: CompletionRecord) -> WebhookReceipt:
    """Record a verified LMS webhook once, whatever number of times it is delivered.

    The event row and the completion commit together: a rejected record leaves nothing behind, so
    the LMS can fix and resend it under the same id.
    """
    try:
        return _record(webhook_id=webhook_id, payload=payload, record=record)
    except Exception:
        # A replay is recorded (and ingested) as a first delivery would be, so whatever failed (its
        # INSERT on the unique id, or an ingest that would now refuse the record: a course renamed
        # since), a message we kept before is answered "duplicate", never an error the LMS retries.
        try:
            replay = WebhookEvent.objects.filter(webhook_id=webhook_id).exists()
        except DatabaseError:  # the database is down: the first error says so
            replay = False
        if replay:
            return WebhookReceipt(duplicate=True)
        raise


@transaction.atomic
def _record(*, webhook_id: str, payload: dict, record: CompletionRecord) -> WebhookReceipt:
    # The event row last, with its outcome, in one INSERT: a replay's INSERT fails on the unique id
    # and rolls the whole transaction back (its ingest included), with no savepoint and no second
    # write for every first delivery, which is nearly every one.
    result = completion_ingest(record=record, source=CompletionSource.WEBHOOK)
    WebhookEvent.objects.create(
        webhook_id=webhook_id, payload=payload, enrollment_id=result.enrollment_id, outcome=result.outcome
    )
    return WebhookReceipt(duplicate=False, result=result)
