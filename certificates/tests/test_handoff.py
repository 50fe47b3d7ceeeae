"""One task per certificate: issue, render and email follow each other in the worker that issued,
with the credential queued behind them; what the chain leaves undone, the sweep and the pages finish."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from certificates import tasks
from certificates.models import Certificate, Pipeline, VersionCredential
from certificates.services import handoff, rendering, sweep
from certificates.tests.factories import rendered_certificate
from learners.tests.factories import EnrollmentFactory


@pytest.fixture
def queued(monkeypatch):
    """What went through the queue (name and arguments); nothing queued runs."""
    calls: list[tuple[str, tuple]] = []
    for module in (handoff, sweep):
        monkeypatch.setattr(module, "async_task", lambda task, *args, **kwargs: calls.append((task, args)))
    return calls


@pytest.mark.django_db(transaction=True)  # real commits: the chain runs after each step's commit
def test_one_issue_task_renders_and_emails_in_the_same_worker_and_queues_only_the_credential(queued, mailoutbox):
    enrollment = EnrollmentFactory()
    certificate_id = tasks.certificate_issue_task(enrollment.pk)

    certificate = Certificate.objects.get(pk=certificate_id)
    assert certificate.pipeline_state == Pipeline.EMAILED
    assert len(mailoutbox) == 1 and enrollment.learner.email in mailoutbox[0].to[0]
    assert queued == [(handoff.CREDENTIAL_TASK, (certificate.current_version.pk,))]
    assert not VersionCredential.objects.filter(version__certificate=certificate, document__isnull=False).exists()

    tasks.credential_sign_task(*queued[0][1])  # as the worker takes it later
    assert VersionCredential.objects.get(version=certificate.current_version).document["type"][-1] == (
        "OpenBadgeCredential"
    )


@pytest.mark.django_db(transaction=True)
def test_a_step_that_fails_in_the_chain_ends_it_and_the_sweep_takes_it_up(queued, mailoutbox, monkeypatch, settings):
    settings.CERTIFICATE_STUCK_AFTER = 60
    with monkeypatch.context() as failing:
        failing.setattr(rendering.pdf, "render_pdf", lambda *args: (_ for _ in ()).throw(RuntimeError("disk full")))
        certificate_id = tasks.certificate_issue_task(EnrollmentFactory().pk)  # the issue itself succeeded

    certificate = Certificate.objects.get(pk=certificate_id)
    assert (certificate.pipeline_state, certificate.attempts) == (Pipeline.ISSUED, 1)
    assert "disk full" in certificate.state_reason
    assert queued == [] and mailoutbox == []

    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert sweep.pipeline_sweep()["render"] == 1
    assert queued == [("certificates.tasks.certificate_render_batch_task", ([certificate_id],))]
    tasks.certificate_render_batch_task([certificate_id])
    assert Certificate.objects.get(pk=certificate_id).pipeline_state == Pipeline.EMAILED
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_steps_inside_an_outer_transaction_are_queued_after_it_commits(queued, mailoutbox):
    """A chain cannot run what commits only after it ended: those steps go through the queue."""
    from django.db import transaction

    with transaction.atomic():
        certificate_id = tasks.certificate_issue_task(EnrollmentFactory().pk)
    assert queued == [(handoff.RENDER_TASK, (certificate_id,))]
    assert Certificate.objects.get(pk=certificate_id).pipeline_state == Pipeline.ISSUED


@pytest.mark.django_db
def test_the_sweep_signs_a_credential_whose_task_was_lost(settings, run_on_commit):
    settings.CERTIFICATE_STUCK_AFTER = 60
    certificate = rendered_certificate()
    VersionCredential.objects.filter(version__certificate=certificate).delete()  # its task never ran

    assert sweep.pipeline_sweep()["credential"] == 0  # rendered just now: its task may still come
    with time_machine.travel(timezone.now() + timedelta(minutes=5)), run_on_commit():
        assert sweep.pipeline_sweep()["credential"] == 1
    assert VersionCredential.objects.get(version=certificate.current_version).document is not None


@pytest.mark.django_db
def test_the_verify_pages_credential_is_signed_when_asked_for_before_its_task_ran(client):
    certificate = rendered_certificate()
    VersionCredential.objects.filter(version__certificate=certificate).delete()  # still queued

    response = client.get(reverse("verification:current_credential", args=[certificate.code]))
    assert response.status_code == 200
    assert response.json()["credentialSubject"]["name"] == certificate.current_version.holder_name
    assert VersionCredential.objects.get(version=certificate.current_version).document == response.json()


@pytest.mark.django_db(transaction=True)
def test_a_step_left_too_late_in_the_task_for_a_send_is_queued_instead(queued, mailoutbox, monkeypatch):
    monkeypatch.setattr(handoff, "continuation_budget", lambda: -1.0)  # every step starts too late
    certificate_id = tasks.certificate_issue_task(EnrollmentFactory().pk)
    assert queued == [(handoff.RENDER_TASK, (certificate_id,))]
    assert Certificate.objects.get(pk=certificate_id).pipeline_state == Pipeline.ISSUED and mailoutbox == []


def test_the_budget_leaves_a_send_and_its_recording_inside_the_task_timeout(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 60}
    settings.EMAIL_TIMEOUT, settings.DELIVERY_DATABASE_PATIENCE = 30, 20
    assert handoff.continuation_budget() == 10


@pytest.mark.django_db(transaction=True)
def test_the_budget_counts_from_the_tasks_start_through_a_chain_inside_a_chain(queued, mailoutbox, monkeypatch):
    """The render continued here opens a chain of its own; its email is judged by the task's clock."""
    clock = iter([0.0, 5.0])  # the task starts; the render is judged 5 s in; then everything is 15 s in
    monkeypatch.setattr(handoff, "monotonic", lambda: next(clock, 15.0))
    monkeypatch.setattr(handoff, "continuation_budget", lambda: 10.0)
    certificate_id = tasks.certificate_issue_task(EnrollmentFactory().pk)
    assert Certificate.objects.get(pk=certificate_id).pipeline_state == Pipeline.RENDERED  # rendered here
    assert (handoff.EMAIL_TASK, (certificate_id,)) in queued and mailoutbox == []  # the email queued


@pytest.mark.django_db(transaction=True)
def test_one_failing_email_in_a_batch_does_not_hold_back_the_others(queued, mailoutbox, monkeypatch):
    from certificates.services import emailing, issuance

    first, second = (issuance.certificate_issue_for_enrollment(enrollment_id=EnrollmentFactory().pk) for _ in "ab")
    queued.clear()
    send = emailing.certificate_email

    def email(*, certificate_id):
        if certificate_id == first.pk:
            raise RuntimeError("the first one's address book is on fire")
        return send(certificate_id=certificate_id)

    monkeypatch.setattr(emailing, "certificate_email", email)
    assert tasks.certificate_render_batch_task([first.pk, second.pk]) == 2
    assert Certificate.objects.get(pk=first.pk).pipeline_state == Pipeline.RENDERED  # left for the sweep
    assert Certificate.objects.get(pk=second.pk).pipeline_state == Pipeline.EMAILED and len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_sweep_queues_a_lost_credential_once_per_stuck_after(settings, queued):
    settings.CERTIFICATE_STUCK_AFTER = 60
    certificate = rendered_certificate()
    VersionCredential.objects.filter(version__certificate=certificate).delete()
    later = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(later):
        assert sweep.pipeline_sweep()["credential"] == 1
        assert sweep.pipeline_sweep()["credential"] == 0  # queued a moment ago: its task may be waiting
    with time_machine.travel(later + timedelta(minutes=2)):
        assert sweep.pipeline_sweep()["credential"] == 1  # lost again
    assert [args for task, args in queued if task == "certificates.tasks.credential_sign_batch_task"] == [
        ([certificate.current_version.pk],)
    ] * 2


@pytest.mark.django_db
def test_a_credential_that_cannot_be_signed_on_request_is_not_found_not_an_error(client, monkeypatch):
    from certificates.services import credentials

    certificate = rendered_certificate()
    VersionCredential.objects.filter(version__certificate=certificate).delete()
    monkeypatch.setattr(credentials, "credential_sign", lambda **kwargs: (_ for _ in ()).throw(OSError("no key")))
    response = client.get(reverse("verification:current_credential", args=[certificate.code]))
    assert response.status_code == 404
