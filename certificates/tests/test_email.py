"""Certificate emails: the message a learner receives, through a real SMTP server and anymail."""

import email
import email.policy
import re
import shutil
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core import mail
from django.urls import reverse

from certificates.emails import build_certificate_email, greeting_name
from certificates.models import Certificate, Pipeline
from certificates.services import emailing
from certificates.services import sweep as sweep_service
from certificates.tests.factories import issued_certificate, rendered_certificate
from conftest import require_tool
from courses.tests.factories import CourseFactory
from delivery import services as delivery_services
from delivery.models import Delivery, DeliveryStatus, SuppressedAddress, TrackingEvent
from learners.tests.factories import LearnerFactory, UserFactory

pytestmark = pytest.mark.django_db


def achievement_course(**fields):
    fields.setdefault("title", "Data Analysis with Python")
    return CourseFactory(
        template_family="achievement",
        instructor_name="Prof. Mateus Oliveira",
        cohort_name="Spring 2026 cohort",
        email_paragraph="Your final project on city bikes stood out.",
        organisation__name="Demo Academy",
        organisation__reply_to_email="help@academy.example",
        **fields,
    )


def test_the_email_that_arrives_over_smtp_is_personal_and_complete(smtp_server, run_on_commit, settings):
    learner = LearnerFactory(full_name="Ada Lovelace", email="ada@example.com")
    enrollment_score = Decimal("92.5")
    course = achievement_course(custom_fields={"Skills": ["pandas", "SQL"]})
    with run_on_commit():
        from django.utils import timezone

        from learners.services import enrollment_record_completion

        enrollment_record_completion(
            learner_id=learner.pk, course_id=course.pk, completed_at=timezone.now(), score=enrollment_score
        )
    certificate = Certificate.objects.get()
    assert certificate.pipeline_state == Pipeline.EMAILED
    version = certificate.current_version
    [raw] = smtp_server.messages
    assert smtp_server.envelopes[0][1] == ["ada@example.com"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Your certificate for Data Analysis with Python"
    assert message["To"] == "Ada Lovelace <ada@example.com>"
    assert message["Reply-To"] == "help@academy.example"
    assert message["Message-ID"] == Delivery.objects.get().message_id
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(part for part in message.iter_parts() if part.get_content_type() == "multipart/alternative")
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    text = alternative.get_body(("plain",)).get_content()
    html = alternative.get_body(("html",)).get_content()
    [attachment] = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert attachment.get_filename() == f"certificate-{certificate.display_code}.pdf"
    assert attachment.get_content() == version.pdf.read()
    for body in (text, html):
        assert "Congratulations, Ada!" in body
        for fact in (
            "Data Analysis with Python",
            "Prof. Mateus Oliveira",
            "Spring 2026 cohort",
            "92.5%",
            "pandas, SQL",
            "Your final project on city bikes stood out.",
        ):
            assert fact in body, fact
        assert certificate.verify_url in body
        # A personal link that signs the learner in (after a button press) and opens their dashboard.
        assert settings.SITE_URL + reverse("sign_in_link") + "?sesame=" in body
    links = set(re.findall(r'href="([^"]+)"', html))
    [personal] = {link.replace("&amp;", "&") for link in links if "/accounts/link/" in link}
    assert parse_qs(urlparse(personal).query)["next"] == [f"{reverse('dashboard:home')}#certificate-{certificate.pk}"]
    # The LinkedIn links go through our verify site, which counts them and sends the browser on.
    assert f"{certificate.verify_url}linkedin/add/" in links and f"{certificate.verify_url}linkedin/share/" in links
    from django.test import Client

    target = Client().get(f"/verify/{certificate.display_code}/linkedin/add/")["Location"]
    linkedin = urlparse(target)
    params = {k: v[0] for k, v in parse_qs(linkedin.query).items()}
    assert params == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Data Analysis with Python",
        "organizationName": "Demo Academy",
        "issueYear": str(version.issued_on.year),
        "issueMonth": str(version.issued_on.month),
        "certUrl": certificate.verify_url,
        "certId": certificate.display_code,
    }
    share = Client().get(f"/verify/{certificate.display_code}/linkedin/share/")["Location"]
    assert parse_qs(urlparse(share).query)["url"] == [certificate.verify_url]


def test_a_newline_in_a_name_cannot_inject_headers(smtp_server, run_on_commit):
    issued_certificate(run_on_commit, full_name="Eve\nBcc: victim@example.com", email="eve@example.com")
    [raw] = smtp_server.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Bcc"] is None and smtp_server.envelopes[0][1] == ["eve@example.com"]
    assert "Eve Bcc: victim@example.com" in str(message["To"])


@pytest.mark.parametrize(
    ("name", "greeting"),
    [
        ("Ada Lovelace", "Ada"),
        ("Dr. Ada Okafor", "Ada"),
        ("Björk", "Björk"),
        ("李小龙", "李小龙"),
        ("김 민준", "김 민준"),
        ("محمد عبد الله", "محمد"),
    ],
)
def test_greeting_uses_the_given_name_where_it_comes_first(name, greeting):
    assert greeting_name(name) == greeting


@pytest.fixture
def anymail_backend(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": "esp:s3cret"}


def test_task_run_twice_sends_once_through_anymail(anymail_backend, mailoutbox):
    certificate = rendered_certificate()
    assert emailing.certificate_email(certificate_id=certificate.pk) is True
    assert emailing.certificate_email(certificate_id=certificate.pk) is False
    delivery = Delivery.objects.get()
    assert len(mailoutbox) == 1 and delivery.status == DeliveryStatus.SENT
    assert delivery.esp_message_id == "0"  # the ESP's id (the test ESP numbers its outbox)
    assert mailoutbox[0].metadata == {"delivery_id": str(delivery.pk)}


def test_transient_esp_error_then_success(anymail_backend, monkeypatch, mailoutbox):
    from datetime import timedelta

    import time_machine
    from anymail.backends.test import EmailBackend
    from django.utils import timezone

    certificate = rendered_certificate()
    real = EmailBackend.send_messages
    calls = {"n": 0}

    def flaky(self, messages):
        calls["n"] += 1
        if calls["n"] == 1:
            raise AnymailAPIError("ESP API response 503: Service Unavailable")
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    assert emailing.certificate_email(certificate_id=certificate.pk) is False
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED and "503" in delivery.last_error
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert delivery_services.delivery_send(delivery_id=delivery.pk) is True
    assert len(mailoutbox) == 1


def test_refused_recipient_fails_at_once_without_retry(anymail_backend, monkeypatch):
    from anymail.backends.test import EmailBackend

    certificate = rendered_certificate()
    monkeypatch.setattr(
        EmailBackend, "send_messages", lambda self, messages: (_ for _ in ()).throw(AnymailRecipientsRefused())
    )
    emailing.certificate_email(certificate_id=certificate.pk)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 1, None)
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.DELIVERY_FAILED


def postmark(client, payload, auth="esp:s3cret"):
    import base64
    import json

    headers = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    return client.post("/anymail/postmark/tracking/", json.dumps(payload), content_type="application/json", **headers)


@pytest.fixture
def sent_delivery(anymail_backend, mailoutbox):
    certificate = rendered_certificate(learner__email="ada@example.com")
    emailing.certificate_email(certificate_id=certificate.pk)
    return Delivery.objects.get()


def test_delivered_event_updates_the_delivery(client, sent_delivery):
    response = postmark(
        client,
        {
            "RecordType": "Delivery",
            "MessageID": sent_delivery.esp_message_id,
            "Recipient": "ada@example.com",
            "DeliveredAt": "2026-11-26T10:00:00Z",
            "Metadata": {"delivery_id": str(sent_delivery.pk)},
        },
    )
    assert response.status_code == 200
    sent_delivery.refresh_from_db()
    assert sent_delivery.tracking_status == "delivered"


def test_bounce_suppresses_the_address_until_the_email_is_corrected(client, sent_delivery, run_on_commit, mailoutbox):
    bounce = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "MessageID": sent_delivery.esp_message_id,
        "Email": "ada@example.com",
        "BouncedAt": "2026-11-26T10:00:00Z",
        "Description": "The server was unable to deliver",
        "Metadata": {"delivery_id": str(sent_delivery.pk)},
    }
    assert postmark(client, bounce).status_code == 200
    assert postmark(client, bounce).status_code == 200  # the ESP retried: processed once
    assert TrackingEvent.objects.count() == 1
    sent_delivery.refresh_from_db()
    assert sent_delivery.tracking_status == "bounced"
    assert SuppressedAddress.objects.filter(email="ada@example.com").exists()
    certificate = Certificate.objects.get()
    with run_on_commit():
        emailing.certificate_email_resend(certificate_ids=[certificate.pk], by=None)
    resend = Delivery.objects.filter(purpose="resend").get()
    assert resend.status == DeliveryStatus.FAILED and "not mailed again" in resend.last_error
    assert len(mailoutbox) == 1
    from learners.services import learner_update_details

    learner = certificate.enrollment.learner
    learner_update_details(learner_id=learner.pk, email="ada@fixed.example", full_name=learner.full_name)
    with run_on_commit():
        emailing.certificate_email_resend(certificate_ids=[certificate.pk], by=None)
    assert len(mailoutbox) == 2 and mailoutbox[-1].to == [f"{learner.full_name} <ada@fixed.example>"]


def test_unauthenticated_tracking_webhook_is_rejected_and_writes_nothing(client, sent_delivery):
    event = {"RecordType": "Delivery", "MessageID": sent_delivery.esp_message_id, "Recipient": "ada@example.com"}
    assert postmark(client, event, auth=None).status_code in (400, 403)
    assert postmark(client, event, auth="esp:wrong").status_code in (400, 403)
    assert not TrackingEvent.objects.exists()
    sent_delivery.refresh_from_db()
    assert sent_delivery.tracking_status == ""


def test_learner_can_ask_for_the_email_again_a_few_times_a_day(client, run_on_commit, mailoutbox, settings):
    settings.LEARNER_RESENDS_PER_DAY = 2
    user = UserFactory()
    certificate = issued_certificate(run_on_commit, user=user)
    client.force_login(user)
    url = reverse("dashboard:email_again", args=[certificate.pk])
    for _ in range(2):
        with run_on_commit():
            assert client.post(url).status_code == 302
    with run_on_commit():
        page = client.post(url, follow=True).content.decode()
    assert "please try again tomorrow" in page
    assert len(mailoutbox) == 3  # the first send and two resends
    assert client.get(url).status_code == 405
    other = issued_certificate(run_on_commit)
    assert client.post(reverse("dashboard:email_again", args=[other.pk])).status_code == 404


BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def test_html_email_fits_a_375px_phone_in_light_and_dark_mode(tmp_path):
    require_tool("chromium")
    chromium = shutil.which("chromium")
    from playwright import sync_api

    certificate = rendered_certificate(
        learner__full_name="Pablo Diego José Francisco de Paula Juan Nepomuceno María de los Remedios",
        course=achievement_course(title="A Rather Long Course Title About Advanced Statistical Methods"),
    )
    html = build_certificate_email(certificate.current_version, b"%PDF-", paragraph="x" * 300).alternatives[0][0]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            for scheme, background in (("light", "rgb(246, 247, 249)"), ("dark", "rgb(17, 20, 24)")):
                page = browser.new_page(viewport={"width": 375, "height": 812}, color_scheme=scheme)
                page.set_content(html)
                assert page.evaluate("document.documentElement.scrollWidth") <= 375
                assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background
                heights = page.eval_on_selector_all(
                    "a.primary, a.secondary", "els => els.map(e => e.getBoundingClientRect().height)"
                )
                assert len(heights) == 4 and min(heights) >= 44
                # Labels ("Instructor", "Cohort") never break mid-word beside a long value.
                labels = page.eval_on_selector_all(
                    "td.label",
                    "els => els.map(e => [e.textContent, 0, e.scrollWidth <= e.clientWidth, e.offsetHeight])",
                )
                assert labels and all(fits and height < 30 for _, _, fits, height in labels), labels
                if scheme == "dark":  # footer links readable on the dark card
                    colours = page.eval_on_selector_all("a.accent", "els => els.map(e => getComputedStyle(e).color)")
                    assert colours and set(colours) == {"rgb(138, 180, 248)"}, colours
                page.screenshot(path=str(tmp_path / f"email-{scheme}.png"), full_page=True)
                page.close()
        finally:
            browser.close()


def test_tracking_webhooks_do_not_exist_without_a_secret(client, settings, db):
    settings.ANYMAIL = {}
    forged = {"RecordType": "Bounce", "Type": "HardBounce", "Email": "victim@example.com", "ID": 1}
    assert postmark(client, forged, auth=None).status_code == 404
    assert not SuppressedAddress.objects.exists()


def test_suppression_ignores_case(anymail_backend, mailoutbox):
    SuppressedAddress.objects.create(email="ada@example.com", reason="bounced")
    certificate = rendered_certificate(learner__email="Ada@Example.COM")
    emailing.certificate_email(certificate_id=certificate.pk)
    assert Delivery.objects.get().status == DeliveryStatus.FAILED and mailoutbox == []


def test_resend_while_the_first_send_waits_to_retry_does_not_double(anymail_backend, monkeypatch, mailoutbox):
    from datetime import timedelta

    import time_machine
    from anymail.backends.test import EmailBackend
    from django.utils import timezone

    certificate = rendered_certificate()
    real = EmailBackend.send_messages
    monkeypatch.setattr(EmailBackend, "send_messages", lambda self, m: (_ for _ in ()).throw(AnymailAPIError("503")))
    emailing.certificate_email(certificate_id=certificate.pk)
    monkeypatch.setattr(EmailBackend, "send_messages", real)
    assert emailing.certificate_email_resend(certificate_ids=[certificate.pk], by=None) == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        sweep_service.pipeline_sweep()
    assert Delivery.objects.count() == 1 and len(mailoutbox) == 1


def test_an_email_change_while_waiting_to_retry_sends_once_to_the_new_address(
    anymail_backend, monkeypatch, mailoutbox, run_on_commit
):
    from datetime import timedelta

    import time_machine
    from anymail.backends.test import EmailBackend
    from django.utils import timezone

    from learners.services import learner_update_details

    certificate = rendered_certificate(learner__email="old@example.com")
    real = EmailBackend.send_messages
    monkeypatch.setattr(EmailBackend, "send_messages", lambda self, m: (_ for _ in ()).throw(AnymailAPIError("503")))
    emailing.certificate_email(certificate_id=certificate.pk)
    monkeypatch.setattr(EmailBackend, "send_messages", real)
    learner = certificate.enrollment.learner
    with run_on_commit():
        learner_update_details(learner_id=learner.pk, email="new@example.com", full_name=learner.full_name)
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        sweep_service.pipeline_sweep()
        sweep_service.pipeline_sweep()
    assert [m.to for m in mailoutbox] == [[f"{learner.full_name} <new@example.com>"]]
    assert Delivery.objects.count() == 1


def queued_delivery(certificate, **fields) -> Delivery:
    version = certificate.current_version
    return Delivery.objects.create(
        composer="certificate", reference=str(version.pk), recipient=version.recipient_email, **fields
    )


@pytest.mark.parametrize("state", ["superseded", "revoked", "suspended"])
def test_superseded_revoked_or_suspended_certificates_are_not_sent(anymail_backend, mailoutbox, state):
    from certificates.models import CertificateVersion

    certificate = rendered_certificate()
    delivery = queued_delivery(certificate)
    if state == "superseded":
        CertificateVersion.objects.filter(certificate=certificate).update(
            is_current=False, superseded_at=certificate.issued_at
        )
    else:
        Certificate.objects.filter(pk=certificate.pk).update(
            credential_state=state, revoked_at=certificate.issued_at, suspended_at=certificate.issued_at
        )
    assert delivery_services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert mailoutbox == [] and delivery.status == DeliveryStatus.FAILED and "not sent" in delivery.last_error


def test_a_lost_resend_task_is_picked_up_by_the_sweep(anymail_backend, mailoutbox, settings):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    certificate = rendered_certificate()
    Certificate.objects.filter(pk=certificate.pk).update(  # its first send went out
        pipeline_state=Pipeline.EMAILED, emailed_at=certificate.issued_at
    )
    delivery = queued_delivery(certificate, purpose="resend")
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.CERTIFICATE_STUCK_AFTER + 5)):
        assert sweep_service.pipeline_sweep()["retry"] == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and len(mailoutbox) == 1


def test_a_late_delivered_event_does_not_hide_a_bounce(client, sent_delivery):
    base = {"MessageID": sent_delivery.esp_message_id, "Metadata": {"delivery_id": str(sent_delivery.pk)}}
    postmark(client, {**base, "RecordType": "Bounce", "Type": "HardBounce", "ID": 7, "Email": "ada@example.com"})
    postmark(
        client,
        {**base, "RecordType": "Delivery", "Recipient": "ada@example.com", "DeliveredAt": "2026-11-26T10:00:00Z"},
    )
    sent_delivery.refresh_from_db()
    assert sent_delivery.tracking_status == "bounced"


def test_greylisting_is_retried_but_a_hard_refusal_is_not(monkeypatch):
    import smtplib

    for code, expected in ((450, DeliveryStatus.QUEUED), (550, DeliveryStatus.FAILED)):
        certificate = rendered_certificate()
        error = smtplib.SMTPRecipientsRefused({certificate.current_version.recipient_email: (code, b"try later")})
        monkeypatch.setattr(mail.EmailMessage, "send", lambda self, *a, e=error, **k: (_ for _ in ()).throw(e))
        emailing.certificate_email(certificate_id=certificate.pk)
        assert Delivery.objects.get(reference=str(certificate.current_version.pk)).status == expected


def test_reply_to_takes_one_valid_address_only():
    version = rendered_certificate().current_version
    assert build_certificate_email(version, b"", reply_to="a@x.example, b@y.example").reply_to == []
    assert build_certificate_email(version, b"", reply_to="help@academy.example").reply_to == ["help@academy.example"]
