"""The learner's dashboard as a learner uses it: every state in words, every version, and requests
(name correction, completion dispute, new address, resend) that reach a case staff decide."""

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates import codes
from certificates.models import Case, CaseKind, CaseState, Certificate, CertificateVersion, Pipeline, VersionReason
from certificates.services import cases, issuance, lifecycle
from certificates.tests.factories import issued_certificate
from courses.tests.factories import CourseFactory
from learners import services as learner_services
from learners.models import Learner
from learners.tests.factories import EnrollmentFactory, LearnerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(username="support", is_staff=True)


def signed_in(client, learner):
    if learner.user is None:
        learner.user = UserFactory()
        learner.save()
    client.force_login(learner.user)
    return learner


def page(client) -> str:
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    return response.content.decode()


def test_every_state_in_words(client, run_on_commit, staff):
    ada = signed_in(client, LearnerFactory(full_name="Ada Lovelace"))
    valid = issued_certificate(run_on_commit, learner=ada, course=CourseFactory(title="Valid Course"))
    suspended = issued_certificate(run_on_commit, learner=ada, course=CourseFactory(title="Suspended Course"))
    lifecycle.certificate_suspend(certificate_id=suspended.pk, by=staff, reason="checking the exam")
    revoked = issued_certificate(run_on_commit, learner=ada, course=CourseFactory(title="Revoked Course"))
    lifecycle.certificate_revoke(certificate_id=revoked.pk, by=staff, reason="plagiarised final project")
    expired = issued_certificate(run_on_commit, learner=ada, course=CourseFactory(title="Expired Course"))
    Certificate.objects.filter(pk=expired.pk).update(valid_until=timezone.localdate().replace(year=2020))
    review = CourseFactory(title="Reviewed Course", manual_review=True, organisation__name="Northwind Academy")
    with run_on_commit():
        learner_services.enrollment_record_completion(
            learner_id=ada.pk, course_id=review.pk, completed_at=timezone.now()
        )
    scored = CourseFactory(title="Scored Course", min_score=True)
    with run_on_commit():
        learner_services.enrollment_record_completion(
            learner_id=ada.pk, course_id=scored.pk, completed_at=timezone.now(), score=Decimal("58")
        )

    html = page(client)
    assert html.count("✓</span> Valid") == 1
    assert "Suspended</span> under review since" in html
    assert "Revoked</span> on" in html and "plagiarised final project" in html
    assert "Expired</span> on" in html and "2020" in html
    assert "Waiting for review by Northwind Academy staff." in html
    assert "Your score was 58%; the course needs 70%." in html
    # Downloads: the valid, suspended and expired ones; never the revoked one.
    assert reverse("dashboard:download", args=[valid.pk]) in html
    assert reverse("dashboard:download", args=[revoked.pk]) not in html
    assert client.get(reverse("dashboard:download", args=[revoked.pk])).status_code == 404
    # The verify link with a copy button, and both LinkedIn links, for the valid one.
    assert f'value="{valid.verify_url}"' in html and "data-copy=" in html
    assert f"{valid.verify_url}linkedin/add/" in html and f"{valid.verify_url}linkedin/share/" in html
    # The courses without a certificate offer a dispute.
    assert html.count("I finished but got no certificate") == 2
    assert "appears within minutes" not in html


def test_earlier_versions_are_listed_with_why_and_downloadable(client, run_on_commit):
    ada = signed_in(client, LearnerFactory(full_name="Jon Smiht"))
    certificate = issued_certificate(run_on_commit, learner=ada)
    old_pdf = certificate.current_version.pdf.read()
    with run_on_commit():
        learner_services.learner_update_details(learner_id=ada.pk, email=ada.email, full_name="Jon Smith")
        lifecycle.certificate_reissue(
            certificate_id=certificate.pk, reason=VersionReason.NAME_CORRECTION, note="spelling of the surname"
        )
    html = page(client)
    assert "Version 1, issued" in html and "(name correction: <bdi>spelling of the surname</bdi>)" in html
    download = client.get(reverse("dashboard:download_version", args=[certificate.pk, 1]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == old_pdf
    current = client.get(reverse("dashboard:download", args=[certificate.pk]))
    assert b"".join(current.streaming_content) != old_pdf
    thumb = client.get(reverse("dashboard:thumbnail", args=[certificate.pk, 2]))
    assert thumb.status_code == 200 and b"".join(thumb.streaming_content).startswith(b"\x89PNG")


def test_learner_b_gets_404_on_every_url_of_learner_a(client, run_on_commit):
    a = LearnerFactory()
    certificate = issued_certificate(run_on_commit, learner=a)
    no_certificate = EnrollmentFactory(learner=a, completed_at=None)
    signed_in(client, LearnerFactory())
    urls = [
        ("get", reverse("dashboard:download", args=[certificate.pk])),
        ("get", reverse("dashboard:download_version", args=[certificate.pk, 1])),
        ("get", reverse("dashboard:thumbnail", args=[certificate.pk, 1])),
        ("post", reverse("dashboard:email_again", args=[certificate.pk])),
        ("get", reverse("dashboard:name_correction", args=[certificate.pk])),
        ("post", reverse("dashboard:name_correction", args=[certificate.pk])),
        ("get", reverse("dashboard:dispute", args=[no_certificate.pk])),
        ("post", reverse("dashboard:dispute", args=[no_certificate.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url, {"name": "Mallory", "message": "mine now"} if method == "post" else {})
        assert response.status_code == 404, url
    assert not Case.objects.exists()
    assert certificate.display_code not in page(client)


def many_certificates(run_on_commit, learner, count: int) -> None:
    """``count`` certificates of two versions each, copied from one real one (rendering 100 PDFs
    would only slow the test: the page reads rows, not files)."""
    model = issued_certificate(run_on_commit, learner=learner)
    version = model.current_version
    for _ in range(count - 1):
        enrollment = EnrollmentFactory(learner=learner)
        copy = Certificate.objects.create(
            enrollment=enrollment,
            code=codes.new_code(),
            pipeline_state=model.pipeline_state,
            issued_at=model.issued_at,
            emailed_at=model.emailed_at,
        )
        for number, current in ((1, False), (2, True)):
            version.pk = None
            version.certificate = copy
            version.number, version.is_current = number, current
            version.superseded_at = None if current else timezone.now()
            version.reason = VersionReason.NAME_CORRECTION if number == 2 else VersionReason.FIRST_ISSUE
            version.save()


def test_the_dashboard_runs_the_same_queries_for_1_and_50_certificates(client, run_on_commit):
    ada = signed_in(client, LearnerFactory())

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            page(client)
        return len(context.captured_queries)

    many_certificates(run_on_commit, ada, 1)
    with_one = queries()
    many_certificates(run_on_commit, ada, 49)
    Case.objects.create(
        kind=CaseKind.RESEND,
        learner=ada,
        certificate=Certificate.objects.first(),
        state=CaseState.RESOLVED,
        decided_at=timezone.now(),
    )
    assert Certificate.objects.count() == 50 and CertificateVersion.objects.count() == 98
    assert queries() == with_one
    assert page(client).count("Download PDF") == 50


def test_a_name_correction_reaches_staff_and_approval_reissues(client, run_on_commit, staff, mailoutbox):
    ada = signed_in(client, LearnerFactory(full_name="Jon Smiht", preferred_name=""))
    certificate = issued_certificate(run_on_commit, learner=ada)
    other = issued_certificate(run_on_commit, learner=ada)
    mailoutbox.clear()
    url = reverse("dashboard:name_correction", args=[certificate.pk])
    assert "Jon Smiht" in client.get(url).content.decode()
    response = client.post(url, {"name": "  Jon   Smith ", "message": "typo in the surname"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.kind, case.state, case.requested_name, case.current_name) == (
        CaseKind.NAME_CORRECTION,
        CaseState.OPEN,
        "Jon Smith",
        "Jon Smiht",
    )
    assert "Name correction</strong> to “<bdi>Jon Smith</bdi>”" in page(client)
    # Asking twice does not make two cases.
    again = client.post(url, {"name": "Jon Smith"})
    assert again.status_code == 400 and "asked for this already" in again.content.decode()
    assert Case.objects.count() == 1

    with run_on_commit():
        cases.case_approve(case_id=case.pk, by=staff)
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED and case.decided_by == staff
    for each in (certificate, other):
        version = Certificate.objects.get(pk=each.pk).current_version
        assert (version.number, version.holder_name, version.reason) == (2, "Jon Smith", VersionReason.NAME_CORRECTION)
    notices = [m for m in mailoutbox if "corrected certificate" in m.subject]
    answers = [m for m in mailoutbox if m.subject == "Your name correction request was approved"]
    assert len(notices) == 2 and len(answers) == 1 and len(mailoutbox) == 3
    assert "Jon Smith" in answers[0].body and "/accounts/link/" in answers[0].body
    # The LMS keeps sending its old spelling: the approved correction stays printed.
    learner_services.learner_upsert(external_id=ada.external_id, email=ada.email, full_name="Jon Smiht")
    assert Learner.objects.get(pk=ada.pk).certificate_name == "Jon Smith"
    assert "resolved" in page(client)


def test_a_name_the_fonts_cannot_print_is_refused_with_the_character(client, run_on_commit):
    ada = signed_in(client, LearnerFactory())
    certificate = issued_certificate(run_on_commit, learner=ada)
    response = client.post(reverse("dashboard:name_correction", args=[certificate.pk]), {"name": "Ada \ue000"})
    assert response.status_code == 400 and "U+E000" in response.content.decode()
    assert client.post(reverse("dashboard:name_correction", args=[certificate.pk]), {"name": "  "}).status_code == 400
    assert not Case.objects.exists()


def test_a_completion_dispute_reaches_staff_and_is_decided(client, run_on_commit, staff):
    ada = signed_in(client, LearnerFactory())
    course = CourseFactory(title="Scored Course", min_score=True)
    with run_on_commit():
        enrollment = learner_services.enrollment_record_completion(
            learner_id=ada.pk, course_id=course.pk, completed_at=timezone.now(), score=Decimal("58")
        )
    url = reverse("dashboard:dispute", args=[enrollment.pk])
    assert client.post(url, {"message": "The LMS lost my resit: I scored 81."}).status_code == 302
    case = Case.objects.get()
    assert (case.kind, case.state, case.enrollment_id) == (CaseKind.COMPLETION_DISPUTE, CaseState.OPEN, enrollment.pk)
    assert "I finished but got no certificate" not in page(client)  # one dispute at a time

    # Staff cannot approve while the rule still says no; they say why instead, or fix the record.
    with pytest.raises(cases.CaseError, match="score 58 below 70"):
        cases.case_approve(case_id=case.pk, by=staff)
    with run_on_commit():
        learner_services.enrollment_record_completion(
            learner_id=ada.pk, course_id=course.pk, completed_at=enrollment.completed_at, score=Decimal("81")
        )
        cases.case_approve(case_id=case.pk, by=staff)
    assert Case.objects.get().state == CaseState.RESOLVED
    assert Certificate.objects.get(enrollment=enrollment).is_public


def test_a_declined_request_shows_the_reason(client, run_on_commit, staff):
    ada = signed_in(client, LearnerFactory())
    enrollment = EnrollmentFactory(learner=ada, completed_at=None)
    client.post(reverse("dashboard:dispute", args=[enrollment.pk]), {"message": "done!"})
    case = Case.objects.get()
    with pytest.raises(cases.CaseError, match="say why"):
        cases.case_decline(case_id=case.pk, by=staff, note=" ")
    cases.case_decline(case_id=case.pk, by=staff, note="The LMS shows module 4 unfinished.")
    html = page(client)
    assert "declined" in html and "The LMS shows module 4 unfinished." in html
    assert [e.kind for e in case.events.all()] == ["opened", "declined"]


def test_a_new_address_takes_effect_only_when_confirmed_from_it(client, run_on_commit, mailoutbox):
    ada = signed_in(client, LearnerFactory(email="ada@old.example"))
    certificate = issued_certificate(run_on_commit, learner=ada)
    mailoutbox.clear()
    with run_on_commit():
        response = client.post(reverse("dashboard:email_change"), {"email": "Ada@New.Example"})
    assert response.status_code == 302
    [confirmation] = mailoutbox
    assert confirmation.to == ["ada@new.example"]
    assert Learner.objects.get(pk=ada.pk).email == "ada@old.example"
    assert "Waiting for you to confirm" in page(client)
    [link] = re.findall(r"https?://\S+/dashboard/email/confirm/\?\S+", confirmation.body)
    query = {key: values[0] for key, values in parse_qs(urlparse(link).query).items()}

    # Opening the link (a scanner, or the learner on another device) only shows a button.
    assert client.get(link).status_code == 200
    assert Learner.objects.get(pk=ada.pk).email == "ada@old.example"
    assert client.post(reverse("dashboard:confirm_email"), query).status_code == 200
    ada.refresh_from_db()
    assert ada.email == "ada@new.example"
    assert Case.objects.get().state == CaseState.RESOLVED
    assert client.post(reverse("dashboard:confirm_email"), query).status_code == 410  # once

    # The nightly LMS export still carries the old address: the learner's choice stands...
    learner_services.learner_upsert(external_id=ada.external_id, email="ada@old.example", full_name=ada.full_name)
    assert Learner.objects.get(pk=ada.pk).email == "ada@new.example"
    # ...until the LMS sends a new one of its own.
    learner_services.learner_upsert(external_id=ada.external_id, email="ada@lms.example", full_name=ada.full_name)
    assert Learner.objects.get(pk=ada.pk).email == "ada@lms.example"
    # Resending goes to the current address, and is recorded as a request done at once.
    mailoutbox.clear()
    with run_on_commit():
        client.post(reverse("dashboard:email_again", args=[certificate.pk]))
    assert mailoutbox[0].to[0].endswith("<ada@lms.example>")
    assert Case.objects.filter(kind=CaseKind.RESEND, state=CaseState.RESOLVED).count() == 1


def test_a_bad_new_address_is_refused_with_what_to_fix(client, run_on_commit):
    ada = signed_in(client, LearnerFactory(email="ada@example.com"))
    for bad in ("not-an-address", "ada@example.com", ""):
        response = client.post(reverse("dashboard:email_change"), {"email": bad})
        assert response.status_code == 400
    assert not Case.objects.exists()
    assert ada.email == Learner.objects.get(pk=ada.pk).email


def test_the_held_page_is_honest_for_a_data_problem(client, run_on_commit):
    ada = signed_in(client, LearnerFactory(full_name="Ada \ue000"))
    course = CourseFactory()
    with run_on_commit():
        enrollment = learner_services.enrollment_record_completion(
            learner_id=ada.pk, course_id=course.pk, completed_at=timezone.now()
        )
    assert Certificate.objects.get(enrollment=enrollment).pipeline_state == Pipeline.HELD
    html = page(client)
    assert "Being prepared: staff are checking a detail first." in html
    assert "fonts cannot print" not in html  # staff's reason, in staff's words, stays with staff


def test_approving_a_held_manual_review_certificate_shows_it_valid(client, run_on_commit, staff):
    ada = signed_in(client, LearnerFactory())
    course = CourseFactory(manual_review=True)
    with run_on_commit():
        enrollment = learner_services.enrollment_record_completion(
            learner_id=ada.pk, course_id=course.pk, completed_at=timezone.now()
        )
    assert "Waiting for review by" in page(client)
    with run_on_commit():
        issuance.certificate_approve(certificate_id=Certificate.objects.get(enrollment=enrollment).pk, by=staff)
    assert "✓</span> Valid" in page(client)
