"""Background jobs staff start from the desk: reissue many certificates, build a ZIP of a course's PDFs.

The request only writes the job and its items and queues the work after commit: it returns in the
same few queries for 20 certificates or 20,000. Workers claim items in small batches (PostgreSQL's
SKIP LOCKED lets several share one job), and each reissue and its item's outcome commit together.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import timedelta

from django.core.files import File
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from ..errors import CertificateError
from ..exports import csv_lines
from ..models import RENDERED_STATES, Certificate, CertificateVersion, Credential, VersionReason
from ..models.jobs import ITEM_DONE, ItemOutcome, JobKind, JobState, StaffJob, StaffJobItem
from .handoff import enqueue_after_commit
from .lifecycle import certificate_reissue, certificates_reissue_plan
from .snapshot import snapshot_of

logger = logging.getLogger(__name__)

#: Items a worker claims at a time, and how many workers a job is handed to at its start.
CLAIM_BATCH = 20
RUNNERS = 4
#: A reissue task stops claiming after this long and queues its own continuation: it stays well
#: inside the queue's task timeout (60 s), and the renders and emails it caused get workers between.
WORK_SLICE_SECONDS = 40
#: Tries a ZIP gets before the job is marked failed (each ends by being killed at ZIP_TIMEOUT).
ZIP_ATTEMPTS = 3
#: A ZIP task may run longer than a certificate's (reading many files), but never past the queue's
#: retry (180 s), or the broker would hand it to a second worker while the first still works.
ZIP_TIMEOUT = 150


class JobError(CertificateError, ValueError):
    pass


def _note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise JobError("say what was wrong: the note is kept with every new version")
    return note[:500]


@transaction.atomic
def reissue_job_start(
    *, certificate_ids: list[int], note: str, by, course_id: int | None = None, reason: str = ""
) -> StaffJob:
    """Start reissuing these certificates in the background; returns the job whose page shows progress."""
    note = _note(note)
    ids = sorted(set(certificate_ids))
    if not ids:
        raise JobError("no certificates to reissue")
    reason = reason or (VersionReason.COURSE_CORRECTION if course_id else VersionReason.BULK_REISSUE)
    if reason not in VersionReason.values or reason == VersionReason.FIRST_ISSUE:
        raise JobError(f"not a reason to reissue: {reason!r}")
    job = StaffJob.objects.create(
        kind=JobKind.REISSUE,
        course_id=course_id,
        reason=reason,
        note=note,
        total=len(ids),
        created_by=by if getattr(by, "pk", None) else None,
    )
    StaffJobItem.objects.bulk_create(
        [StaffJobItem(job=job, certificate_id=certificate_id) for certificate_id in ids], batch_size=1000
    )
    for _ in range(min(RUNNERS, (len(ids) + CLAIM_BATCH - 1) // CLAIM_BATCH)):
        enqueue_after_commit("certificates.tasks.staff_job_work_task", job.pk)
    return job


def _claim(job_id: int) -> list[StaffJobItem]:
    with transaction.atomic():
        pending = StaffJobItem.objects.filter(job_id=job_id, outcome=ItemOutcome.PENDING).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        items = list(pending[:CLAIM_BATCH])
        now = timezone.now()
        StaffJobItem.objects.filter(pk__in=[item.pk for item in items], outcome=ItemOutcome.PENDING).update(
            outcome=ItemOutcome.CLAIMED, claimed_at=now
        )
        for item in items:
            item.outcome, item.claimed_at = ItemOutcome.CLAIMED, now
        StaffJob.objects.filter(pk=job_id).update(updated_at=now)
    return items


class ClaimLost(Exception):
    """The sweep gave this item back (its claim looked dead): another worker does it; roll back."""


def _reissue_item(job: StaffJob, item: StaffJobItem) -> None:
    """One reissue and its outcome, in one transaction: done once, or not at all."""
    try:
        with transaction.atomic():
            version = certificate_reissue(
                certificate_id=item.certificate_id, reason=job.reason, note=job.note, by=job.created_by
            )
            outcome = ItemOutcome.REISSUED if version is not None else ItemOutcome.UNCHANGED
            if not _finish_item(item, outcome):
                raise ClaimLost(item.pk)
    except ClaimLost:
        logger.warning("job %s item %s was given back before it was done; left to its new worker", job.pk, item.pk)
    except CertificateError as exc:
        _finish_item(item, ItemOutcome.FAILED, str(exc))
    except Exception as exc:  # one broken certificate must not stop the other 1,999
        logger.exception("reissue of certificate %s in job %s failed", item.certificate_id, job.pk)
        _finish_item(item, ItemOutcome.FAILED, f"error: {type(exc).__name__}: {exc}")


def _finish_item(item: StaffJobItem, outcome: str, detail: str = "") -> bool:
    """Record an outcome if the claim is still this worker's (the same claim time); False if not."""
    return bool(
        StaffJobItem.objects.filter(pk=item.pk, outcome=ItemOutcome.CLAIMED, claimed_at=item.claimed_at).update(
            outcome=outcome, detail=detail[:500], finished_at=timezone.now()
        )
    )


def _finish_job_if_done(job_id: int) -> bool:
    if StaffJobItem.objects.filter(job_id=job_id).exclude(outcome__in=ITEM_DONE).exists():
        return False
    return bool(
        StaffJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(
            state=JobState.FINISHED, finished_at=timezone.now()
        )
    )


def staff_job_work(*, job_id: int, slice_seconds: float = WORK_SLICE_SECONDS) -> int:
    """Work on a job for a slice of time, then queue the rest as a new task; returns how many items
    this worker did. Safe to run on many workers at once, and again after a crash."""
    job = StaffJob.objects.select_related("created_by").get(pk=job_id)
    if job.state != JobState.RUNNING:
        return 0
    if job.kind == JobKind.EXPORT_ZIP:
        return int(export_zip_build(job_id=job_id))
    done, deadline = 0, time.monotonic() + slice_seconds
    while time.monotonic() < deadline and (items := _claim(job_id)):
        for item in items:
            _reissue_item(job, item)
            done += 1
    if not _finish_job_if_done(job_id) and time.monotonic() >= deadline:
        enqueue_after_commit("certificates.tasks.staff_job_work_task", job_id)  # the rest, as a new task
    return done


def staff_jobs_sweep(*, stuck_after: int) -> dict[str, int]:
    """Give back claims whose worker died, and nudge every running job that has waited too long."""
    cutoff = timezone.now() - timedelta(seconds=stuck_after)
    released = StaffJobItem.objects.filter(
        outcome=ItemOutcome.CLAIMED, claimed_at__lt=cutoff, job__state=JobState.RUNNING
    ).update(outcome=ItemOutcome.PENDING, claimed_at=None)
    stalled = list(
        StaffJob.objects.filter(state=JobState.RUNNING, updated_at__lt=cutoff)
        .filter(Q(kind=JobKind.REISSUE) | Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff))
        .values_list("pk", "kind")[:50]
    )
    for job_id, kind in stalled:
        StaffJob.objects.filter(pk=job_id).update(updated_at=timezone.now())
        options = {"timeout": ZIP_TIMEOUT} if kind == JobKind.EXPORT_ZIP else None
        enqueue_after_commit("certificates.tasks.staff_job_work_task", job_id, q_options=options)
    return {"job_items_released": released, "jobs_nudged": len(stalled)}


# -- a ZIP of a course's current PDFs --------------------------------------------------------------


@transaction.atomic
def export_zip_start(*, course_id: int, by) -> StaffJob:
    """Start building a ZIP of a course's current PDFs (valid and not, as issued); download it when ready."""
    job = StaffJob.objects.create(kind=JobKind.EXPORT_ZIP, course_id=course_id, created_by=by)
    enqueue_after_commit("certificates.tasks.staff_job_work_task", job.pk, q_options={"timeout": ZIP_TIMEOUT})
    return job


def _zip_versions(course_id: int):
    return (
        CertificateVersion.objects.current()
        .filter(certificate__enrollment__course_id=course_id, certificate__pipeline_state__in=RENDERED_STATES)
        .exclude(pdf="")
        .select_related("certificate")
        .order_by("certificate__code")
    )


def export_zip_build(*, job_id: int) -> bool:
    """Build the ZIP (claimed first, so two workers never both build it); False if another has it."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=ZIP_TIMEOUT + 30)
    claimed = (
        StaffJob.objects.filter(pk=job_id, state=JobState.RUNNING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    if StaffJob.objects.filter(pk=job_id, attempts__gt=ZIP_ATTEMPTS).update(
        state=JobState.FAILED,
        finished_at=now,
        error=f"gave up after {ZIP_ATTEMPTS} tries: each was stopped before the ZIP was complete",
    ):
        return True
    job = StaffJob.objects.select_related("course").get(pk=job_id)
    count = 0
    try:
        with tempfile.TemporaryFile() as buffer:
            # PDFs are compressed already: stored, not deflated, is as small and much faster.
            with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
                index = [["code", "version", "holder_name", "status", "pdf_sha256"]]
                for version in _zip_versions(job.course_id).iterator(chunk_size=500):
                    certificate = version.certificate
                    name = f"{certificate.display_code}-v{version.number}.pdf"
                    with version.pdf.open("rb") as source:
                        data = source.read()
                    archive.writestr(name, data)
                    status = (
                        "valid" if certificate.credential_state == Credential.ACTIVE else certificate.credential_state
                    )
                    index.append(
                        [
                            certificate.display_code,
                            version.number,
                            version.holder_name,
                            status,
                            hashlib.sha256(data).hexdigest(),
                        ]
                    )
                    count += 1
                rows = [dict(zip(index[0], row, strict=True)) for row in index[1:]]
                archive.writestr("index.csv", "".join(csv_lines(rows, index[0])))
            buffer.seek(0)
            name = f"{slugify(job.course.slug or job.course.title)}-certificates-{job.pk}.zip"
            job.file.save(name, File(buffer), save=False)
        StaffJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(
            file=job.file.name, total=count, state=JobState.FINISHED, finished_at=timezone.now()
        )
    except Exception as exc:
        logger.exception("ZIP job %s failed", job_id)
        StaffJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(
            state=JobState.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:500]
        )
    return True


def course_certificate_ids(*, course_id: int) -> list[int]:
    return list(
        Certificate.objects.public().filter(enrollment__course_id=course_id).order_by("pk").values_list("pk", flat=True)
    )


@dataclass
class ReissuePreview:
    """What a reissue would do, for the confirmation page: counts, and a before/after sample."""

    total: int
    changing: int
    unchanged: int
    refused: list[tuple[str, str]]
    sample: list[tuple[str, list[tuple[str, str, str]]]]  # (code, [(field, before, after)])


#: What a sample shows of each changing certificate (the snapshot's printed fields, by label).
SAMPLE_FIELDS = {
    "holder_name": "Name",
    "course_title": "Course",
    "organisation_name": "Organisation",
    "instructor_name": "Instructor",
    "instructor_title": "Instructor's title",
    "cohort": "Cohort",
    "custom_fields": "Custom fields",
    "template_family": "Template",
    "score": "Score",
    "accent_color": "Colour",
    "phrase": "Course's wording",
    "template_version_id": "Template version",
}


def reissue_preview(*, certificate_ids: list[int], sample: int = 5) -> ReissuePreview:
    """Count what a reissue of these certificates would change, and show a few before and after."""
    plan = certificates_reissue_plan(certificate_ids=certificate_ids)
    shown = []
    versions = (
        CertificateVersion.objects.current()
        .filter(certificate_id__in=plan.changing[:sample])
        .select_related(
            "certificate__enrollment__learner", "certificate__enrollment__course__organisation", "template_version"
        )
    )
    for version in versions:
        after, _problems = snapshot_of(version.certificate.enrollment, issued_on=version.issued_on)
        changes = [
            (label, str(getattr(version, name)), str(after[name]))
            for name, label in SAMPLE_FIELDS.items()
            if getattr(version, name) != after[name]
        ]
        shown.append((version.certificate.display_code, changes or [("Design", "as printed", "re-rendered")]))
    return ReissuePreview(
        total=len(set(certificate_ids)),
        changing=len(plan.changing),
        unchanged=plan.unchanged,
        refused=plan.refused,
        sample=shown,
    )


def course_zip_count(*, course_id: int) -> int:
    """How many PDFs a ZIP of the course would hold."""
    return _zip_versions(course_id).count()
