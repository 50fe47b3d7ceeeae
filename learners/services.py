"""Writes for learners and their completion records."""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.db import IntegrityError, transaction
from django.utils import timezone

from courses.custom_fields import CustomFieldsError, check_custom_fields
from courses.models import IssuanceRule
from courses.rules import Decision as RuleDecision
from courses.selectors import course_by_key
from courses.services import CourseError, course_get_or_create_from_import

from .csv_import import FileError, read_records, rejected_rows_writer
from .ingest import CompletionRecord
from .models import CompletionSource, Decision, Enrollment, Learner, LearnerEmailChange, WebhookEvent
from .signals import completion_recorded, completions_recorded
from .text import clean_custom_fields, clean_name

logger = logging.getLogger(__name__)


class LearnerError(ValueError):
    """A record we cannot take; the message says why, in words the sender understands."""


COMPLETED_AT_NEEDS_TIMEZONE = "completed_at must carry a timezone"
MISSING_LEARNER_ID = "missing learner id"
MISSING_NAME = "missing name"
MISSING_EMAIL = "missing email"


@transaction.atomic
def learner_upsert(
    *,
    external_id: str,
    email: str,
    full_name: str,
    preferred_name: str = "",
    lms: str = "default",
    source: str = CompletionSource.ADMIN,
    keep_blank: bool = False,
) -> Learner:
    """Create or update a learner by LMS id. A changed email updates the same learner, history kept.

    With ``keep_blank`` an empty value leaves what we had (exports that lack a column).
    """
    learner, _ = _learner_upsert(
        external_id=external_id,
        email=email,
        full_name=full_name,
        preferred_name=preferred_name,
        lms=lms,
        source=source,
        keep_blank=keep_blank,
    )
    return learner


def _learner_values(*, email: str, full_name: str, preferred_name: str) -> dict[str, str]:
    return {
        "email": clean_name(email),
        "full_name": clean_name(full_name),
        "preferred_name": clean_name(preferred_name),
    }


def _learner_changes(learner: Learner, values: dict[str, str], *, keep_blank: bool) -> dict[str, str]:
    return {f: v for f, v in values.items() if getattr(learner, f) != v and (v or not keep_blank)}


def _check_record(record: CompletionRecord, existing: Learner | None) -> None:
    """What an LMS must tell us about a learner we do not know yet (exports may omit known details)."""
    if not record.learner_id.strip():
        raise LearnerError(MISSING_LEARNER_ID)
    if not record.full_name.strip() and not record.preferred_name.strip() and not (existing and existing.full_name):
        raise LearnerError(MISSING_NAME)
    if not record.email and not (existing and existing.email):
        raise LearnerError(MISSING_EMAIL)


def _record_facts(record: CompletionRecord) -> dict:
    return {
        "completed_at": record.completed_at,
        "score": record.score,
        "attendance": record.attendance,
        "cohort": record.cohort,
        "custom_fields": record.custom_fields,
    }


def _learner_upsert(*, external_id, email, full_name, preferred_name, lms, source, keep_blank) -> tuple[Learner, bool]:
    external_id = (external_id or "").strip()
    if not external_id:
        raise LearnerError(MISSING_LEARNER_ID)
    values = _learner_values(email=email, full_name=full_name, preferred_name=preferred_name)
    learner = Learner.objects.select_for_update().filter(lms=lms, external_id=external_id).first()
    if learner is None:
        try:
            with transaction.atomic():
                return Learner.objects.create(lms=lms, external_id=external_id, **values), True
        except IntegrityError:  # the same learner arrived twice at once
            learner = Learner.objects.select_for_update().get(lms=lms, external_id=external_id)
    changes = _learner_changes(learner, values, keep_blank=keep_blank)
    if not changes:
        return learner, False
    if "email" in changes:
        LearnerEmailChange.objects.create(
            learner=learner, old_email=learner.email, new_email=changes["email"], source=source
        )
    for field_name, value in changes.items():
        setattr(learner, field_name, value)
    learner.save(update_fields=[*changes, "updated_at"])
    return learner, True


@transaction.atomic
def learner_update_details(
    *,
    learner_id: int,
    email: str,
    full_name: str,
    preferred_name: str = "",
    source: str = CompletionSource.ADMIN,
) -> Learner:
    """Correct a learner's details, email history kept; completions waiting on bad data are evaluated again."""
    learner = Learner.objects.select_for_update().get(pk=learner_id)
    values = _learner_values(email=email, full_name=full_name, preferred_name=preferred_name)
    changes = _learner_changes(learner, values, keep_blank=False)
    if "email" in changes:
        LearnerEmailChange.objects.create(
            learner=learner, old_email=learner.email, new_email=changes["email"], source=source
        )
    for field_name, value in changes.items():
        setattr(learner, field_name, value)
    if changes:
        learner.save(update_fields=[*changes, "updated_at"])
    for enrollment_id in learner.enrollments.filter(completed_at__isnull=False).values_list("pk", flat=True):
        completion_recorded.send(sender=Enrollment, enrollment_id=enrollment_id)
    return learner


def learner_link_user(*, learner_id: int, user_id: int | None) -> None:
    """Link a learner to the site account they sign in with (their dashboard), or unlink it."""
    Learner.objects.filter(pk=learner_id).update(user_id=user_id, updated_at=timezone.now())


@transaction.atomic
def enrollment_record_completion(
    *,
    learner_id: int,
    course_id: int,
    completed_at: datetime | None,
    score: Decimal | None = None,
    attendance: Decimal | None = None,
    cohort: str = "",
    custom_fields: dict | None = None,
    source: str = CompletionSource.ADMIN,
) -> Enrollment:
    """Record what the LMS says about a learner on a course; safe to call again with the same facts.

    New or changed facts send ``completion_recorded`` so the issuance rule runs (again) after commit.
    """
    enrollment, outcome = _record_completion(
        learner_id=learner_id,
        course_id=course_id,
        source=source,
        facts={
            "completed_at": completed_at,
            "score": score,
            "attendance": attendance,
            "cohort": clean_name(cohort),
            "custom_fields": clean_custom_fields(custom_fields),
        },
    )
    if outcome != UNCHANGED and enrollment.completed_at is not None:
        completion_recorded.send(sender=Enrollment, enrollment_id=enrollment.pk)
    return enrollment


CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def _record_completion(*, learner_id: int, course_id: int, facts: dict, source: str) -> tuple[Enrollment, str]:
    if facts["completed_at"] is not None and timezone.is_naive(facts["completed_at"]):
        raise LearnerError(COMPLETED_AT_NEEDS_TIMEZONE)
    try:
        check_custom_fields(facts["custom_fields"])
    except CustomFieldsError as exc:
        raise LearnerError(str(exc)) from exc
    enrollment, created = Enrollment.objects.select_for_update().get_or_create(
        learner_id=learner_id, course_id=course_id, defaults={**facts, "source": source}
    )
    if created:
        return enrollment, CREATED
    if all(getattr(enrollment, name) == value for name, value in facts.items()):
        return enrollment, UNCHANGED
    for name, value in facts.items():
        setattr(enrollment, name, value)
    enrollment.source = source
    # New facts, new verdict: the sweep re-runs anything left pending if the signal is lost.
    enrollment.decision = Decision.PENDING
    enrollment.save()
    return enrollment, UPDATED


@dataclass(frozen=True, slots=True)
class IngestResult:
    enrollment_id: int
    outcome: str  # created / updated / unchanged
    queued: bool  # the issuance rule will run for it


@transaction.atomic
def completion_ingest(
    *, record: CompletionRecord, source: str, notify: bool = True, create_courses: bool = False
) -> IngestResult:
    """Take one completion from an LMS (webhook or import row): learner, course, facts. Idempotent.

    Raises ``LearnerError`` with a reason a person understands when the record cannot be taken; then
    nothing is written. With ``notify=False`` the caller (a bulk import) queues issuance itself.
    """
    course = course_by_key(record.course_key)
    if course is None and create_courses and record.course_key:
        course = course_get_or_create_from_import(key=record.course_key, title=record.course_title)
    if course is None:
        raise LearnerError(f"unknown course {record.course_key}" if record.course_key else "missing course")
    _check_record(record, Learner.objects.filter(lms=record.lms, external_id=record.learner_id.strip()).first())
    learner, learner_changed = _learner_upsert(
        external_id=record.learner_id,
        email=record.email,
        full_name=record.full_name,
        preferred_name=record.preferred_name,
        lms=record.lms,
        source=source,
        keep_blank=True,
    )
    enrollment, outcome = _record_completion(
        learner_id=learner.pk,
        course_id=course.pk,
        source=source,
        facts=_record_facts(record),
    )
    if outcome == UNCHANGED and learner_changed:
        outcome = UPDATED  # a corrected name may release a held certificate
    queued = outcome != UNCHANGED and enrollment.completed_at is not None
    if queued and notify:
        completion_recorded.send(sender=Enrollment, enrollment_id=enrollment.pk)
    return IngestResult(enrollment.pk, outcome, queued)


def enrollment_record_decision(*, enrollment_id: int, decision: RuleDecision) -> None:
    """Keep the issuance rule's verdict and reason on the completion record."""
    Enrollment.objects.filter(pk=enrollment_id).update(
        decision=decision.outcome.value, decision_reason=decision.reason[:300], decided_at=timezone.now()
    )


IMPORT_BATCH = 500


@dataclass
class ImportReport:
    layout: str = ""
    encoding: str = ""
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    queued: int = 0
    dry_run: bool = False
    rejections: list[tuple[int, str]] = field(default_factory=list)  # the first few, for the summary

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self) -> str:
        verb = "would be " if self.dry_run else ""
        return (
            f"{self.read} rows read ({self.layout}, {self.encoding}): {self.created} {verb}created, "
            f"{self.updated} {verb}updated, {self.unchanged} unchanged, {self.rejected} rejected, "
            f"{self.queued} certificates {verb}queued"
        )


def completions_import(
    *,
    handle: BinaryIO,
    layout: str = "auto",
    course: str = "",
    mapping: dict[str, str] | None = None,
    encoding: str = "",
    create_courses: bool = False,
    dry_run: bool = False,
    errors_path: Path | None = None,
    lms: str = "default",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import an LMS completion export; safe to run again, or after a run killed half-way.

    Raises ``FileError`` (nothing imported) when the file itself is unusable. Rows are committed in
    batches, each row on its own savepoint, so a bad row is reported and the good rows still land.
    With ``dry_run`` everything runs and is then rolled back: the report says what would change.
    """
    if course and course_by_key(course) is None and not create_courses:
        raise FileError(f"unknown course {course} (or pass --create-courses)")
    parsed, rows = read_records(
        handle,
        layout=layout,
        course=course,
        mapping=mapping,
        lms=lms,
        encoding=encoding,
        default_tz=timezone.get_current_timezone(),
        now=timezone.now(),
    )
    if parsed.layout == "canvas" and course and course_by_key(course).issuance_rule == IssuanceRule.ON_COMPLETION:
        raise FileError(
            "a Canvas gradebook has no completion status: every student with a score would count as "
            "complete. Import it for a course with a minimum-score rule, or add a status column."
        )
    report = ImportReport(layout=parsed.layout, encoding=parsed.encoding, dry_run=dry_run)
    errors_file, errors = rejected_rows_writer(errors_path, parsed.headers) if errors_path else (None, None)
    try:
        if dry_run:
            with transaction.atomic():
                _import_rows(rows, report, errors, create_courses=create_courses, progress=progress, handle=handle)
                transaction.set_rollback(True)
        else:  # no outer transaction: each batch commits, so a killed run keeps what it finished
            _import_rows(rows, report, errors, create_courses=create_courses, progress=progress, handle=handle)
    finally:
        if errors_file:
            errors_file.close()
    return report


def _import_rows(rows, report: ImportReport, errors, *, create_courses: bool, progress, handle) -> None:
    iterator = iter(rows)
    courses: dict[str, object] = {}
    while batch := list(itertools.islice(iterator, IMPORT_BATCH)):
        report.read += len(batch)
        records = [(row, row.record) for row in batch if row.record is not None]
        try:
            with transaction.atomic():  # one commit per batch: fast, and a killed run keeps what it did
                results = _ingest_batch(records, create_courses=create_courses, courses=courses)
                _finish_batch(results, report)
        except IntegrityError:
            # Someone else (the webhook) wrote one of these learners meanwhile: redo the batch row by row.
            courses.clear()
            results = []
            for row, record in records:
                try:
                    results.append(
                        (
                            row,
                            completion_ingest(
                                record=record, source=CompletionSource.CSV, notify=False, create_courses=create_courses
                            ),
                        )
                    )
                except (LearnerError, CourseError) as exc:
                    results.append((row, str(exc)))
            with transaction.atomic():
                _finish_batch(results, report)
        for row in batch:
            if row.record is None:
                _reject(report, errors, row, row.error)
        for row, result in results:
            if isinstance(result, str):
                _reject(report, errors, row, result)
        if progress is not None:
            progress(handle.tell())


def _finish_batch(results, report: ImportReport) -> None:
    queued = []
    for _row, result in results:
        if isinstance(result, IngestResult):
            report.count(result.outcome)
            if result.queued:
                queued.append(result.enrollment_id)
    if queued:
        report.queued += len(queued)
        completions_recorded.send(sender=Enrollment, enrollment_ids=queued)


def _reject(report: ImportReport, errors, row, reason: str) -> None:
    report.rejected += 1
    if len(report.rejections) < 20:
        report.rejections.append((row.line, reason))
    if errors is not None:
        errors.writerow([row.line, reason, *row.cells])


def _ingest_batch(records, *, create_courses: bool, courses: dict) -> list:
    """``completion_ingest`` for many records at once: the same rules, a handful of queries a batch.

    Returns (row, IngestResult or rejection reason) per record. Raises IntegrityError if a learner or
    completion appeared concurrently; the caller then falls back to the one-by-one path.
    """
    now = timezone.now()
    for _row, record in records:
        key = record.course_key
        if key not in courses:
            course = course_by_key(key)
            if course is None and create_courses and key:
                try:
                    course = course_get_or_create_from_import(key=key, title=record.course_title)
                except CourseError:
                    course = None  # reported per row below, like any unknown course
            courses[key] = course
    wanted: dict[str, set[str]] = {}
    for _row, record in records:
        wanted.setdefault(record.lms, set()).add(record.learner_id.strip())
    learners = {
        (learner.lms, learner.external_id): learner
        for lms, ids in wanted.items()
        for learner in Learner.objects.filter(lms=lms, external_id__in=ids)
    }
    enrollments = {
        (e.learner_id, e.course_id): e
        for e in Enrollment.objects.filter(learner_id__in=[learner.pk for learner in learners.values()])
    }
    new_learners, new_enrollments, email_changes = {}, {}, []
    changed_learners: dict[int, tuple[Learner, set[str]]] = {}
    changed_enrollments: dict[int, Enrollment] = {}
    staged = []
    for row, record in records:
        course = courses.get(record.course_key)
        if course is None:
            staged.append((row, f"unknown course {record.course_key}" if record.course_key else "missing course"))
            continue
        key = (record.lms, record.learner_id.strip())
        learner = learners.get(key) or new_learners.get(key)
        try:
            _check_record(record, learner)
        except LearnerError as exc:
            staged.append((row, str(exc)))
            continue
        values = _learner_values(email=record.email, full_name=record.full_name, preferred_name=record.preferred_name)
        learner_changed = False
        if learner is None:
            learner = new_learners[key] = Learner(lms=key[0], external_id=key[1], **values)
            learner_changed = True
        elif changes := _learner_changes(learner, values, keep_blank=True):
            if "email" in changes:  # a learner new in this batch gets its history too
                email_changes.append(
                    LearnerEmailChange(
                        learner=learner,
                        old_email=learner.email,
                        new_email=changes["email"],
                        source=CompletionSource.CSV,
                    )
                )
            for name, value in changes.items():
                setattr(learner, name, value)
            if learner.pk:
                learner.updated_at = now
                changed_learners.setdefault(learner.pk, (learner, set()))[1].update(changes)
            learner_changed = True
        facts = _record_facts(record)
        enrollment = new_enrollments.get((key, course.pk)) or (
            enrollments.get((learner.pk, course.pk)) if learner.pk else None
        )
        if enrollment is None:
            enrollment = new_enrollments[(key, course.pk)] = Enrollment(
                learner=learner, course=course, source=CompletionSource.CSV, **facts
            )
            outcome = CREATED
        elif all(getattr(enrollment, name) == value for name, value in facts.items()):
            outcome = UPDATED if learner_changed else UNCHANGED
        else:
            for name, value in facts.items():
                setattr(enrollment, name, value)
            enrollment.source, enrollment.decision, enrollment.updated_at = CompletionSource.CSV, Decision.PENDING, now
            if enrollment.pk:
                changed_enrollments[enrollment.pk] = enrollment
            outcome = UPDATED
        staged.append((row, (enrollment, outcome)))

    Learner.objects.bulk_create(new_learners.values())
    for learner, fields in changed_learners.values():
        learner.save(update_fields=[*fields, "updated_at"])  # few: most rows change nothing
    LearnerEmailChange.objects.bulk_create(email_changes)
    Enrollment.objects.bulk_create(new_enrollments.values())
    Enrollment.objects.bulk_update(
        changed_enrollments.values(),
        ["completed_at", "score", "attendance", "cohort", "custom_fields", "source", "decision", "updated_at"],
    )
    return [
        (
            row,
            item
            if isinstance(item, str)
            else IngestResult(item[0].pk, item[1], item[1] != UNCHANGED and item[0].completed_at is not None),
        )
        for row, item in staged
    ]


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


DROP_FOLDER_SETTLE_SECONDS = 120  # a file still being written is left for the next run
DROP_FOLDER_STALE_SECONDS = 3600  # a claimed file with no report by then was interrupted


def completions_import_drop_folder(*, directory: Path) -> list[tuple[str, str]]:
    """Import every CSV waiting in the drop folder, once each; returns (file, summary) pairs.

    A file is claimed by renaming it into ``processing/`` (atomic on one filesystem, so two workers
    never take the same file) and ends in ``processed/`` (or ``failed/``) with its report and rejected
    rows beside it, so the schedule never imports it twice. A claim left behind by a worker that died
    is put back after an hour and imported again, which the import's idempotence makes safe.
    """
    processing, processed, failed = directory / "processing", directory / "processed", directory / "failed"
    for folder in (processing, processed, failed):
        folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for stale in processing.iterdir():
        if stale.is_file() and now - stale.stat().st_mtime > DROP_FOLDER_STALE_SECONDS:
            stale.rename(directory / stale.name.split("-", 1)[-1])
    results = []
    waiting = sorted(
        path
        for path in directory.iterdir()
        if path.is_file()
        and path.suffix.lower() in {".csv", ".txt", ".tsv"}
        and now - path.stat().st_mtime >= DROP_FOLDER_SETTLE_SECONDS
    )
    for path in waiting:
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
        claimed = processing / f"{stamp}-{path.name}"
        try:
            path.rename(claimed)
        except FileNotFoundError:
            continue  # another worker took it
        os.utime(claimed)  # the claim's age, for the stale check
        errors_path = processed / f"{claimed.name}.errors.csv"
        destination = processed
        try:
            with open(claimed, "rb") as handle:
                summary = completions_import(handle=handle, errors_path=errors_path).summary()
        except FileError as exc:
            summary, destination = f"file not imported: {exc}", failed
        except Exception as exc:  # the report must say why; the file must not vanish
            logger.exception("importing %s failed", claimed)
            summary, destination = f"import failed: {type(exc).__name__}: {exc}", failed
        (destination / f"{claimed.name}.report.txt").write_text(summary + "\n", encoding="utf-8")
        claimed.rename(destination / claimed.name)
        results.append((path.name, summary))
    return results
