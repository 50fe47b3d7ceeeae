"""The staff desk through the admin, as a member of each group would use it (Django's test client)."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from certificates import codes
from certificates.models import Certificate, CertificateEvent, Credential, Pipeline
from certificates.tests.factories import issued_certificate, staff_member
from courses.tests.factories import CourseFactory
from delivery.models import Delivery, DeliveryStatus
from learners.models import Learner
from learners.tests.factories import LearnerFactory, UserFactory

pytestmark = pytest.mark.django_db

UNPRINTABLE = "\ue000"  # private use: no certificate font draws it


def _member(group: str, username: str):
    return staff_member(group, username)


@pytest.fixture
def support(client):
    client.force_login(_member("support", "sam-support"))
    return client


@pytest.fixture
def admin_client_(client):
    client.force_login(_member("admin", "ada-admin"))
    return client


def _messages(response) -> list[tuple[str, str]]:
    """The messages the page after the action shows (tests post with ``follow=True``)."""
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def post(client, url: str, data: dict | None = None):
    return client.post(url, data or {}, follow=True)


def _page(certificate) -> str:
    return reverse("admin:certificates_certificate_change", args=[certificate.pk])


def _act(certificate, action: str) -> str:
    return reverse("admin:certificates_certificate_act", args=[certificate.pk, action])


def _held_for_review(run_on_commit, **learner_fields) -> Certificate:
    certificate = issued_certificate(run_on_commit, course=CourseFactory(manual_review=True), **learner_fields)
    assert certificate.pipeline_state == Pipeline.HELD
    return certificate


def _held_for_name(run_on_commit) -> Certificate:
    certificate = issued_certificate(run_on_commit, full_name=f"Ana {UNPRINTABLE}")
    assert certificate.pipeline_state == Pipeline.HELD
    return certificate


# -- groups and permissions -----------------------------------------------------------------------


def test_migration_makes_a_support_and_an_admin_group():
    support = _member("support", "s1")
    admin = _member("admin", "a1")
    for perm in ("certificates.review_certificate", "certificates.resend_certificate", "certificates.decide_case"):
        assert support.has_perm(perm) and admin.has_perm(perm)
    for perm in ("certificates.revoke_certificate", "certificates.unrevoke_certificate", "certificates.reissue_course"):
        assert not support.has_perm(perm) and admin.has_perm(perm)


def test_support_cannot_revoke_by_button_or_bulk_action(support, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    page = support.get(_page(certificate)).content.decode()
    assert "Send the email again" in page and "Revoke" not in page
    assert support.post(_act(certificate, "revoke"), {"reason": "fraud"}).status_code == 403
    response = post(
        support,
        reverse("admin:certificates_certificate_changelist"),
        {"action": "revoke", "_selected_action": [certificate.pk]},
    )
    certificate.refresh_from_db()
    assert certificate.credential_state == Credential.ACTIVE
    assert response.status_code in (200, 302)
    assert not CertificateEvent.objects.filter(certificate=certificate, kind="revoked").exists()


def test_admin_revokes_only_with_a_reason_and_the_message_names_the_certificate(admin_client_, run_on_commit):
    certificate = issued_certificate(run_on_commit, full_name="Zoë Quinn")
    response = post(admin_client_, _act(certificate, "revoke"), {"reason": ""})
    assert _messages(response)[0][0] == "error" and "needs a reason" in _messages(response)[0][1]
    certificate.refresh_from_db()
    assert certificate.credential_state == Credential.ACTIVE

    response = post(admin_client_, _act(certificate, "revoke"), {"reason": "exam fraud"})
    certificate.refresh_from_db()
    assert (certificate.credential_state, certificate.credential_reason) == (Credential.REVOKED, "exam fraud")
    assert _messages(response) == [("success", f"Revoked 1: {certificate.display_code} (Zoë Quinn).")]
    event = CertificateEvent.objects.get(certificate=certificate, kind="revoked")
    assert event.actor.username == "ada-admin"
    assert LogEntry.objects.filter(object_id=str(certificate.pk), change_message="Revoke: exam fraud").exists()


def test_unrevoke_is_for_admins(admin_client_, client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    admin_client_.post(_act(certificate, "revoke"), {"reason": "mistake?"})
    assert admin_client_.post(_act(certificate, "unrevoke"), {"reason": "it was a mistake"}).status_code == 302
    certificate.refresh_from_db()
    assert certificate.credential_state == Credential.ACTIVE


def test_a_button_that_does_not_apply_any_more_says_so(admin_client_, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    response = post(admin_client_, _act(certificate, "reinstate"), {})
    assert [level for level, _ in _messages(response)] == ["error"]
    assert "it is emailed" in _messages(response)[0][1].lower()


# -- the held queue -------------------------------------------------------------------------------


def test_held_queue_names_the_characters_and_their_code_points(support, run_on_commit):
    held = _held_for_name(run_on_commit)
    _held_for_review(run_on_commit)  # another queue
    response = support.get(reverse("admin:certificates_heldcertificate_changelist"))
    assert [c.pk for c in response.context["cl"].result_list] == [held.pk]
    assert "U+E000" in response.content.decode()
    page = support.get(_page(held)).content.decode()
    assert "Why it is held" in page and "U+E000" in page and "private use" in page.lower()


def test_fixing_the_name_in_place_issues_the_certificate(support, run_on_commit, mailoutbox):
    held = _held_for_name(run_on_commit)
    learner = held.enrollment.learner
    fix = reverse("admin:certificates_certificate_fix", args=[held.pk])
    with run_on_commit():
        response = post(support, fix, {"full_name": "Ana Lima", "preferred_name": "", "email": learner.email})
    held.refresh_from_db()
    assert held.pipeline_state == Pipeline.EMAILED
    assert held.current_version.holder_name == "Ana Lima"
    assert _messages(response)[0][0] == "success" and held.display_code in _messages(response)[0][1]
    assert CertificateEvent.objects.filter(certificate=held, kind="holder_corrected", actor__isnull=False).exists()
    assert len(mailoutbox) == 1


def test_a_fix_that_is_still_wrong_keeps_it_held_and_says_why(support, run_on_commit):
    held = _held_for_name(run_on_commit)
    fix = reverse("admin:certificates_certificate_fix", args=[held.pk])
    response = post(support, fix, {"full_name": f"Ana {UNPRINTABLE}x", "email": "ana@example.com"})
    held.refresh_from_db()
    assert held.pipeline_state == Pipeline.HELD
    assert _messages(response)[0][0] == "warning" and "still held" in _messages(response)[0][1]


def test_recheck_from_the_queue_reports_what_is_still_held(support, run_on_commit):
    held = _held_for_name(run_on_commit)
    response = post(
        support,
        reverse("admin:certificates_heldcertificate_changelist"),
        {"action": "recheck", "_selected_action": [held.pk]},
    )
    assert [level for level, _ in _messages(response)] == ["error"]
    assert held.display_code in _messages(response)[0][1] and "still held" in _messages(response)[0][1]


# -- manual review ---------------------------------------------------------------------------------


def test_review_queue_bulk_approve_names_each_and_never_reports_zero_as_success(support, run_on_commit, mailoutbox):
    first = _held_for_review(run_on_commit, full_name="Jürgen Müller")
    second = _held_for_review(run_on_commit, full_name="Ada Lovelace")
    queue = reverse("admin:certificates_reviewcertificate_changelist")
    assert {c.pk for c in support.get(queue).context["cl"].result_list} == {first.pk, second.pk}
    with run_on_commit():
        response = post(support, queue, {"action": "approve", "_selected_action": [first.pk, second.pk]})
    (level, text), *_ = _messages(response)
    assert level == "success" and text.startswith("Approved 2: ")
    assert "Jürgen Müller" in text and first.display_code in text
    assert Certificate.objects.filter(pk__in=[first.pk, second.pk], pipeline_state=Pipeline.EMAILED).count() == 2
    assert support.get(queue).context["cl"].result_count == 0

    # Approving them again through the main list: nothing done, and not called a success.
    response = post(
        support,
        reverse("admin:certificates_certificate_changelist"),
        {"action": "approve", "_selected_action": [first.pk]},
    )
    assert [level for level, _ in _messages(response)] == ["error"]


def test_reject_asks_for_a_reason_the_learner_sees(support, run_on_commit):
    held = _held_for_review(run_on_commit)
    queue = reverse("admin:certificates_reviewcertificate_changelist")
    page = support.post(queue, {"action": "reject", "_selected_action": [held.pk]})
    assert page.status_code == 200 and "The learner sees this reason" in page.content.decode()
    held.refresh_from_db()
    assert held.pipeline_state == Pipeline.HELD  # nothing happens before the reason is given

    support.post(queue, {"action": "reject", "_selected_action": [held.pk], "apply": "1", "reason": ""})
    held.refresh_from_db()
    assert held.pipeline_state == Pipeline.HELD

    response = post(
        support,
        queue,
        {"action": "reject", "_selected_action": [held.pk], "apply": "1", "reason": "attendance too low"},
    )
    held.refresh_from_db()
    assert (held.pipeline_state, held.state_reason) == (Pipeline.REJECTED, "attendance too low")
    assert _messages(response)[0][0] == "success"


# -- search ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["muller", "MÜLLER", "jurgen mull", "j.muller@example"])
def test_search_ignores_accents_and_case_everywhere(support, run_on_commit, typed):
    certificate = issued_certificate(run_on_commit, full_name="Jürgen Müller", email="j.muller@example.com")
    issued_certificate(run_on_commit, full_name="Someone Else")
    for url in (
        reverse("admin:certificates_certificate_changelist"),
        reverse("admin:learners_learner_changelist"),
        reverse("admin:learners_enrollment_changelist"),
    ):
        found = support.get(url, {"q": typed}).context["cl"].result_list
        assert len(found) == 1, url
    assert (
        support.get(reverse("admin:certificates_certificate_changelist"), {"q": typed}).context["cl"].result_list[0]
        == certificate
    )


def test_certificate_found_by_its_code_typed_any_way(support, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    issued_certificate(run_on_commit)
    sloppy = codes.display(certificate.code).lower().replace("-", " ")
    found = support.get(reverse("admin:certificates_certificate_changelist"), {"q": sloppy}).context["cl"]
    assert list(found.result_list) == [certificate]


def test_every_write_path_keeps_the_search_text_in_step(run_on_commit):
    from learners.services import learner_approve_name, learner_change_email, learner_update_details, learner_upsert

    learner = learner_upsert(external_id="x-1", email="a@example.com", full_name="Łukasz Żółć")
    learner_update_details(learner_id=learner.pk, email="b@example.com", full_name="Łukasz Żółć", preferred_name="Łuki")
    learner_approve_name(learner_id=learner.pk, name="Łukasz Żółć-Nowak")
    learner_change_email(learner_id=learner.pk, new_email="c@example.com")
    learner.refresh_from_db()
    assert learner.search_text == learner.search_key
    assert "lukasz zołc-nowak" not in learner.search_text and "lukasz zolc-nowak" in learner.search_text
    assert all(row.search_text == row.search_key for row in Learner.objects.all())


# -- delivery problems ---------------------------------------------------------------------------------


def _bounced(run_on_commit) -> Certificate:
    from delivery.services import delivery_record_tracking

    certificate = issued_certificate(run_on_commit, full_name="Bo Bounce", email="bo@bad.example")
    delivery = Delivery.objects.get(recipient="bo@bad.example")
    delivery.esp_message_id = "esp-1"
    delivery.save(update_fields=["esp_message_id"])
    with run_on_commit():
        delivery_record_tracking(
            event_id="ev-1",
            event_type="bounced",
            esp_message_id="esp-1",
            recipient="bo@bad.example",
            description="mailbox does not exist",
        )
    return certificate


def test_bounced_email_is_a_delivery_problem_until_the_address_is_corrected(support, run_on_commit, mailoutbox):
    certificate = _bounced(run_on_commit)
    queue = reverse("admin:certificates_deliveryproblem_changelist")
    rows = support.get(queue).context["cl"].result_list
    assert [row.certificate_code for row in rows] == [certificate.code]
    problem = rows[0]
    page = support.get(reverse("admin:certificates_deliveryproblem_change", args=[problem.pk])).content.decode()
    assert "Bo Bounce" in page and "Correct the address" in page

    with run_on_commit():
        response = post(
            support,
            reverse("admin:certificates_deliveryproblem_address", args=[problem.pk]),
            {"email": "bo@good.example"},
        )
    assert _messages(response)[0][0] == "success"
    assert Delivery.objects.filter(recipient="bo@good.example", status=DeliveryStatus.SENT).exists()
    assert support.get(queue).context["cl"].result_count == 0
    assert mailoutbox[-1].to == ["Bo Bounce <bo@good.example>"]


def test_an_invalid_corrected_address_is_refused(support, run_on_commit):
    _bounced(run_on_commit)
    problem = Delivery.objects.get(recipient="bo@bad.example")
    response = post(
        support, reverse("admin:certificates_deliveryproblem_address", args=[problem.pk]), {"email": "nope"}
    )
    assert _messages(response)[0][0] == "error"
    assert LearnerFactory._meta.model.objects.filter(email="bo@bad.example").exists()


# -- work pages ----------------------------------------------------------------------------------------


def test_learner_page_lists_certificates_versions_emails_and_history(support, run_on_commit):
    certificate = issued_certificate(run_on_commit, full_name="Wanda Work")
    learner = certificate.enrollment.learner
    page = support.get(reverse("admin:learners_learner_change", args=[learner.pk])).content.decode()
    assert certificate.display_code in page and "v1" in page and "(current)" in page
    assert learner.email in page and "first send" in page
    assert "Certificate history" in page and "emailed" in page


def test_certificate_page_has_no_save_button_and_no_editable_fields(support, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    page = support.get(_page(certificate)).content.decode()
    assert 'name="_save"' not in page and "<select" not in page
    assert certificate.display_code in page and "Versions" in page and "History" in page


def test_audit_logs_are_read_only_for_everyone(admin_client_, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    event = CertificateEvent.objects.filter(certificate=certificate).first()
    url = reverse("admin:certificates_certificateevent_change", args=[event.pk])
    page = admin_client_.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client_.post(reverse("admin:certificates_certificateevent_delete", args=[event.pk])).status_code == 403


# -- cases -----------------------------------------------------------------------------------------------


def _name_case(run_on_commit):
    from certificates.services.cases import case_open_name_correction

    certificate = issued_certificate(run_on_commit, full_name="Jon Smtih")
    case = case_open_name_correction(
        learner=certificate.enrollment.learner, certificate_id=certificate.pk, name="Jon Smith", message="typo"
    )
    return certificate, case


def _decide(case, action: str) -> str:
    return reverse("admin:certificates_case_decide", args=[case.pk, action])


def test_name_correction_page_shows_both_names_and_a_preview(support, run_on_commit):
    _certificate, case = _name_case(run_on_commit)
    queue = support.get(reverse("admin:certificates_namecorrection_changelist"))
    assert [c.pk for c in queue.context["cl"].result_list] == [case.pk]
    page = support.get(reverse("admin:certificates_case_change", args=[case.pk])).content.decode()
    assert "Printed now" in page and "Jon Smtih" in page and "Jon Smith" in page
    preview = support.get(reverse("admin:certificates_case_preview", args=[case.pk]))
    assert preview["Content-Type"] == "image/png" and preview.content.startswith(b"\x89PNG")


def test_declining_needs_a_reason_and_emails_the_learner(support, run_on_commit, mailoutbox):
    from certificates.models import CaseState

    _certificate, case = _name_case(run_on_commit)
    mailoutbox.clear()
    response = post(support, _decide(case, "decline"), {"note": ""})
    case.refresh_from_db()
    assert case.state == CaseState.OPEN and _messages(response)[0][0] == "error"
    with run_on_commit():
        response = post(support, _decide(case, "decline"), {"note": "the LMS has your legal name"})
    case.refresh_from_db()
    assert (case.state, case.decision_note) == (CaseState.DECLINED, "the LMS has your legal name")
    assert _messages(response)[0] == ("success", f"Declined 1: name correction #{case.pk} (Jon Smtih).")
    assert [m.subject for m in mailoutbox] == ["Your name correction request was declined"]
    assert "the LMS has your legal name" in mailoutbox[0].body


def test_staff_enter_a_name_correction_for_a_learner(support, run_on_commit):
    certificate = issued_certificate(run_on_commit, full_name="Mari Tamm")
    add = reverse("admin:certificates_namecorrection_add")
    response = post(support, add, {"certificate": certificate.code.lower(), "requested_name": "Mari Tamm-Kask"})
    assert response.context["case"].requested_name == "Mari Tamm-Kask"
    assert response.context["case"].opened_by.username == "sam-support"


def test_dispute_page_shows_the_record_and_the_rule_and_override_issues_with_a_reason(support, run_on_commit):
    from django.utils import timezone

    from certificates.models import CaseState
    from certificates.services.cases import case_open_dispute
    from learners.models import Enrollment
    from learners.services import enrollment_record_completion

    learner = LearnerFactory(full_name="Dora Dispute")
    with run_on_commit():
        enrollment = enrollment_record_completion(
            learner_id=learner.pk, course_id=CourseFactory(min_score=True).pk, completed_at=timezone.now()
        )
    enrollment = Enrollment.objects.get(pk=enrollment.pk)
    assert not Certificate.objects.filter(enrollment=enrollment).exists()  # no score: not eligible
    case = case_open_dispute(learner=enrollment.learner, enrollment_id=enrollment.pk, message="I passed")
    page = support.get(reverse("admin:certificates_case_change", args=[case.pk])).content.decode()
    assert "as the LMS sent it" in page and "not_eligible" in page and "threshold 70" in page

    response = post(support, _decide(case, "approve"))
    assert _messages(response)[0][0] == "error" and "still does not issue" in _messages(response)[0][1]
    with run_on_commit():
        post(support, _decide(case, "override"), {"note": "score lost in the LMS migration; exam sheet seen"})
    case.refresh_from_db()
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert case.state == CaseState.RESOLVED and certificate.pipeline_state == Pipeline.EMAILED
    assert certificate.override_reason == "score lost in the LMS migration; exam sheet seen"
    # The LMS sending the same record again does not take it back.
    from certificates.services import issuance

    issuance.certificate_issue_for_enrollment(enrollment_id=enrollment.pk)
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.EMAILED


def test_staff_without_a_group_cannot_decide(client, run_on_commit):
    _certificate, case = _name_case(run_on_commit)
    viewer = UserFactory(username="vic-viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_case"))
    client.force_login(viewer)
    assert client.get(reverse("admin:certificates_case_change", args=[case.pk])).status_code == 200
    assert client.post(_decide(case, "approve")).status_code == 403


# -- the front page and pipeline health ---------------------------------------------------------------


def test_front_page_shows_each_queue_with_its_count(support, run_on_commit):
    _held_for_name(run_on_commit)
    page = support.get(reverse("admin:index")).content.decode()
    assert "Waiting for you" in page and "Held certificates" in page
    assert reverse("admin:certificates_heldcertificate_changelist") in page
    assert reverse("admin:certificates_health") in page


def test_health_page_shows_a_stalled_cluster_in_red_and_links_each_figure(support, run_on_commit):
    _held_for_name(run_on_commit)
    response = support.get(reverse("admin:certificates_health"))
    page = response.content.decode()
    health = response.context["health"]
    assert health.cluster_stalled and 'role="alert"' in page  # no worker has run in tests
    held = next(stage for stage in health.waiting if stage.stage == "Held for staff")
    assert held.count == 1 and held.oldest_since is not None
    assert support.get(held.link).context["cl"].result_count == 1


def test_health_page_is_green_with_a_fresh_heartbeat(support):
    from django.utils import timezone

    from certificates.models import WorkerHeartbeat

    WorkerHeartbeat.objects.create(name="laurel@host", last_task_at=timezone.now())
    response = support.get(reverse("admin:certificates_health"))
    assert (
        not response.context["health"].cluster_stalled
        and "Working: the last task finished" in response.content.decode()
    )


@pytest.mark.parametrize(("seconds_ago", "queued", "stalled"), [(60, 3, True), (60, 0, False), (5, 3, False)])
def test_health_page_shows_queued_work_not_moving_before_the_supervisor_restarts(
    support, settings, seconds_ago, queued, stalled
):
    from datetime import timedelta

    from django.utils import timezone
    from django_q.brokers import get_broker

    from certificates.models import WorkerHeartbeat

    settings.WATCHDOG_STALL_AFTER = 30
    WorkerHeartbeat.objects.create(name="laurel@host", last_task_at=timezone.now() - timedelta(seconds=seconds_ago))
    broker = get_broker()
    for _ in range(queued):
        broker.enqueue("a task nobody takes")
    response = support.get(reverse("admin:certificates_health"))
    assert response.context["health"].queued == queued
    assert response.context["health"].cluster_stalled is stalled
    page = response.content.decode()
    assert ('role="alert"' in page) is stalled
    assert ("3 tasks wait" in page) is stalled


def test_reject_all_across_pages_applies_to_every_selected_certificate(support, run_on_commit):
    held = [_held_for_review(run_on_commit) for _ in range(3)]
    queue = reverse("admin:certificates_reviewcertificate_changelist")
    chosen = {"action": "reject", "_selected_action": [held[0].pk], "select_across": "1", "index": "0"}
    page = support.post(queue, chosen)
    assert 'name="select_across" value="1"' in page.content.decode()
    post(support, queue, {**chosen, "apply": "1", "reason": "cohort cancelled"})
    assert Certificate.objects.filter(pk__in=[c.pk for c in held], pipeline_state=Pipeline.REJECTED).count() == 3


def test_a_certificate_held_for_data_cannot_be_approved_past_review(support, run_on_commit):
    held = _held_for_name(run_on_commit)
    assert "Approve and issue" not in support.get(_page(held)).content.decode()
    response = post(support, _act(held, "approve"))
    held.refresh_from_db()
    assert held.approved_at is None and _messages(response)[0][0] == "error"


def test_correcting_the_address_after_a_complaint_sends_it_again(support, run_on_commit, mailoutbox):
    from delivery.services import delivery_record_tracking

    certificate = issued_certificate(run_on_commit, full_name="Cy Complaint", email="cy@old.example")
    delivery = Delivery.objects.get(recipient="cy@old.example")
    Delivery.objects.filter(pk=delivery.pk).update(esp_message_id="esp-c")
    with run_on_commit():
        delivery_record_tracking(event_id="c-1", event_type="complained", esp_message_id="esp-c")
    [problem] = support.get(reverse("admin:certificates_deliveryproblem_changelist")).context["cl"].result_list
    mailoutbox.clear()
    with run_on_commit():
        response = post(
            support,
            reverse("admin:certificates_deliveryproblem_address", args=[problem.pk]),
            {"email": "cy@new.example"},
        )
    assert _messages(response)[0][0] == "success"
    assert [m.to for m in mailoutbox] == [["Cy Complaint <cy@new.example>"]]
    assert certificate.display_code in _messages(response)[0][1]
