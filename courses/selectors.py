"""Reads for courses."""

from __future__ import annotations

from django.db.models import Q

from .models import Course


def course_by_key(key: str) -> Course | None:
    """A course by our slug or by the LMS's course id (imports and webhooks send either)."""
    key = (key or "").strip()
    if not key:
        return None
    return Course.objects.filter(Q(slug__iexact=key) | Q(external_id=key)).order_by("pk").first()
