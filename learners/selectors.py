"""Reads for learners and their completion records."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from .models import Decision, Enrollment


def enrollments_awaiting_decision(*, older_than: datetime, limit: int) -> list[int]:
    """Completions whose issuance rule has not run (its task was lost), oldest first, not nudged lately."""
    return list(
        Enrollment.objects.filter(completed_at__isnull=False, decision=Decision.PENDING, updated_at__lt=older_than)
        .filter(Q(nudged_at__isnull=True) | Q(nudged_at__lt=older_than))
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
