"""Races between real threads with their own connections. Only PostgreSQL has the row locks to show it."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from certificates import services, tasks
from certificates.models import Certificate, Status
from certificates.tests.factories import rendered_certificate
from courses.tests.factories import CourseFactory
from learners.services import enrollment_record_completion
from learners.tests.factories import EnrollmentFactory, LearnerFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


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
            results[index] = target(*args)
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


def test_two_completion_events_at_once_leave_one_certificate_and_one_email(mailoutbox):
    enrollment = EnrollmentFactory()
    results = race(tasks.certificate_issue_task, enrollment.pk, workers=4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert certificate.status == Status.EMAILED
    assert len(mailoutbox) == 1


def test_the_same_completion_arriving_four_times_at_once_issues_once(mailoutbox):
    """The LMS retries: four identical completions race through the whole service and pipeline."""
    learner, course, completed_at = LearnerFactory(), CourseFactory(), timezone.now()
    results = race(
        lambda: enrollment_record_completion(learner_id=learner.pk, course_id=course.pk, completed_at=completed_at).pk,
        workers=4,
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    assert Certificate.objects.get().status == Status.EMAILED
    assert len(mailoutbox) == 1


def test_approve_racing_the_issue_task_does_not_deadlock(mailoutbox):
    enrollment = EnrollmentFactory(course=CourseFactory(manual_review=True))
    held = services.certificate_issue_for_enrollment(enrollment_id=enrollment.pk)
    staff = UserFactory(is_staff=True)
    steps = [
        lambda: services.certificate_approve(certificate_id=held.pk, by=staff),
        lambda: tasks.certificate_issue_task(enrollment.pk),
    ]
    results = race(lambda: steps.pop()(), workers=2)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Certificate.objects.get().status == Status.EMAILED
    assert len(mailoutbox) == 1


def test_two_workers_sending_one_certificate_send_one_email(mailoutbox):
    certificate = rendered_certificate()
    results = race(tasks.certificate_email_task, certificate.pk, workers=4)
    assert sorted(results) == [False, False, False, True]
    assert len(mailoutbox) == 1


def test_two_workers_racing_on_one_delivery_send_it_once(mailoutbox):
    from certificates.models import Delivery

    certificate = rendered_certificate()
    delivery = Delivery.objects.create(certificate=certificate, recipient=certificate.recipient_email)
    results = race(tasks.delivery_send_task, delivery.pk, workers=4)
    assert sorted(results) == [False, False, False, True]
    assert len(mailoutbox) == 1


def test_database_refuses_a_second_current_certificate():
    from django.db import IntegrityError, transaction

    certificate = rendered_certificate()
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.create(
            enrollment=certificate.enrollment,
            version=2,
            code="0" * 16,
            status=Status.ISSUED,
            holder_name="x",
            recipient_email="x@example.com",
            course_title="x",
            organisation_name="x",
            template_family="completion",
            completed_at=certificate.completed_at,
            issued_on=certificate.issued_on,
        )
