"""The bulk import and a webhook writing the same learner at once: neither write is lost.

Real threads with their own connections; only PostgreSQL has the row locks to show it.
"""

import io
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from courses.tests.factories import CourseFactory
from learners import services
from learners.ingest import CompletionRecord
from learners.models import Enrollment, Learner, LearnerEmailChange
from learners.services import imports
from learners.tests.factories import EnrollmentFactory, LearnerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (set DATABASE_URL); SQLite serialises all writers")


def race(target, *args, workers: int = 2) -> list:
    """Start ``workers`` threads at the same instant; return what each returned (or raised)."""
    barrier = threading.Barrier(workers)
    results: list = [None] * workers

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target(index, *args)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def known():
    course = CourseFactory(slug="intro-django")
    learner = LearnerFactory(external_id="L-1", email="ada@example.com", full_name="Ada Lovelace")
    EnrollmentFactory(learner=learner, course=course, completed_at=WHEN, score=Decimal("80"))
    return learner


CSV = (
    b"learner_id,email,name,course,completed_at,score\n"
    b"L-1,ada@example.com,Ada Lovelace,intro-django,2026-11-20T10:00:00+00:00,85\n"
)


def test_the_batch_locks_the_rows_it_may_update_in_primary_key_order(known):
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        services.completions_import(handle=io.BytesIO(CSV))
    locking = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert any('FROM "learners_learner"' in sql and 'ORDER BY "learners_learner"."id"' in sql for sql in locking)
    assert any('FROM "learners_enrollment"' in sql and 'ORDER BY "learners_enrollment"."id"' in sql for sql in locking)


def test_a_webhook_write_during_a_batch_waits_for_it_and_is_not_overwritten(known, mailoutbox):
    planning = threading.Event()
    real_plan = imports.plan_completion
    finished: dict[str, float] = {}

    def slow_plan(**kwargs):
        finished["planning"] = time.monotonic()
        planning.set()
        time.sleep(1.5)  # the batch has read (and locked) the rows: the webhook arrives now
        return real_plan(**kwargs)

    def step(index: int):
        if index == 0:
            return services.completions_import(handle=io.BytesIO(CSV))
        assert planning.wait(timeout=20)
        record = CompletionRecord(
            learner_id="L-1",
            course_key="intro-django",
            completed_at=WHEN,
            email="ada@new.example",
            full_name="Ada Lovelace",
            score=Decimal("95"),
        )
        receipt = services.webhook_completion_receive(webhook_id="late", payload={}, record=record)
        finished["webhook"] = time.monotonic()
        return receipt

    with mock.patch.object(imports, "plan_completion", slow_plan):
        report, receipt = race(step)
    assert not isinstance(report, Exception) and not isinstance(receipt, Exception), (report, receipt)
    assert report.updated == 1 and receipt.result.outcome == "updated"
    assert finished["webhook"] - finished["planning"] >= 1.4  # it waited for the batch's locks
    enrollment = Enrollment.objects.get()
    assert enrollment.score == Decimal("95")  # the later write stands
    assert Learner.objects.get().email == "ada@new.example"
    assert list(LearnerEmailChange.objects.values_list("old_email", "new_email")) == [
        ("ada@example.com", "ada@new.example")
    ]
