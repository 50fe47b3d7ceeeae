"""Bulk writes: CSV completion exports (the nightly drop folder, ``drop_folder``, feeds them here)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO

from django.db import IntegrityError, transaction
from django.utils import timezone

from courses.models import Course, IssuanceRule
from courses.selectors import course_by_key
from courses.services import CourseError, course_get_or_create_from_import

from ..csv_import import FileError, Row, read_records, rejected_rows_writer
from ..ingest import CompletionRecord
from ..models import CompletionSource, Decision, Enrollment, Learner, LearnerEmailChange, learner_search_key
from ..planning import FACT_FIELDS, LEARNER_FIELDS, Facts, LearnerDetails, Rejection, plan_completion
from ..signals import completions_recorded
from .collector import collector_skipping_what_was_there
from .completions import IngestResult, completion_ingest, enrollment_change, unknown_course
from .errors import LearnerError
from .rows import learners_locked, lookup_chunks, rows_insert, rows_update

logger = logging.getLogger(__name__)

#: Rows a batch reads, plans and commits together: each batch looks its learners and completions up
#: with one query each, so larger batches mean fewer queries; memory grows with the batch, never the file.
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
    not_finished: int = 0  # in progress, not started: recorded, no certificate, not an error
    held: int = 0  # imported with a problem staff fix (an invalid address): the certificate waits
    held_rows: list[tuple[int, str]] = field(default_factory=list)  # the first few, for the summary
    windows_1252_lines: int = 0
    queued: int = 0
    dry_run: bool = False
    rejections: list[tuple[int, str]] = field(default_factory=list)  # the first few, for the summary

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self) -> str:
        verb = "would be " if self.dry_run else ""
        lines = self.windows_1252_lines
        mixed = f", {lines} line{'s' * (lines != 1)} read as Windows-1252" if lines else ""
        waiting = f"{self.not_finished} not finished yet (recorded, no certificate), " if self.not_finished else ""
        waiting += f"{self.held} imported and held for staff review, " if self.held else ""
        return (
            f"{self.read} rows read ({self.layout}, {self.encoding}{mixed}): {self.created} {verb}created, "
            f"{self.updated} {verb}updated, {self.unchanged} unchanged, {self.rejected} rejected, "
            f"{waiting}{self.queued} certificates {verb}queued"
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
        with collector_skipping_what_was_there():
            if dry_run:
                with transaction.atomic():
                    _import_rows(rows, report, errors, create_courses=create_courses, progress=progress, handle=handle)
                    transaction.set_rollback(True)
            else:  # no outer transaction: each batch commits, so a killed run keeps what it finished
                _import_rows(rows, report, errors, create_courses=create_courses, progress=progress, handle=handle)
    finally:
        if errors_file:
            errors_file.close()
        report.windows_1252_lines = parsed.windows_1252_lines
    return report


Result = IngestResult | str  # what became of a row: its result, or why it was rejected


def _import_rows(rows: Iterable[Row], report: ImportReport, errors, *, create_courses: bool, progress, handle) -> None:
    iterator = iter(rows)
    courses: dict[str, Course | None] = {}
    while batch := list(itertools.islice(iterator, IMPORT_BATCH)):
        report.read += len(batch)
        records = [(row, row.record) for row in batch if row.record is not None]
        try:
            with transaction.atomic():  # one commit per batch: fast, and a killed run keeps what it did
                results = _ingest_batch(records, create_courses=create_courses, courses=courses)
                _finish_batch(results, report)
        except IntegrityError:
            # Someone else (the webhook) created one of these learners meanwhile: redo the batch row by row.
            courses.clear()
            results = []
            for row, record in records:
                try:
                    results.append(
                        (
                            row,
                            completion_ingest(
                                record=record,
                                source=CompletionSource.CSV,
                                notify=False,
                                create_courses=create_courses,
                                require_email=False,
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


def _finish_batch(results: list[tuple[Row, Result]], report: ImportReport) -> None:
    queued = []
    for row, result in results:
        if isinstance(result, IngestResult):
            report.count(result.outcome)
            if row.record.completed_at is None:
                report.not_finished += 1
            elif result.held and result.queued:
                report.held += 1
                if len(report.held_rows) < 20:
                    report.held_rows.append((row.line, result.held))
            if result.queued:
                queued.append(result.enrollment_id)
    if queued:
        report.queued += len(queued)
        completions_recorded.send(sender=Enrollment, enrollment_ids=queued)


def _reject(report: ImportReport, errors, row: Row, reason: str) -> None:
    report.rejected += 1
    if len(report.rejections) < 20:
        report.rejections.append((row.line, reason))
    if errors is not None:
        errors.writerow([row.line, reason, *row.cells])


def _courses_for(records: list[tuple[Row, CompletionRecord]], *, create_courses: bool, courses: dict) -> None:
    for _row, record in records:
        key = record.course_key
        if key not in courses:
            course = course_by_key(key)
            if course is None and create_courses and key:
                try:
                    course = course_get_or_create_from_import(key=key, title=record.course_title)
                except CourseError:
                    course = None  # reported per row, like any unknown course
            courses[key] = course


@dataclass(slots=True)
class _LearnerRow:
    """A learner as a batch reads, plans and writes it: plain values, no model instance per row."""

    pk: int | None
    lms: str
    external_id: str
    email: str = ""
    full_name: str = ""
    preferred_name: str = ""
    email_replaced: str = ""
    approved_name: str = ""

    def details(self) -> LearnerDetails:
        return LearnerDetails(self.email, self.full_name, self.preferred_name, self.email_replaced)

    def search_key(self) -> str:
        return learner_search_key(
            full_name=self.full_name,
            preferred_name=self.preferred_name,
            approved_name=self.approved_name,
            email=self.email,
            external_id=self.external_id,
        )


_LEARNER_READ = ("id", "lms", "external_id", "email", "full_name", "preferred_name", "email_replaced", "approved_name")
_LEARNER_WRITE = (*LEARNER_FIELDS, "search_text")


@dataclass(slots=True)
class _EnrollmentRow:
    pk: int | None
    learner: _LearnerRow
    course_id: int
    completed_at: datetime | None = None
    score: Decimal | None = None
    attendance: Decimal | None = None
    cohort: str = ""
    custom_fields: dict = field(default_factory=dict)
    review_reason: str = ""
    source: str = CompletionSource.CSV
    decision: str = Decision.PENDING
    updated_at: datetime | None = None

    def facts(self) -> Facts:
        return Facts(**{name: getattr(self, name) for name in FACT_FIELDS})


_ENROLLMENT_WRITE = (*FACT_FIELDS, "source", "decision")
# A row's values in the order of its columns, read in C.
_learner_values = attrgetter(*LEARNER_FIELDS)
_enrollment_values = attrgetter(*_ENROLLMENT_WRITE)


def _ingest_batch(records: list[tuple[Row, CompletionRecord]], *, create_courses: bool, courses: dict) -> list:
    """``completion_ingest`` for many records at once: the same planner, a handful of queries a batch.

    The learners and completions it may update are locked (in primary-key order, the order every
    writer takes them in) for the batch's transaction, so a webhook writing one of them meanwhile
    waits for the batch instead of being overwritten by what the batch read before it. Rows are
    read as values and written with one multi-row statement per table (``rows``), never as one
    model instance each: the database's constraints still check every row.

    Returns (row, IngestResult or rejection reason) per record. Raises IntegrityError if a learner or
    completion was created concurrently; the caller then falls back to the one-by-one path.
    """
    now = timezone.now()
    _courses_for(records, create_courses=create_courses, courses=courses)
    wanted: dict[str, set[str]] = {}
    for _row, record in records:
        wanted.setdefault(record.lms, set()).add(record.learner_id.strip())
    learners: dict[tuple[str, str], _LearnerRow] = {}
    for lms, ids in wanted.items():
        for some in lookup_chunks(sorted(ids)):
            for values in learners_locked(lms, some, columns=_LEARNER_READ):
                learner = _LearnerRow(*values)
                learners[(learner.lms, learner.external_id)] = learner
    course_ids = {course.pk for course in courses.values() if course is not None}
    by_pk = {learner.pk: learner for learner in learners.values()}
    enrollments: dict[tuple[int, int], _EnrollmentRow] = {}
    for some in lookup_chunks(sorted(by_pk)):
        for pk, learner_id, course_id, *facts in (
            Enrollment.objects.select_for_update()
            .filter(learner_id__in=some, course_id__in=course_ids)
            .order_by("pk")
            .values_list("id", "learner_id", "course_id", *FACT_FIELDS)
        ):
            enrollments[(learner_id, course_id)] = _EnrollmentRow(pk, by_pk[learner_id], course_id, *facts)
    new_learners: dict[tuple[str, str], _LearnerRow] = {}
    new_enrollments: dict[tuple[tuple[str, str], int], _EnrollmentRow] = {}
    email_changes: list[tuple[_LearnerRow, str, str]] = []
    changed_learners: dict[int, _LearnerRow] = {}
    changed_enrollments: dict[int, _EnrollmentRow] = {}
    staged: list[tuple[Row, str | tuple[_EnrollmentRow, str, bool, str]]] = []
    for row, record in records:
        course = courses.get(record.course_key)
        if course is None:
            staged.append((row, unknown_course(record.course_key)))
            continue
        course_pk = course.pk
        key = (record.lms, record.learner_id.strip())
        learner = learners.get(key) or new_learners.get(key)
        enrollment = new_enrollments.get((key, course_pk)) or (
            enrollments.get((learner.pk, course_pk)) if learner is not None and learner.pk else None
        )
        plan = plan_completion(
            record=record,
            learner=learner.details() if learner is not None else None,
            enrollment=enrollment.facts() if enrollment is not None else None,
            now=now,
            course_start=course.cohort_start,
            require_email=False,  # a finisher without an address is held for staff, never dropped
        )
        if isinstance(plan, Rejection):
            staged.append((row, plan.reason))
            continue
        if learner is None:
            learner = new_learners[key] = _LearnerRow(None, key[0], key[1], **plan.learner.changes)
        elif plan.learner.changes:
            if plan.learner.email_change:  # a learner new in this batch gets its history too
                old, new = plan.learner.email_change
                email_changes.append((learner, old, new))
            for name, value in plan.learner.changes.items():
                setattr(learner, name, value)
            if learner.pk:
                changed_learners[learner.pk] = learner
        if enrollment is None:
            enrollment = new_enrollments[(key, course_pk)] = _EnrollmentRow(
                None, learner, course_pk, **plan.enrollment.changes
            )
        elif plan.enrollment.changes:
            enrollment_change(enrollment, plan.enrollment, source=CompletionSource.CSV)
            if enrollment.pk:
                changed_enrollments[enrollment.pk] = enrollment
        staged.append((row, (enrollment, plan.outcome, plan.queue_issuance, plan.held)))

    _write_batch(new_learners, changed_learners, email_changes, new_enrollments, changed_enrollments, now=now)
    return [(row, item if isinstance(item, str) else IngestResult(item[0].pk, *item[1:])) for row, item in staged]


def _write_batch(new_learners, changed_learners, email_changes, new_enrollments, changed_enrollments, *, now) -> None:
    """A batch's plan in a few statements: new learners, changed ones, their address history,
    new completions, changed ones (every planned column written, as ``bulk_update`` did)."""
    pks = rows_insert(
        Learner,
        ("lms", "external_id", *_LEARNER_WRITE),
        [(r.lms, r.external_id, *_learner_values(r), r.search_key()) for r in new_learners.values()],
        key=("lms", "external_id"),
        now=now,
    )
    for key, learner in new_learners.items():
        learner.pk = pks[key]
    rows_update(
        Learner,
        (*_LEARNER_WRITE, "updated_at"),
        [(*_learner_values(r), r.search_key(), now, r.pk) for r in changed_learners.values()],
    )
    LearnerEmailChange.objects.bulk_create(
        LearnerEmailChange(learner_id=learner.pk, old_email=old, new_email=new, source=CompletionSource.CSV)
        for learner, old, new in email_changes
    )
    pks = rows_insert(
        Enrollment,
        ("learner_id", "course_id", *_ENROLLMENT_WRITE),
        [(e.learner.pk, e.course_id, *_enrollment_values(e)) for e in new_enrollments.values()],
        key=("learner_id", "course_id"),
        now=now,
    )
    for enrollment in new_enrollments.values():
        enrollment.pk = pks[(enrollment.learner.pk, enrollment.course_id)]
    rows_update(
        Enrollment,
        (*_ENROLLMENT_WRITE, "updated_at"),
        [(*_enrollment_values(e), now, e.pk) for e in changed_enrollments.values()],
    )
