"""The issuance pipeline with django-q2 inline: completion -> rule -> certificate -> PDF -> email."""

import hashlib
import smtplib
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from certificates import tasks
from certificates.errors import CertificateStillHasProblems
from certificates.models import Certificate, CertificateEvent, Credential, Pipeline
from certificates.services import emailing, issuance, lifecycle, rendering, snapshot, sweep
from certificates.tests.factories import issued_certificate, rendered_certificate
from courses.tests.factories import CourseFactory
from delivery import services as delivery_services
from delivery.errors import SEND_INTERRUPTED
from delivery.models import Delivery, DeliveryStatus
from learners.models import Decision
from learners.services import enrollment_record_completion, learner_update_details
from learners.tests.factories import EnrollmentFactory, LearnerFactory, UserFactory

pytestmark = pytest.mark.django_db


def complete(run_on_commit, learner, course, **facts):
    with run_on_commit():
        return enrollment_record_completion(
            learner_id=learner.pk, course_id=course.pk, completed_at=facts.pop("completed_at", timezone.now()), **facts
        )


def test_completion_issues_renders_and_emails_the_certificate(run_on_commit, mailoutbox):
    learner = LearnerFactory(full_name="Zoë Ångström", email="zoe@example.com")
    course = CourseFactory(title="Intro to Django", instructor_name="Dr. Ada Okafor")
    enrollment = complete(run_on_commit, learner, course)

    certificate = Certificate.objects.get(enrollment=enrollment)
    assert certificate.pipeline_state == Pipeline.EMAILED
    version = certificate.current_version
    assert (version.holder_name, version.course_title) == ("Zoë Ångström", "Intro to Django")
    data = version.pdf.read()
    assert data.startswith(b"%PDF-")
    assert version.pdf_sha256 == hashlib.sha256(data).hexdigest()
    [message] = mailoutbox
    assert message.to == ["Zoë Ångström <zoe@example.com>"]
    assert message.subject == "Your certificate for Intro to Django"
    assert certificate.verify_url in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and certificate.verify_url in html
    [(filename, attached, attached_type)] = message.attachments
    assert (filename, attached, attached_type) == (
        f"certificate-{certificate.display_code}.pdf",
        data,
        "application/pdf",
    )
    kinds = list(CertificateEvent.objects.filter(certificate=certificate).values_list("kind", flat=True))
    assert kinds == ["issued", "rendered", "emailed"]


def test_preferred_name_is_printed(run_on_commit):
    learner = LearnerFactory(full_name="Robert Tables", preferred_name="Bobby Tables")
    enrollment = complete(run_on_commit, learner, CourseFactory())
    assert Certificate.objects.get(enrollment=enrollment).current_version.holder_name == "Bobby Tables"


def test_score_below_threshold_issues_nothing_and_records_why(run_on_commit, mailoutbox):
    enrollment = complete(run_on_commit, LearnerFactory(), CourseFactory(min_score=True), score=Decimal("62"))
    enrollment.refresh_from_db()
    assert (enrollment.decision, enrollment.decision_reason) == (Decision.NOT_ELIGIBLE, "score 62 below 70")
    assert not Certificate.objects.exists()
    assert mailoutbox == []


def test_regrade_above_threshold_issues_once(run_on_commit, mailoutbox):
    learner, course = LearnerFactory(), CourseFactory(min_score=True)
    completed_at = timezone.now()
    complete(run_on_commit, learner, course, score=Decimal("62"), completed_at=completed_at)
    complete(run_on_commit, learner, course, score=Decimal("81"), completed_at=completed_at)
    complete(run_on_commit, learner, course, score=Decimal("95"), completed_at=completed_at)
    assert Certificate.objects.count() == 1
    assert Certificate.objects.get().current_version.score == Decimal("81")
    assert len(mailoutbox) == 1


def test_same_completion_recorded_twice_changes_nothing(run_on_commit, mailoutbox):
    learner, course, completed_at = LearnerFactory(), CourseFactory(), timezone.now()
    first = complete(run_on_commit, learner, course, completed_at=completed_at)
    second = complete(run_on_commit, learner, course, completed_at=completed_at)
    assert first.pk == second.pk
    assert Certificate.objects.count() == 1 and len(mailoutbox) == 1


def test_manual_review_holds_until_staff_approve(run_on_commit, mailoutbox):
    enrollment = complete(run_on_commit, LearnerFactory(), CourseFactory(manual_review=True))
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert certificate.pipeline_state == Pipeline.HELD
    assert "awaiting manual review" in certificate.state_reason
    assert mailoutbox == []

    staff = UserFactory(username="staff", is_staff=True)
    with run_on_commit():
        issuance.certificate_approve(certificate_id=certificate.pk, by=staff)
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.EMAILED and len(mailoutbox) == 1
    assert CertificateEvent.objects.filter(certificate=certificate, kind="approved", actor=staff).exists()


@pytest.mark.parametrize(
    ("learner_fields", "reason"),
    [
        ({"full_name": ""}, snapshot.MISSING_NAME),
        ({"full_name": "   "}, snapshot.MISSING_NAME),
        ({"email": "not-an-email"}, "learner's email address is not valid: 'not-an-email'"),
        ({"email": ""}, snapshot.MISSING_EMAIL),
        (
            {"full_name": "Ana \ue000"},
            "name has characters the certificate fonts cannot print: U+E000 (a private-use character)",
        ),
    ],
)
def test_bad_data_holds_the_certificate_with_a_reason_and_spares_the_batch(
    run_on_commit, mailoutbox, learner_fields, reason
):
    course = CourseFactory()
    bad = complete(run_on_commit, LearnerFactory(**learner_fields), course)
    good = complete(run_on_commit, LearnerFactory(email="good@example.com"), course)

    held = Certificate.objects.get(enrollment=bad)
    assert (held.pipeline_state, held.state_reason) == (Pipeline.HELD, reason)
    assert held.current_version is None and held.issued_at is None
    assert Certificate.objects.get(enrollment=good).pipeline_state == Pipeline.EMAILED
    assert [m.to for m in mailoutbox] == [[f"{good.learner.full_name} <good@example.com>"]]


def test_correcting_the_name_releases_a_held_certificate(run_on_commit, mailoutbox):
    learner = LearnerFactory(full_name="")
    enrollment = complete(run_on_commit, learner, CourseFactory())
    with run_on_commit():
        learner_update_details(learner_id=learner.pk, email=learner.email, full_name="Ngozi Adichie")
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert (certificate.pipeline_state, certificate.current_version.holder_name) == (Pipeline.EMAILED, "Ngozi Adichie")
    assert len(mailoutbox) == 1


def test_each_task_run_twice_issues_one_certificate_and_sends_one_email(mailoutbox):
    enrollment = EnrollmentFactory()
    first_id = tasks.certificate_issue_task(enrollment.pk)
    second_id = tasks.certificate_issue_task(enrollment.pk)
    assert first_id == second_id
    tasks.certificate_render_task(first_id)
    sha = Certificate.objects.get(pk=first_id).current_version.pdf_sha256
    tasks.certificate_render_task(first_id)
    assert tasks.certificate_email_task(first_id) is True
    assert tasks.certificate_email_task(first_id) is False
    certificate = Certificate.objects.get()
    assert (certificate.pipeline_state, certificate.current_version.pdf_sha256) == (Pipeline.EMAILED, sha)
    assert len(mailoutbox) == 1


def test_issued_certificate_is_frozen_against_course_and_learner_edits(run_on_commit):
    learner, course = LearnerFactory(full_name="Anna Kuznetsova"), CourseFactory(title="Old Title")
    enrollment = complete(run_on_commit, learner, course)
    course.title = "New Title"
    course.save()
    with run_on_commit():
        learner_update_details(learner_id=learner.pk, email=learner.email, full_name="Anna K.")
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert (certificate.current_version.course_title, certificate.current_version.holder_name) == (
        "Old Title",
        "Anna Kuznetsova",
    )


def test_transient_email_failure_retries_later_then_sends(monkeypatch, mailoutbox, settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 60
    certificate = rendered_certificate()
    calls = {"n": 0}
    real_send = mail.EmailMessage.send

    def flaky_send(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionRefusedError("SMTP server down")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(mail.EmailMessage, "send", flaky_send)
    assert emailing.certificate_email(certificate_id=certificate.pk) is False
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 1)
    assert "SMTP server down" in delivery.last_error
    assert emailing.certificate_email(certificate_id=certificate.pk) is False  # not due yet: backoff
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert sweep.pipeline_sweep()["retry"] == 1
    delivery.refresh_from_db()
    certificate.refresh_from_db()
    assert (delivery.status, delivery.attempts, certificate.pipeline_state) == (
        DeliveryStatus.SENT,
        2,
        Pipeline.EMAILED,
    )
    assert len(mailoutbox) == 1


def test_permanent_email_failure_does_not_retry(monkeypatch, mailoutbox):
    certificate = rendered_certificate()

    def refused(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")})

    monkeypatch.setattr(mail.EmailMessage, "send", refused)
    emailing.certificate_email(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.DELIVERY_FAILED
    assert "recipient refused" in certificate.state_reason
    assert emailing.certificate_email(certificate_id=certificate.pk) is False  # nothing left to claim


def test_email_gives_up_after_the_attempt_limit_with_growing_delays(monkeypatch, settings):
    settings.EMAIL_MAX_ATTEMPTS = 3
    settings.EMAIL_RETRY_BASE_SECONDS = 60
    certificate = rendered_certificate()
    monkeypatch.setattr(mail.EmailMessage, "send", lambda self, *a, **k: (_ for _ in ()).throw(TimeoutError("slow")))
    emailing.certificate_email(certificate_id=certificate.pk)
    delivery = Delivery.objects.get()
    delays, tried_at = [], timezone.now()
    for _ in range(2):
        delivery.refresh_from_db()
        delays.append(round((delivery.next_attempt_at - tried_at).total_seconds() / 60))
        tried_at = delivery.next_attempt_at + timedelta(seconds=1)
        with time_machine.travel(tried_at):
            delivery_services.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    certificate.refresh_from_db()
    assert delays == [1, 2]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert delivery.last_error.startswith("gave up after 3 tries")
    assert certificate.pipeline_state == Pipeline.DELIVERY_FAILED


def test_render_failure_is_counted_and_retried(monkeypatch):
    enrollment = EnrollmentFactory()
    certificate = issuance.certificate_issue_for_enrollment(enrollment_id=enrollment.pk)
    monkeypatch.setattr(rendering.pdf, "render_pdf", lambda *args: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        rendering.certificate_render(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert (certificate.pipeline_state, certificate.attempts) == (Pipeline.ISSUED, 1)
    assert "disk full" in certificate.state_reason
    monkeypatch.undo()
    assert rendering.certificate_render(certificate_id=certificate.pk).pipeline_state == Pipeline.RENDERED


def test_sweep_renudges_stuck_work_and_never_resends_an_interrupted_send(run_on_commit, mailoutbox, settings):
    settings.CERTIFICATE_STUCK_AFTER = 60
    lost_completion = EnrollmentFactory()  # its signal never ran
    stuck_render = issuance.certificate_issue_for_enrollment(enrollment_id=EnrollmentFactory().pk)
    stuck_email = rendered_certificate()
    interrupted = rendered_certificate()
    delivery = Delivery.objects.create(
        composer="certificate",
        reference=str(interrupted.current_version.pk),
        recipient=interrupted.current_version.recipient_email,
        status=DeliveryStatus.SENDING,
        claimed_at=timezone.now(),
        submitted_at=timezone.now(),  # its message had begun to go
        attempts=1,
    )

    with time_machine.travel(timezone.now() + timedelta(minutes=10)), run_on_commit():
        counts = sweep.pipeline_sweep()
    assert counts == {
        "issue": 1,
        "render": 1,
        "email": 2,
        "retry": 0,
        "released": 0,
        "interrupted": 1,
        "credential": 0,
        "job_items_released": 0,
        "jobs_nudged": 0,
    }
    for certificate in (Certificate.objects.get(enrollment=lost_completion), stuck_render, stuck_email):
        certificate.refresh_from_db()
        assert certificate.pipeline_state == Pipeline.EMAILED
    delivery.refresh_from_db()
    interrupted.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.FAILED, SEND_INTERRUPTED)
    assert (interrupted.pipeline_state, interrupted.state_reason) == (Pipeline.DELIVERY_FAILED, SEND_INTERRUPTED)
    assert len(mailoutbox) == 3


def test_sweep_leaves_fresh_work_alone(settings):
    settings.CERTIFICATE_STUCK_AFTER = 60
    EnrollmentFactory()
    issuance.certificate_issue_for_enrollment(enrollment_id=EnrollmentFactory().pk)
    assert sweep.pipeline_sweep() == {
        "issue": 0,
        "render": 0,
        "email": 0,
        "credential": 0,
        "retry": 0,
        "released": 0,
        "interrupted": 0,
        "job_items_released": 0,
        "jobs_nudged": 0,
    }


def test_approving_a_certificate_with_bad_data_says_why(run_on_commit):
    enrollment = complete(run_on_commit, LearnerFactory(email="nope"), CourseFactory(manual_review=True))
    certificate = Certificate.objects.get(enrollment=enrollment)
    with pytest.raises(CertificateStillHasProblems, match="email address is not valid"):
        issuance.certificate_approve(certificate_id=certificate.pk, by=UserFactory(is_staff=True))


def test_revoked_certificate_is_not_current_and_events_are_append_only(run_on_commit):
    certificate = issued_certificate(run_on_commit)
    lifecycle.certificate_revoke(certificate_id=certificate.pk, by=None, reason="academic misconduct")
    certificate.refresh_from_db()
    assert certificate.credential_state == Credential.REVOKED and not certificate.is_valid
    event = CertificateEvent.objects.filter(certificate=certificate).last()
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_revoked_certificate_stays_revoked_after_learner_edit_and_regrade(run_on_commit, mailoutbox):
    learner, course, completed_at = LearnerFactory(), CourseFactory(), timezone.now()
    enrollment = complete(run_on_commit, learner, course, completed_at=completed_at)
    certificate = Certificate.objects.get(enrollment=enrollment)
    lifecycle.certificate_revoke(certificate_id=certificate.pk, by=None, reason="misconduct")
    with run_on_commit():
        learner_update_details(learner_id=learner.pk, email=learner.email, full_name="New Name")
    complete(run_on_commit, learner, course, completed_at=completed_at, score=Decimal("99"))
    assert list(Certificate.objects.values_list("credential_state", flat=True)) == [Credential.REVOKED]
    assert len(mailoutbox) == 1


def test_revocation_during_a_send_stands(monkeypatch, mailoutbox):
    certificate = rendered_certificate()
    real_send = mail.EmailMessage.send

    def send_while_staff_revoke(self, *args, **kwargs):
        lifecycle.certificate_revoke(certificate_id=certificate.pk, by=None, reason="issued in error")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(mail.EmailMessage, "send", send_while_staff_revoke)
    emailing.certificate_email(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert certificate.credential_state == Credential.REVOKED and certificate.emailed_at is not None


def test_failure_during_a_revocation_does_not_unrevoke(monkeypatch):
    certificate = rendered_certificate()

    def revoke_then_fail(self, *args, **kwargs):
        lifecycle.certificate_revoke(certificate_id=certificate.pk, by=None, reason="issued in error")
        raise ConnectionRefusedError("down")

    monkeypatch.setattr(mail.EmailMessage, "send", revoke_then_fail)
    emailing.certificate_email(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert certificate.credential_state == Credential.REVOKED


def test_regrade_after_issue_is_decided_and_not_swept_forever(run_on_commit, settings):
    settings.CERTIFICATE_STUCK_AFTER = 0
    learner, course, completed_at = LearnerFactory(), CourseFactory(min_score=True), timezone.now()
    complete(run_on_commit, learner, course, score=Decimal("80"), completed_at=completed_at)
    enrollment = complete(run_on_commit, learner, course, score=Decimal("90"), completed_at=completed_at)
    enrollment.refresh_from_db()
    assert enrollment.decision == Decision.ELIGIBLE
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert sweep.pipeline_sweep()["issue"] == 0


def test_staff_resend_after_a_failed_delivery(run_on_commit, monkeypatch, mailoutbox):
    certificate = rendered_certificate()
    monkeypatch.setattr(
        mail.EmailMessage, "send", lambda self, *a, **k: (_ for _ in ()).throw(smtplib.SMTPRecipientsRefused({}))
    )
    emailing.certificate_email(certificate_id=certificate.pk)
    monkeypatch.undo()
    staff = UserFactory(is_staff=True)
    with run_on_commit():
        assert emailing.certificate_email_resend(certificate_ids=[certificate.pk], by=staff) == 1
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.EMAILED and len(mailoutbox) == 1
    assert CertificateEvent.objects.filter(certificate=certificate, kind="resend_requested", actor=staff).exists()


def test_resend_skips_held_and_revoked(run_on_commit):
    held = issued_certificate(run_on_commit, email="broken")
    revoked = issued_certificate(run_on_commit)
    lifecycle.certificate_revoke(certificate_id=revoked.pk, by=None, reason="x")
    assert emailing.certificate_email_resend(certificate_ids=[held.pk, revoked.pk], by=None) == 0
