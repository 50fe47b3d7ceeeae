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


@transaction.atomic
def webhook_completion_receive(*, webhook_id: str, payload: dict, record: CompletionRecord) -> WebhookReceipt:
    """Record a verified LMS webhook once, whatever number of times it is delivered.

    The event row and the completion commit together: a rejected record leaves nothing behind, so
    the LMS can fix and resend it under the same id.
    """
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(webhook_id=webhook_id, payload=payload)
    except IntegrityError:
        return WebhookReceipt(duplicate=True)  # a replay, or a concurrent retry that lost the race
    result = completion_ingest(record=record, source=CompletionSource.WEBHOOK)
    event.enrollment_id, event.outcome = result.enrollment_id, result.outcome
    event.save(update_fields=["enrollment", "outcome"])
    return WebhookReceipt(duplicate=False, result=result)
