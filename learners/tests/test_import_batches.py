"""The bulk import's batches: boundaries, a learner seen twice, re-imports, and rows written without
model instances that are the same rows the one-by-one path writes."""

import io
from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from certificates.models import Certificate
from courses.tests.factories import CourseFactory
from learners import services
from learners.csv_import import read_records
from learners.models import CompletionSource, Enrollment, Learner, LearnerEmailChange
from learners.services import imports
from learners.services.rows import learners_locked, rows_insert

pytestmark = pytest.mark.django_db

BATCH = 5
HEADER = "learner_id,email,name,course,completed_at,score,cohort,Hours\n"


@pytest.fixture
def course():
    return CourseFactory(slug="intro-django", title="Introduction to Django")


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(imports, "IMPORT_BATCH", BATCH)


def export(rows: list[str]) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def learner_row(i: int, *, score: int = 80, email: str = "") -> str:
    return f"b{i},{email or f'b{i}@example.com'},Zoë Ångström {i},intro-django,2026-11-20T10:00:00+00:00,{score},A,12"


def run_import(data: bytes, **options) -> services.ImportReport:
    return services.completions_import(handle=io.BytesIO(data), **options)


@pytest.mark.parametrize("rows", [BATCH, BATCH + 1, 2 * BATCH])
def test_files_of_one_batch_one_row_more_and_two_batches_issue_every_certificate(
    course, small_batches, run_on_commit, mailoutbox, rows
):
    with mock.patch.object(imports, "_ingest_batch", wraps=imports._ingest_batch) as batches, run_on_commit():
        report = run_import(export([learner_row(i) for i in range(rows)]))
    assert batches.call_count == -(-rows // BATCH)
    assert (report.read, report.created, report.rejected, report.queued) == (rows, rows, 0, rows)
    assert Enrollment.objects.filter(completed_at__isnull=False).count() == rows
    assert Certificate.objects.filter(enrollment__course=course).count() == rows
    assert sorted(m.to[0] for m in mailoutbox) == sorted(f"Zoë Ångström {i} <b{i}@example.com>" for i in range(rows))


def test_the_same_learner_twice_across_a_batch_boundary_is_one_learner_with_the_later_facts(
    course, small_batches, run_on_commit
):
    rows = [learner_row(i) for i in range(BATCH - 1)]
    rows += [learner_row(99, score=70), learner_row(99, score=95, email="new99@example.com")]  # rows 5 and 6
    with run_on_commit():
        report = run_import(export(rows))
    assert (report.created, report.updated, report.rejected) == (BATCH, 1, 0)
    learner = Learner.objects.get(external_id="b99")
    assert learner.email == "new99@example.com" and learner.search_text == learner.search_key
    assert list(learner.email_changes.values_list("old_email", "new_email")) == [
        ("b99@example.com", "new99@example.com")
    ]
    only = Enrollment.objects.get(learner=learner)
    assert only.score == Decimal("95")
    assert Certificate.objects.filter(enrollment=only).count() == 1


def test_the_same_learner_twice_in_one_batch_is_one_learner_with_its_address_history(course, run_on_commit):
    rows = [learner_row(7, score=70), learner_row(7, score=95, email="seven@new.example")]
    with run_on_commit():
        report = run_import(export(rows))
    assert (report.created, report.updated) == (1, 1)
    learner = Learner.objects.get(external_id="b7")
    assert (learner.email, learner.search_text) == ("seven@new.example", learner.search_key)
    assert list(LearnerEmailChange.objects.values_list("old_email", "new_email", "source")) == [
        ("b7@example.com", "seven@new.example", CompletionSource.CSV)
    ]
    assert Enrollment.objects.get().score == Decimal("95")
    assert Certificate.objects.count() == 1


def test_a_re_import_changes_nothing_and_sends_nothing_twice(course, small_batches, run_on_commit, mailoutbox):
    data = export([learner_row(i) for i in range(2 * BATCH + 1)])
    with run_on_commit():
        run_import(data)
    before = sorted(Enrollment.objects.values_list("pk", "updated_at", "learner__updated_at", "decision"))
    sent = len(mailoutbox)
    with mock.patch("certificates.services.handoff.async_task") as enqueue, run_on_commit():
        again = run_import(data)
    assert (again.created, again.updated, again.unchanged, again.queued) == (0, 0, 2 * BATCH + 1, 0)
    assert enqueue.call_args_list == []
    assert sorted(Enrollment.objects.values_list("pk", "updated_at", "learner__updated_at", "decision")) == before
    assert len(mailoutbox) == sent == 2 * BATCH + 1
    assert Certificate.objects.count() == 2 * BATCH + 1


STORED_LEARNER = ("external_id", "email", "full_name", "preferred_name", "approved_name", "email_replaced")
STORED_LEARNER += ("search_text", "user_id")
STORED_ENROLLMENT = ("learner__external_id", "course_id", "completed_at", "score", "attendance", "source", "cohort")
STORED_ENROLLMENT += ("custom_fields", "decision", "decision_reason", "decided_at", "nudged_at")


def stored(lms: str) -> tuple[list, list]:
    learners = sorted(Learner.objects.filter(lms=lms).values_list(*STORED_LEARNER))
    enrollments = sorted(Enrollment.objects.filter(learner__lms=lms).values_list(*STORED_ENROLLMENT))
    return learners, enrollments


def one_by_one(data: bytes, *, lms: str) -> None:
    _parsed, rows = read_records(io.BytesIO(data), default_tz=UTC, now=timezone.now(), lms=lms)
    for row in rows:
        services.completion_ingest(record=row.record, source=CompletionSource.CSV, notify=False)


def test_the_bulk_rows_are_the_rows_the_one_by_one_path_writes(course):
    first = export([learner_row(i) for i in range(3)] + ['b9,ada@example.com,"  Ada\tL. ",intro-django,2026-11-21,,,'])
    later = export([learner_row(0, score=99), learner_row(1, email="moved@example.com"), learner_row(2)])
    for data in (first, later):
        run_import(data, lms="bulk")
        one_by_one(data, lms="single")
    assert stored("bulk") == stored("single")
    bulk_learners, bulk_enrollments = stored("bulk")
    assert len(bulk_learners) == 4 and bulk_enrollments[0][3] == Decimal("99")
    assert LearnerEmailChange.objects.filter(learner__lms="bulk").count() == 1


def test_a_key_inserted_meanwhile_is_an_integrity_error_and_nothing_of_the_statement_stays(course):
    now = datetime(2026, 11, 20, tzinfo=UTC)
    Learner.objects.create(lms="default", external_id="taken", email="t@example.com")
    columns = ("lms", "external_id", "email", "full_name", "preferred_name", "search_text")
    rows = [("default", "free", "f@example.com", "Free", "", "free"), ("default", "taken", "", "", "", "")]
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(Learner, columns, rows, key=("lms", "external_id"), now=now)
    assert list(Learner.objects.values_list("external_id", flat=True)) == ["taken"]


def test_rows_insert_returns_each_key_s_new_primary_key_and_fills_defaults(course):
    now = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    columns = ("lms", "external_id", "email", "full_name", "preferred_name", "search_text")
    rows = [("default", f"k{i}", f"k{i}@example.com", f"K {i}", "", f"k {i}") for i in range(1200)]
    pks = rows_insert(Learner, columns, rows, key=("lms", "external_id"), now=now)
    assert len(pks) == 1200
    by_key = dict(Learner.objects.values_list("external_id", "pk"))
    assert all(pks[("default", external_id)] == pk for external_id, pk in by_key.items())
    assert set(Learner.objects.values_list("created_at", "updated_at", "approved_name", "user_id")) == {
        (now, now, "", None)
    }
    with pytest.raises(ValueError, match="6 values for 5 columns"):
        rows_insert(Learner, columns[:5], rows[:1], key=("lms", "external_id"), now=now)


def test_the_import_hands_every_object_back_to_the_garbage_collector(course):
    """Objects are hidden from the collector's scans only while an import runs, even one that fails."""
    import gc

    before = gc.get_freeze_count(), gc.get_threshold()
    data = export(["lms-1,ada@example.com,Ada Lovelace,intro-django,2026-11-20,91,Autumn,12"])
    services.completions_import(handle=io.BytesIO(data))
    assert (gc.get_freeze_count(), gc.get_threshold()) == before
    with mock.patch.object(imports, "_ingest_batch", side_effect=RuntimeError("boom")), pytest.raises(RuntimeError):
        services.completions_import(handle=io.BytesIO(data))
    assert (gc.get_freeze_count(), gc.get_threshold()) == before


@given(st.datetimes(timezones=st.none() | st.timezones()))
def test_the_sqlite_datetime_adapter_is_djangos(value):
    """rows' SQLite adapter writes every time as Django's adapt_datetimefield_value does (or raises as it)."""
    from django.db import connection

    from learners.services.rows import sqlite_datetime

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's adapter")

    def written(adapt):
        try:
            return adapt(value)
        except Exception as exc:  # noqa: BLE001 - the same refusal either way
            return type(exc)

    assert written(sqlite_datetime(connection)) == written(connection.ops.adapt_datetimefield_value)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=8,
)


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=6) | _JSON)
def test_the_sqlite_json_adapter_is_djangos(value):
    """rows' remembered JSON text is what Django's adapt_json_value writes, for text-only objects and the rest."""
    from django.db import connection

    from learners.services.rows import _json_text

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's adapter (PostgreSQL's wraps the value for psycopg)")
    assert _json_text(value) == connection.ops.adapt_json_value(value, None)
    assert _json_text(value) == connection.ops.adapt_json_value(value, None)  # remembered, still the same


def test_the_learner_lookup_reads_what_the_orm_reads(course):
    from learners.tests.factories import LearnerFactory

    for index in range(6):
        LearnerFactory(lms="moodle" if index % 2 else "default", external_id=f"lms-{index}", full_name=f"Zoë {index}")
    wanted = ["lms-0", "lms-1", "lms-2", "lms-4", "lms-9"]
    with transaction.atomic():
        orm = list(
            Learner.objects.select_for_update()
            .filter(lms="default", external_id__in=wanted)
            .order_by("pk")
            .values_list(*imports._LEARNER_READ)
        )
        assert [tuple(row) for row in learners_locked("default", wanted, columns=imports._LEARNER_READ)] == orm
    assert [row[2] for row in orm] == ["lms-0", "lms-2", "lms-4"]
