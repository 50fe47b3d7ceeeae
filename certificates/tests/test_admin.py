import pytest
from django.urls import reverse

from certificates.models import Certificate, Pipeline
from certificates.tests.factories import issued_certificate
from courses.tests.factories import CourseFactory
from learners.models import Enrollment
from learners.tests.factories import LearnerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "courses.organisation",
        "courses.course",
        "learners.learner",
        "learners.enrollment",
        "certificates.certificate",
        "certificates.certificateevent",
    ],
)
def test_every_model_has_a_working_changelist_and_search(staff_client, run_on_commit, model):
    certificate = issued_certificate(run_on_commit, full_name="Zanzibar Quokka", external_id="lms-zq")
    app, name = model.split(".")
    url = reverse(f"admin:{app}_{name}_changelist")
    assert staff_client.get(url).context["cl"].result_count >= 1
    course = certificate.enrollment.course
    term = {
        "courses.organisation": course.organisation.slug,
        "courses.course": course.slug,
        "certificates.certificate": certificate.code,
        "certificates.certificateevent": certificate.code,
    }.get(model, "lms-zq")
    assert staff_client.get(url, {"q": term}).context["cl"].result_count >= 1
    assert staff_client.get(url, {"q": "no-such-thing-xyz"}).context["cl"].result_count == 0


def test_certificate_change_page_shows_its_event_log(staff_client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    page = staff_client.get(reverse("admin:certificates_certificate_change", args=[certificate.pk])).content.decode()
    assert "rendered" in page and "emailed" in page


def test_staff_approve_action_issues_held_certificate(staff_client, run_on_commit, mailoutbox):
    issued_certificate(run_on_commit, course=CourseFactory(manual_review=True))
    held = Certificate.objects.get(pipeline_state=Pipeline.HELD)
    with run_on_commit():
        staff_client.post(
            reverse("admin:certificates_certificate_changelist"),
            {"action": "approve", "_selected_action": [held.pk]},
        )
    held.refresh_from_db()
    assert held.pipeline_state == Pipeline.EMAILED and len(mailoutbox) == 1


def test_adding_a_completion_in_admin_runs_the_pipeline(staff_client, run_on_commit, mailoutbox):
    learner, course = LearnerFactory(), CourseFactory()
    with run_on_commit():
        response = staff_client.post(
            reverse("admin:learners_enrollment_add"),
            {"learner": learner.pk, "course": course.pk, "completed_at_0": "2026-11-20", "completed_at_1": "10:00:00"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    enrollment = Enrollment.objects.get()
    assert enrollment.certificate.pipeline_state == Pipeline.EMAILED
    assert len(mailoutbox) == 1


def test_fixing_a_name_in_admin_releases_the_held_certificate(staff_client, run_on_commit, mailoutbox):
    certificate = issued_certificate(run_on_commit, full_name="")
    learner = certificate.enrollment.learner
    with run_on_commit():
        staff_client.post(
            reverse("admin:learners_learner_change", args=[learner.pk]),
            {
                "lms": "default",
                "external_id": learner.external_id,
                "email": learner.email,
                "full_name": "Amara Nwosu",
                "preferred_name": "",
                "email_changes-TOTAL_FORMS": "0",
                "email_changes-INITIAL_FORMS": "0",
            },
        )
    certificate.refresh_from_db()
    assert (certificate.pipeline_state, certificate.current_version.holder_name) == (Pipeline.EMAILED, "Amara Nwosu")
