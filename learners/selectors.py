"""Reads for learners and their completion records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db.models import Q

from .models import Decision, Enrollment
from .text import search_fold


def enrollments_awaiting_decision(*, older_than: datetime, limit: int) -> list[int]:
    """Completions whose issuance rule has not run (its task was lost), oldest first, not nudged lately."""
    return list(
        Enrollment.objects.filter(completed_at__isnull=False, decision=Decision.PENDING, updated_at__lt=older_than)
        .filter(Q(nudged_at__isnull=True) | Q(nudged_at__lt=older_than))
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


def learner_search_filter(term: str, *, learner_path: str = "") -> Q | None:
    """A filter for rows whose learner's names, address or LMS id hold every word typed, accents and
    case aside ("muller" finds "Müller"); None when nothing was typed."""
    words = search_fold(term).split()
    if not words:
        return None
    matches = Q()
    for word in words:
        matches &= Q(**{f"{learner_path}search_text__contains": word})
    return matches


@dataclass(frozen=True)
class ImportReportFile:
    name: str  # the file that was imported
    finished_at: datetime
    summary: str
    failed: bool


def last_import_report(directory: str) -> ImportReportFile | None:
    """The newest report the nightly import left in its drop folder (processed/ or failed/), or None."""
    if not directory:
        return None
    reports = []
    for outcome in ("processed", "failed"):
        folder = Path(directory) / outcome
        if folder.is_dir():
            reports += [(path.stat().st_mtime, outcome, path) for path in folder.glob("*.report.txt")]
    if not reports:
        return None
    mtime, outcome, path = max(reports)
    return ImportReportFile(
        name=path.name.removesuffix(".report.txt"),
        finished_at=datetime.fromtimestamp(mtime, tz=UTC),
        summary=path.read_text(encoding="utf-8", errors="replace").strip()[:2000],
        failed=outcome == "failed",
    )
