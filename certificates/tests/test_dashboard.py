import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates.tests.factories import issued_certificate
from courses.tests.factories import CourseFactory
from learners.tests.factories import LearnerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_signed_out_dashboard_asks_for_a_sign_in_link(client):
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode() and "My certificates" not in response.content.decode()
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_learner_sees_and_downloads_own_certificates_only(client, run_on_commit):
    me, someone = UserFactory(), UserFactory()
    mine = issued_certificate(run_on_commit, course=CourseFactory(title="My Course"))
    mine.enrollment.learner.user = me
    mine.enrollment.learner.save()
    theirs = issued_certificate(run_on_commit, course=CourseFactory(title="Their Course"))
    theirs.enrollment.learner.user = someone
    theirs.enrollment.learner.save()

    client.force_login(me)
    page = client.get(reverse("dashboard:home")).content.decode()
    assert "My Course" in page and "Their Course" not in page

    download = client.get(reverse("dashboard:download", args=[mine.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == mine.current_version.pdf.read()
    assert client.get(reverse("dashboard:download", args=[theirs.pk])).status_code == 404


def test_dashboard_query_count_does_not_grow_with_certificates(client, run_on_commit):
    learner = LearnerFactory(user=UserFactory())
    client.force_login(learner.user)

    def queries_for_dashboard() -> int:
        with CaptureQueriesContext(connection) as context:
            response = client.get(reverse("dashboard:home"))
        assert response.status_code == 200
        return len(context.captured_queries)

    issued_certificate(run_on_commit, learner=learner)
    with_one = queries_for_dashboard()
    for _ in range(9):
        issued_certificate(run_on_commit, learner=learner)
    assert queries_for_dashboard() == with_one
    assert client.get(reverse("dashboard:home")).content.decode().count("Download PDF") == 10
