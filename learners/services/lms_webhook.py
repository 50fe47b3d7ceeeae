"""Writes for the LMS webhook: each event recorded once, with the completion it carries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

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
    except IntegrityError:
        if WebhookEvent.objects.filter(webhook_id=webhook_id).exists():
            return WebhookReceipt(duplicate=True)  # a replay, or a concurrent retry that lost the race
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
