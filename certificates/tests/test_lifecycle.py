"""A certificate's life after issue: versions under one code, revocation, suspension, rejection."""

import hashlib
import itertools
import subprocess
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from certificates import tasks, transitions
from certificates.errors import (
    CertificateNotHeld,
    CertificateNotIssued,
    CertificateNotReissuable,
    CertificateStillHasProblems,
    NotAllowed,
    ReasonRequired,
)
from certificates.models import Certificate, CertificateEvent, CertificateVersion, Credential, Pipeline
from certificates.selectors import version_by_pdf_sha256
from certificates.services import emailing, issuance, lifecycle, rendering, sweep
from certificates.services.rendering import stored_preview
from certificates.tests.factories import issued_certificate, rendered_certificate
from conftest import require_tool
from courses.tests.factories import CourseFactory
from delivery.models import Delivery, DeliveryStatus
from learners.services import learner_update_details
from learners.tests.factories import EnrollmentFactory, LearnerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(username="support", is_staff=True)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="boss", is_staff=True, is_superuser=True)


def correct_name(run_on_commit, certificate, name: str) -> None:
    learner = certificate.enrollment.learner
    with run_on_commit():
        learner_update_details(learner_id=learner.pk, email=learner.email, full_name=name)


def reissue(run_on_commit, certificate, **kwargs):
    with run_on_commit():
        return lifecycle.certificate_reissue(certificate_id=certificate.pk, **kwargs)


def test_reissue_keeps_the_code_and_the_old_version_verifies_as_superseded(run_on_commit, client, staff, mailoutbox):
    certificate = issued_certificate(run_on_commit, full_name="Jon Smiht", course=CourseFactory(title="Ethics"))
    old = certificate.current_version
    old_bytes = old.pdf.read()
    correct_name(run_on_commit, certificate, "Jon Smith")

    new = reissue(run_on_commit, certificate, reason="name_correction", note="ticket 4711", by=staff)

    for row in (certificate, old, new):
        row.refresh_from_db()
    assert (new.number, new.holder_name, new.is_current, new.reason) == (2, "Jon Smith", True, "name_correction")
    assert (old.is_current, old.superseded_at is not None) == (False, True)
    assert certificate.code == old.certificate.code and certificate.pipeline_state == Pipeline.EMAILED
    assert new.issued_on == old.issued_on  # a correction does not re-date the certificate
    stored_preview(old), stored_preview(new)
    assert new.preview_sha256 == hashlib.sha256(new.preview.read()).hexdigest() != old.preview_sha256
    # The current PDF is the new one, at its own path; the old file is kept, byte for byte.
    new_bytes = certificate.current_version.pdf.read()
    assert new_bytes != old_bytes and new.pdf.name.endswith(f"{certificate.code}-v2.pdf")
    assert old.pdf.read() == old_bytes
    # The old PDF's hash finds the old version, which says it is superseded and links the current one.
    found = version_by_pdf_sha256(hashlib.sha256(old_bytes).hexdigest())
    assert (found.pk, found.is_current) == (old.pk, False)
    page = client.get(reverse("verification:version", args=[certificate.display_code, 1])).content.decode()
    assert "Superseded" in page and "Jon Smiht" in page
    current = client.get(reverse("verification:detail", args=[certificate.display_code])).content.decode()
    assert "Valid" in current and "Jon Smith" in current and "Smiht" not in current
    served = client.get(reverse("verification:pdf", args=[certificate.display_code]))
    assert b"".join(served.streaming_content) == new_bytes
    # One short notice for the new version, after the first email.
    assert [m.subject for m in mailoutbox] == ["Your certificate for Ethics", "Your corrected certificate for Ethics"]
    assert "corrected certificate" in mailoutbox[1].body and certificate.verify_url in mailoutbox[1].body
    event = CertificateEvent.objects.get(certificate=certificate, kind="reissued")
    assert (event.actor, event.version_id, event.from_state, event.to_state) == (staff, new.pk, "emailed", "issued")
    assert "ticket 4711" in event.message


def test_the_new_pdf_prints_the_corrected_name(run_on_commit, tmp_path):
    require_tool("pdftotext")
    certificate = issued_certificate(run_on_commit, full_name="Jon Smiht")
    correct_name(run_on_commit, certificate, "Jon Smith")
    version = reissue(run_on_commit, certificate, reason="name_correction")
    version.refresh_from_db()
    path = tmp_path / "v2.pdf"
    path.write_bytes(version.pdf.read())
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Jon Smith" in text and "Smiht" not in text


def test_one_reissue_notice_per_version_however_often_the_email_task_runs(run_on_commit, mailoutbox, settings):
    certificate = issued_certificate(run_on_commit, full_name="Ada Lovelase")
    correct_name(run_on_commit, certificate, "Ada Lovelace")
    version = reissue(run_on_commit, certificate, reason="name_correction")
    assert tasks.certificate_email_task(certificate.pk) is False
    assert emailing.certificate_email(certificate_id=certificate.pk) is False
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.CERTIFICATE_STUCK_AFTER * 10)):
        sweep.pipeline_sweep()
    notices = Delivery.objects.filter(reference=str(version.pk), purpose="reissue_notice")
    assert notices.count() == 1 and notices.get().status == DeliveryStatus.SENT
    assert len(mailoutbox) == 2
    # The database refuses a second live notice of the same version, whatever the code does.
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(
            composer="certificate", reference=str(version.pk), recipient="x@example.com", purpose="reissue_notice"
        )


def test_a_reissue_that_changes_nothing_makes_no_version_and_sends_nothing(run_on_commit, mailoutbox):
    certificate = issued_certificate(run_on_commit)
    assert reissue(run_on_commit, certificate, reason="course_correction") is None
    assert certificate.versions.count() == 1 and len(mailoutbox) == 1
    assert not CertificateEvent.objects.filter(certificate=certificate, kind="reissued").exists()
    # Only printed facts count: the learner's new address is not on the PDF.
    learner = certificate.enrollment.learner
    with run_on_commit():
        learner_update_details(learner_id=learner.pk, email="new@example.com", full_name=learner.full_name)
    assert reissue(run_on_commit, certificate, reason="course_correction") is None


def test_a_course_rename_reissues_every_certificate_of_the_course_in_the_background(run_on_commit, mailoutbox):
    course = CourseFactory(title="Intro to Pyhton")
    certificates = [issued_certificate(run_on_commit, course=course) for _ in range(3)]
    course.title = "Intro to Python"
    course.save()
    ids = [c.pk for c in certificates]
    assert sorted(lifecycle.certificates_reissue_plan(certificate_ids=ids).changing) == sorted(ids)
    from certificates.services import jobs

    with run_on_commit():
        job = jobs.reissue_job_start(certificate_ids=ids, note="course renamed", by=None, course_id=course.pk)
    assert job.total == 3
    for certificate in certificates:
        assert list(certificate.versions.values_list("number", "course_title", "is_current")) == [
            (2, "Intro to Python", True),
            (1, "Intro to Pyhton", False),
        ]
    assert sorted(m.subject for m in mailoutbox[3:]) == ["Your corrected certificate for Intro to Python"] * 3
    assert lifecycle.certificates_reissue_plan(certificate_ids=ids).unchanged == 3


def test_reissue_refuses_what_it_cannot_reissue_and_writes_nothing(run_on_commit):
    held = issued_certificate(run_on_commit, email="broken")
    with pytest.raises(CertificateNotReissuable):
        lifecycle.certificate_reissue(certificate_id=held.pk, reason="name_correction")
    revoked = issued_certificate(run_on_commit)
    lifecycle.certificate_revoke(certificate_id=revoked.pk, by=None, reason="misconduct")
    with pytest.raises(CertificateNotReissuable, match="revoked"):
        lifecycle.certificate_reissue(certificate_id=revoked.pk, reason="name_correction")
    broken = issued_certificate(run_on_commit)
    learner = broken.enrollment.learner
    learner.full_name = "Ana \ue000"
    learner.save()
    with pytest.raises(CertificateStillHasProblems, match="cannot print"):
        lifecycle.certificate_reissue(certificate_id=broken.pk, reason="name_correction")
    with pytest.raises(ValueError):
        lifecycle.certificate_reissue(certificate_id=broken.pk, reason="first_issue")
    assert CertificateVersion.objects.filter(number__gt=1).count() == 0
    assert not CertificateEvent.objects.filter(kind="reissued").exists()


STATE_PAIRS = [
    *itertools.permutations(Pipeline.values, 2),
    *itertools.permutations(Credential.values, 2),
    *itertools.product(Pipeline.values, Credential.values),
]


@pytest.mark.parametrize(("from_", "to"), [pair for pair in STATE_PAIRS if pair not in transitions.ALLOWED])
def test_every_disallowed_transition_is_refused_and_writes_nothing(from_, to):
    certificate = rendered_certificate()
    events = CertificateEvent.objects.count()
    with pytest.raises(transitions.TransitionNotAllowed):
        transitions.transition(certificate.pk, from_=from_, to=to)
    assert CertificateEvent.objects.count() == events
    refreshed = Certificate.objects.get(pk=certificate.pk)
    assert (refreshed.pipeline_state, refreshed.credential_state) == (Pipeline.RENDERED, Credential.ACTIVE)


def test_an_allowed_transition_from_another_state_changes_nothing():
    certificate = rendered_certificate()
    events = CertificateEvent.objects.count()
    assert transitions.transition(certificate.pk, from_=Pipeline.HELD, to=Pipeline.ISSUED) is False
    assert CertificateEvent.objects.count() == events
    assert transitions.transition(
        certificate.pk, from_=Pipeline.RENDERED, to=Pipeline.EMAILED, emailed_at=timezone.now()
    )
    event = CertificateEvent.objects.latest("pk")
    assert (event.from_state, event.to_state, event.kind) == ("rendered", "emailed", "emailed")


def test_revoking_a_held_certificate_is_refused_and_it_stays_private(run_on_commit, client, staff):
    held = issued_certificate(run_on_commit, email="broken")
    with pytest.raises(CertificateNotIssued):
        lifecycle.certificate_revoke(certificate_id=held.pk, by=staff, reason="mistake")
    with pytest.raises(CertificateNotIssued):
        lifecycle.certificate_suspend(certificate_id=held.pk, by=staff, reason="dispute")
    held.refresh_from_db()
    assert (held.pipeline_state, held.credential_state) == (Pipeline.HELD, Credential.ACTIVE)
    assert client.get(reverse("verification:detail", args=[held.display_code])).status_code == 404
    # The database refuses it too, whatever code tries.
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.filter(pk=held.pk).update(credential_state=Credential.REVOKED, revoked_at=timezone.now())


def test_revoke_needs_a_reason_shows_it_and_only_an_admin_undoes_it(run_on_commit, client, staff, admin_user):
    certificate = issued_certificate(run_on_commit)
    with pytest.raises(ReasonRequired):
        lifecycle.certificate_revoke(certificate_id=certificate.pk, by=staff, reason="  ")
    lifecycle.certificate_revoke(certificate_id=certificate.pk, by=staff, reason="issued in error")
    url = reverse("verification:detail", args=[certificate.display_code])
    page = client.get(url).content.decode()
    assert "Revoked" in page and "issued in error" in page
    assert client.get(reverse("verification:pdf", args=[certificate.display_code])).status_code == 404
    with pytest.raises(NotAllowed):
        lifecycle.certificate_unrevoke(certificate_id=certificate.pk, by=staff, reason="oops")
    lifecycle.certificate_unrevoke(certificate_id=certificate.pk, by=admin_user, reason="revoked the wrong one")
    certificate.refresh_from_db()
    assert (certificate.credential_state, certificate.revoked_at, certificate.credential_reason) == (
        Credential.ACTIVE,
        None,
        "",
    )
    assert "Valid" in client.get(url).content.decode()
    assert certificate.credential_changed_by == admin_user
    kinds = list(certificate.events.filter(actor__isnull=False).values_list("kind", "actor__username"))
    assert kinds == [("revoked", "support"), ("unrevoked", "boss")]


def test_suspend_and_reinstate(run_on_commit, client, staff):
    certificate = issued_certificate(run_on_commit)
    lifecycle.certificate_suspend(certificate_id=certificate.pk, by=staff, reason="completion disputed")
    page = client.get(reverse("verification:detail", args=[certificate.display_code])).content.decode()
    assert "Suspended" in page and "Valid" not in page
    assert emailing.certificate_email_resend(certificate_ids=[certificate.pk], by=staff) == 0
    lifecycle.certificate_reinstate(certificate_id=certificate.pk, by=staff, reason="dispute closed")
    certificate.refresh_from_db()
    assert certificate.is_valid and certificate.suspended_at is None
    revoked = issued_certificate(run_on_commit)
    lifecycle.certificate_suspend(certificate_id=revoked.pk, by=staff, reason="under review")
    lifecycle.certificate_revoke(certificate_id=revoked.pk, by=staff, reason="confirmed misconduct")
    revoked.refresh_from_db()
    assert revoked.credential_state == Credential.REVOKED


def test_rejecting_in_manual_review_keeps_it_private_with_the_reason(run_on_commit, client, staff, mailoutbox):
    held = issued_certificate(run_on_commit, course=CourseFactory(manual_review=True))
    with pytest.raises(ReasonRequired):
        issuance.certificate_reject(certificate_id=held.pk, by=staff, reason="")
    issuance.certificate_reject(certificate_id=held.pk, by=staff, reason="final project not submitted")
    held.refresh_from_db()
    assert (held.pipeline_state, held.state_reason) == (Pipeline.REJECTED, "final project not submitted")
    assert client.get(reverse("verification:detail", args=[held.display_code])).status_code == 404
    with pytest.raises(CertificateNotHeld):
        issuance.certificate_approve(certificate_id=held.pk, by=staff)
    with run_on_commit():
        issuance.certificate_issue_for_enrollment(enrollment_id=held.enrollment_id)  # a regrade arrives
    held.refresh_from_db()
    assert held.pipeline_state == Pipeline.REJECTED and mailoutbox == []


def test_an_approval_survives_bad_data_and_issues_once_the_data_is_fixed(run_on_commit, staff, mailoutbox):
    held = issued_certificate(run_on_commit, email="nope", course=CourseFactory(manual_review=True))
    with pytest.raises(CertificateStillHasProblems, match="email address is not valid"):
        issuance.certificate_approve(certificate_id=held.pk, by=staff)
    held.refresh_from_db()
    assert held.approved_at is not None and "awaiting manual review" not in held.state_reason
    learner = held.enrollment.learner
    with run_on_commit():
        learner_update_details(learner_id=learner.pk, email="fixed@example.com", full_name=learner.full_name)
    held.refresh_from_db()
    assert held.pipeline_state == Pipeline.EMAILED and len(mailoutbox) == 1


def test_a_failed_first_email_goes_out_once_the_address_is_corrected(run_on_commit, monkeypatch, mailoutbox):
    import smtplib

    certificate = rendered_certificate(learner__email="typo@exmaple.com")
    real_send = mail.EmailMessage.send

    def refuse_the_typo(self, *args, **kwargs):
        if "typo@" in self.to[0]:
            raise smtplib.SMTPRecipientsRefused({"typo@exmaple.com": (550, b"no such user")})
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(mail.EmailMessage, "send", refuse_the_typo)
    emailing.certificate_email(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.DELIVERY_FAILED
    learner = certificate.enrollment.learner
    with run_on_commit():
        learner_update_details(learner_id=learner.pk, email="right@example.com", full_name=learner.full_name)
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.EMAILED
    assert [m.to for m in mailoutbox] == [[f"{learner.full_name} <right@example.com>"]]
    assert list(Delivery.objects.order_by("pk").values_list("recipient", "status")) == [
        ("typo@exmaple.com", "failed"),
        ("right@example.com", "sent"),
    ]
    # What was issued stays as issued; the change of address is in the log, not a silent rewrite.
    assert certificate.current_version.recipient_email == "typo@exmaple.com"
    assert certificate.events.filter(kind="email_address_changed").exists()


def test_a_render_killed_mid_way_is_counted_and_given_up_on(settings):
    settings.CERTIFICATE_MAX_ATTEMPTS = 3
    certificate = issuance.certificate_issue_for_enrollment(enrollment_id=EnrollmentFactory().pk)

    class Killed(BaseException):  # what SIGKILL or the task timeout looks like: no except clause runs
        pass

    with mock.patch.object(rendering.pdf, "render_pdf", side_effect=Killed):
        for attempt in range(3):
            with time_machine.travel(timezone.now() + timedelta(seconds=(attempt + 1) * 1000)):
                with pytest.raises(Killed):
                    rendering.certificate_render(certificate_id=certificate.pk)
            certificate.refresh_from_db()
            assert (certificate.attempts, certificate.pipeline_state) == (attempt + 1, Pipeline.ISSUED)
    with time_machine.travel(timezone.now() + timedelta(seconds=10_000)):
        rendering.certificate_render(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    # Still issued (a held certificate was never issued), not retried, and staff see why.
    assert certificate.pipeline_state == Pipeline.ISSUED and certificate.attempts == 3
    assert certificate.state_reason.startswith("rendering gave up after 3 tries")
    assert certificate.events.filter(kind="render_gave_up").count() == 1
    with mock.patch("certificates.services.sweep.async_task") as enqueue:
        with time_machine.travel(timezone.now() + timedelta(seconds=20_000)):
            assert sweep.pipeline_sweep()["render"] == 0
    enqueue.assert_not_called()


def test_a_render_claimed_by_another_worker_is_left_to_it(settings):
    certificate = issuance.certificate_issue_for_enrollment(enrollment_id=EnrollmentFactory().pk)
    assert rendering._claim(certificate.pk)
    with mock.patch.object(rendering.pdf, "render_pdf") as render:
        assert rendering.certificate_render(certificate_id=certificate.pk).pipeline_state == Pipeline.ISSUED
    render.assert_not_called()


@pytest.mark.django_db(transaction=True)
def test_the_pdf_is_rendered_outside_any_transaction():
    with mock.patch.object(issuance, "enqueue_after_commit"):
        certificate = issuance.certificate_issue_for_enrollment(enrollment_id=EnrollmentFactory().pk)
    real = rendering.pdf.render_pdf
    seen = []

    def watching(*args):
        seen.append(connection.in_atomic_block)
        return real(*args)

    with mock.patch.object(rendering.pdf, "render_pdf", watching), mock.patch.object(rendering, "enqueue_after_commit"):
        assert rendering.certificate_render(certificate_id=certificate.pk).pipeline_state == Pipeline.RENDERED
    assert seen == [False]


def test_the_sweep_records_its_nudges_and_batches_them(settings):
    settings.CERTIFICATE_STUCK_AFTER = 60
    for _ in range(45):
        issuance.certificate_issue_for_enrollment(enrollment_id=EnrollmentFactory().pk)
    for _ in range(3):
        EnrollmentFactory()  # completions whose issue task was lost
    later = timezone.now() + timedelta(minutes=5)
    with mock.patch("certificates.services.sweep.async_task") as enqueue, time_machine.travel(later):
        first = sweep.pipeline_sweep()
        second = sweep.pipeline_sweep()  # a minute later in real life: nothing new to nudge
    assert (first["render"], first["issue"]) == (45, 3)
    assert (second["render"], second["issue"]) == (0, 0)
    tasks_queued = [call.args[0] for call in enqueue.call_args_list]
    assert tasks_queued.count("certificates.tasks.certificate_render_batch_task") == 3  # 20 + 20 + 5
    assert tasks_queued.count("certificates.tasks.certificate_issue_batch_task") == 1
    with mock.patch("certificates.services.sweep.async_task"), time_machine.travel(later + timedelta(minutes=2)):
        assert sweep.pipeline_sweep()["render"] == 45  # still stuck after a whole period: nudged again


def test_the_dashboard_does_not_serve_a_revoked_or_suspended_pdf(run_on_commit, client):
    learner = LearnerFactory(user=UserFactory())
    certificate = issued_certificate(run_on_commit, learner=learner)
    client.force_login(learner.user)
    url = reverse("dashboard:download", args=[certificate.pk])
    assert client.get(url).status_code == 200
    lifecycle.certificate_suspend(certificate_id=certificate.pk, by=None, reason="dispute")
    assert client.get(url).status_code == 404
    lifecycle.certificate_revoke(certificate_id=certificate.pk, by=None, reason="misconduct")
    assert client.get(url).status_code == 404
    page = client.get(reverse("dashboard:home")).content.decode()
    assert "Revoked" in page and "Download PDF" not in page


@pytest.mark.postgres
def test_the_event_log_refuses_update_and_delete_in_the_database(run_on_commit):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (set DATABASE_URL)")
    certificate = issued_certificate(run_on_commit)
    event = certificate.events.first()
    with pytest.raises(Exception, match="Cannot update or delete"), transaction.atomic():
        CertificateEvent.objects.filter(pk=event.pk).update(message="rewritten history")
    with pytest.raises(Exception, match="Cannot update or delete"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM certificates_certificateevent WHERE id = %s", [event.pk])
    with pytest.raises(ValueError):
        event.save()
    assert CertificateEvent.objects.get(pk=event.pk).message == event.message


def test_a_course_validity_period_sets_the_expiry(run_on_commit):
    import datetime

    with time_machine.travel(datetime.datetime(2026, 1, 31, 12, tzinfo=datetime.UTC)):
        certificate = issued_certificate(run_on_commit, course=CourseFactory(validity_months=13))
    assert certificate.valid_until == datetime.date(2027, 2, 28)  # the month is shorter: its last day
    assert issued_certificate(run_on_commit).valid_until is None  # blank: never expires


def test_a_name_cannot_reorder_or_break_the_verify_page_or_the_email(client, run_on_commit, mailoutbox):
    import json

    from learners.ingest import record_from_json
    from learners.services import completion_ingest

    course = CourseFactory(slug="ethics")
    hostile = "Eve\u202egnp.exe\u202c\u0000 Bcc:\nvictim@example.com"
    record = record_from_json(
        json.loads(
            json.dumps(
                {
                    "learner_id": "e1",
                    "course": "ethics",
                    "completed_at": "2026-11-20T10:00:00Z",
                    "email": "eve@example.com",
                    "name": hostile.replace("\u0000", ""),
                }
            )
        )
    )
    with run_on_commit():
        completion_ingest(record=record, source="webhook")
    certificate = Certificate.objects.get(enrollment__course=course)
    name = certificate.current_version.holder_name
    assert not set(name) & {"\u202e", "\u202c", "\n", "\u0000"}
    page = client.get(reverse("verification:detail", args=[certificate.display_code])).content.decode()
    assert "\u202e" not in page and f"<bdi>{name}</bdi>" in page
    [message] = mailoutbox
    assert "\u202e" not in message.to[0] and "\n" not in message.to[0] and message.bcc == []


def test_a_suspension_before_the_first_email_holds_it_back_and_reinstating_sends_it(run_on_commit, mailoutbox):
    certificate = rendered_certificate()
    lifecycle.certificate_suspend(certificate_id=certificate.pk, by=None, reason="completion disputed")
    assert emailing.certificate_email(certificate_id=certificate.pk) is False
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.RENDERED and mailoutbox == []
    with run_on_commit():
        lifecycle.certificate_reinstate(certificate_id=certificate.pk, by=None, reason="dispute closed")
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.EMAILED and len(mailoutbox) == 1


def test_a_suspension_while_the_email_waits_to_retry_does_not_fail_it_for_good(run_on_commit, mailoutbox):
    certificate = rendered_certificate()
    version = certificate.current_version
    delivery = Delivery.objects.create(composer="certificate", reference=str(version.pk), recipient="a@example.com")
    lifecycle.certificate_suspend(certificate_id=certificate.pk, by=None, reason="under review")
    from delivery.services import delivery_send

    assert delivery_send(delivery_id=delivery.pk) is False
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.RENDERED  # not "delivery failed": nothing is wrong with it
    with run_on_commit():
        lifecycle.certificate_reinstate(certificate_id=certificate.pk, by=None, reason="fine")
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.EMAILED and len(mailoutbox) == 1


def test_only_what_is_printed_counts_for_a_reissue(run_on_commit):
    certificate = issued_certificate(run_on_commit)  # completion family: the score is not printed
    enrollment = certificate.enrollment
    enrollment.completed_at = enrollment.completed_at - timedelta(days=3)
    enrollment.score = 88
    enrollment.save()
    assert reissue(run_on_commit, certificate, reason="course_correction") is None
    assert lifecycle.certificates_reissue_plan(certificate_ids=[certificate.pk]).unchanged == 1


def test_a_bounced_first_email_goes_out_again_once_the_address_is_fixed(run_on_commit, mailoutbox, settings):
    from delivery.services import delivery_record_tracking

    certificate = issued_certificate(run_on_commit, email="ada@typo.example")
    delivery = Delivery.objects.get()
    delivery_record_tracking(
        event_type="bounced", recipient="ada@typo.example", event_id="b1", metadata={"delivery_id": str(delivery.pk)}
    )
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.DELIVERY_FAILED and "bounced" in certificate.state_reason
    correct_address = certificate.enrollment.learner
    with run_on_commit():
        learner_update_details(
            learner_id=correct_address.pk, email="ada@right.example", full_name=correct_address.full_name
        )
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.EMAILED
    assert [m.to[0].split("<")[1] for m in mailoutbox] == ["ada@typo.example>", "ada@right.example>"]
    assert mailoutbox[1].subject.startswith("Your certificate for")  # the certificate itself, not a notice


def test_a_late_email_of_an_old_version_does_not_stand_in_for_the_new_one(run_on_commit, mailoutbox):
    certificate = issued_certificate(run_on_commit, full_name="Jon Smiht")
    old = certificate.current_version
    correct_name(run_on_commit, certificate, "Jon Smith")
    with mock.patch.object(rendering, "enqueue_after_commit"):  # v2 rendered, its notice not sent yet
        reissue(run_on_commit, certificate, reason="name_correction")
    emailing.certificate_record_delivery(
        reference=str(old.pk), purpose="resend", recipient="x@example.com", sent=True, reason=""
    )
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.RENDERED
    assert emailing.certificate_email(certificate_id=certificate.pk) is True
    assert mailoutbox[-1].subject.startswith("Your corrected certificate")


def test_an_email_that_cannot_be_built_fails_at_once_with_the_reason(run_on_commit, mailoutbox):
    certificate = rendered_certificate()
    certificate.current_version.pdf.storage.delete(certificate.current_version.pdf.name)
    assert emailing.certificate_email(certificate_id=certificate.pk) is False
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "could not build the message" in delivery.last_error


def test_an_expired_certificate_says_so_and_its_pdf_is_not_served_as_valid(run_on_commit, client):
    certificate = issued_certificate(run_on_commit, course=CourseFactory(validity_months=12))
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        page = client.get(reverse("verification:detail", args=[certificate.display_code])).content.decode()
        assert 'status-word">Expired' in page and 'status-word">Valid' not in page
        assert client.get(reverse("verification:pdf", args=[certificate.display_code])).status_code == 404
    page = client.get(reverse("verification:detail", args=[certificate.display_code])).content.decode()
    assert "in force until" in page


def test_the_learner_sees_why_a_review_rejected_it_and_that_a_held_one_waits(run_on_commit, client, staff):
    learner = LearnerFactory(user=UserFactory())
    rejected = issued_certificate(
        run_on_commit, learner=learner, course=CourseFactory(manual_review=True, title="Ethics")
    )
    waiting = issued_certificate(run_on_commit, learner=learner, course=CourseFactory(manual_review=True, title="Law"))
    issuance.certificate_reject(certificate_id=rejected.pk, by=staff, reason="final essay missing")
    client.force_login(learner.user)
    page = client.get(reverse("dashboard:home")).content.decode()
    assert "final essay missing" in page and "Not issued" in page and "Waiting for review" in page
    for held in (rejected, waiting):
        assert client.get(reverse("dashboard:download", args=[held.pk])).status_code == 404
        assert client.post(reverse("dashboard:email_again", args=[held.pk])).status_code == 404


@pytest.mark.parametrize(
    ("setup", "call", "error"),
    [
        (
            "held",
            lambda c, u: lifecycle.certificate_revoke(certificate_id=c.pk, by=u, reason="x"),
            CertificateNotIssued,
        ),
        (
            "held",
            lambda c, u: lifecycle.certificate_suspend(certificate_id=c.pk, by=u, reason="x"),
            CertificateNotIssued,
        ),
        ("emailed", lambda c, u: lifecycle.certificate_reinstate(certificate_id=c.pk, by=u), Exception),
        ("emailed", lambda c, u: lifecycle.certificate_unrevoke(certificate_id=c.pk, by=u, reason="x"), Exception),
        (
            "emailed",
            lambda c, u: issuance.certificate_reject(certificate_id=c.pk, by=u, reason="x"),
            CertificateNotHeld,
        ),
        ("emailed", lambda c, u: issuance.certificate_approve(certificate_id=c.pk, by=u), CertificateNotHeld),
        (
            "held",
            lambda c, u: lifecycle.certificate_reissue(certificate_id=c.pk, reason="name_correction"),
            CertificateNotReissuable,
        ),
    ],
)
def test_services_refuse_a_certificate_in_the_wrong_state_and_write_nothing(
    run_on_commit, admin_user, setup, call, error
):
    certificate = issued_certificate(run_on_commit, **({"email": "broken"} if setup == "held" else {}))
    assert certificate.pipeline_state == setup
    before = (
        Certificate.objects.values().get(pk=certificate.pk),
        CertificateEvent.objects.count(),
        CertificateVersion.objects.count(),
    )
    with pytest.raises(error):
        call(certificate, admin_user)
    after = (
        Certificate.objects.values().get(pk=certificate.pk),
        CertificateEvent.objects.count(),
        CertificateVersion.objects.count(),
    )
    assert after == before
