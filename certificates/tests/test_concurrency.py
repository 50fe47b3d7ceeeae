"""Races between real threads with their own connections. Only PostgreSQL has the row locks to show it."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from certificates import tasks
from certificates.models import Certificate, Pipeline
from certificates.services import issuance
from certificates.tests.factories import issued_certificate, rendered_certificate
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
    assert certificate.pipeline_state == Pipeline.EMAILED
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
    assert Certificate.objects.get().pipeline_state == Pipeline.EMAILED
    assert len(mailoutbox) == 1


def test_approve_racing_the_issue_task_does_not_deadlock(mailoutbox):
    enrollment = EnrollmentFactory(course=CourseFactory(manual_review=True))
    held = issuance.certificate_issue_for_enrollment(enrollment_id=enrollment.pk)
    staff = UserFactory(is_staff=True)
    steps = [
        lambda: issuance.certificate_approve(certificate_id=held.pk, by=staff),
        lambda: tasks.certificate_issue_task(enrollment.pk),
    ]
    results = race(lambda: steps.pop()(), workers=2)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Certificate.objects.get().pipeline_state == Pipeline.EMAILED
    assert len(mailoutbox) == 1


def test_two_workers_sending_one_certificate_send_one_email(mailoutbox):
    certificate = rendered_certificate()
    results = race(tasks.certificate_email_task, certificate.pk, workers=4)
    assert sorted(results) == [False, False, False, True]
    assert len(mailoutbox) == 1


def test_two_workers_racing_on_one_delivery_send_it_once(mailoutbox):
    from delivery import tasks as delivery_tasks
    from delivery.models import Delivery

    certificate = rendered_certificate()
    version = certificate.current_version
    delivery = Delivery.objects.create(
        composer="certificate", reference=str(version.pk), recipient=version.recipient_email
    )
    results = race(delivery_tasks.delivery_send_task, delivery.pk, workers=4)
    assert sorted(results) == [False, False, False, True]
    assert len(mailoutbox) == 1


def test_two_reissues_at_once_make_one_version_and_one_notice(run_on_commit, mailoutbox):
    from certificates.errors import CertificateNotReissuable
    from certificates.models import CertificateVersion
    from certificates.services import lifecycle

    certificate = issued_certificate(run_on_commit, full_name="Jon Smiht")
    learner = certificate.enrollment.learner
    learner.full_name = "Jon Smith"
    learner.save()
    results = race(
        lambda: lifecycle.certificate_reissue(certificate_id=certificate.pk, reason="name_correction", by=None),
        workers=4,
    )
    made = [r for r in results if isinstance(r, CertificateVersion)]
    assert len(made) == 1, results
    assert all(isinstance(r, CertificateNotReissuable) for r in results if r is not made[0]), results
    assert list(certificate.versions.order_by("number").values_list("number", "is_current")) == [
        (1, False),
        (2, True),
    ]
    # The tasks the winner queued ran in its thread (django-q2 is synchronous in tests): one notice.
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.EMAILED
    assert [m.subject for m in mailoutbox][1:] == [f"Your corrected certificate for {made[0].course_title}"]


def test_database_refuses_a_second_certificate_or_a_second_current_version():
    from django.db import IntegrityError, transaction

    from certificates.models import CertificateVersion

    certificate = rendered_certificate()
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.create(enrollment=certificate.enrollment, code="0" * 16, pipeline_state=Pipeline.HELD)
    current = certificate.current_version
    fields = {
        name: getattr(current, name)
        for name in (
            "holder_name",
            "recipient_email",
            "course_title",
            "organisation_name",
            "template_family",
            "completed_at",
            "issued_on",
        )
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateVersion.objects.create(certificate=certificate, number=2, issued_at=current.issued_at, **fields)
