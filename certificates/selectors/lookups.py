"""How often certificates were checked, and how: for staff, per certificate and per course."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone

from ..models import LookupChannel, LookupCount

#: The course table on the health page covers this many days.
COURSE_WINDOW_DAYS = 30


def lookup_totals(certificate_id: int) -> list[tuple[str, int]]:
    """Every channel with its count for one certificate, all time, in a fixed order (zeros kept)."""
    counts = dict(
        LookupCount.objects.filter(certificate_id=certificate_id)
        .values_list("channel")
        .annotate(total=Sum("count"))
        .values_list("channel", "total")
    )
    return [(channel.label, counts.get(channel.value, 0)) for channel in LookupChannel]


@dataclass(frozen=True)
class CourseLookups:
    course: str
    counts: tuple[int, ...]  # in LookupChannel order

    @property
    def total(self) -> int:
        return sum(self.counts)


def lookups_by_course(*, days: int = COURSE_WINDOW_DAYS) -> list[CourseLookups]:
    """Lookups per course and channel over the last ``days`` days, busiest course first: one query."""
    since = timezone.localdate() - timedelta(days=days - 1)
    rows = (
        LookupCount.objects.filter(day__gte=since)
        .values_list("certificate__enrollment__course__title", "channel")
        .annotate(total=Sum("count"))
        .order_by()
    )
    by_course: dict[str, dict[str, int]] = {}
    for title, channel, total in rows:
        by_course.setdefault(title, {})[channel] = total
    table = [
        CourseLookups(title, tuple(counts.get(channel.value, 0) for channel in LookupChannel))
        for title, counts in by_course.items()
    ]
    return sorted(table, key=lambda row: (-row.total, row.course))
