"""POST /api/lms/completions: Standard Webhooks signatures, validation, replays."""

import base64
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import InterfaceError, OperationalError, connection, connections
from django.test import Client
from standardwebhooks.webhooks import Webhook

from certificates.models import Certificate, Pipeline
from courses.tests.factories import CourseFactory
from learners.api import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS
from learners.models import Enrollment, Learner, WebhookEvent

SECRET = "whsec_" + base64.b64encode(b"a" * 32).decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"b" * 32).decode()
URL = "/api/lms/completions"
BODY = {
    "learner_id": "lms-42",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "preferred_name": "Ada L.",
    "course": "intro-django",
    "completed_at": "2026-11-20T14:05:00+01:00",
    "score": 91.5,
    "attendance": 100,
    "cohort": "Autumn 2026",
    "custom_fields": {"Grade": "A", "Skills": ["SQL", "pandas"]},
}


def signed(body, *, secret=SECRET, msg_id="msg_1", when=None) -> dict:
    data = body if isinstance(body, str) else json.dumps(body)
    when = when or datetime.now(tz=UTC)
    signature = Webhook(secret).sign(msg_id=msg_id, timestamp=when, data=data)
    return {
        "data": data,
        "content_type": "application/json",
        "headers": {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signature,
        },
    }


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.LMS_WEBHOOK_SECRETS = [SECRET]


@pytest.fixture
def course(db):
    return CourseFactory(slug="intro-django", title="Introduction to Django")


def assert_nothing_written():
    assert not WebhookEvent.objects.exists() and not Learner.objects.exists() and not Enrollment.objects.exists()


def test_valid_webhook_is_accepted_and_issues_the_certificate(client, course, run_on_commit, mailoutbox):
    with run_on_commit():
        response = client.post(URL, **signed(BODY))
    assert response.status_code == 202 and response.json() == {"status": "accepted", "outcome": "created"}
    enrollment = Enrollment.objects.select_related("learner").get()
    assert (enrollment.learner.external_id, enrollment.learner.preferred_name) == ("lms-42", "Ada L.")
    assert enrollment.completed_at.isoformat() == "2026-11-20T13:05:00+00:00"
    assert enrollment.custom_fields == {"Grade": "A", "Skills": "SQL, pandas"}
    certificate = Certificate.objects.get()
    assert (certificate.pipeline_state, certificate.current_version.holder_name) == (Pipeline.EMAILED, "Ada L.")
    assert len(mailoutbox) == 1
    assert WebhookEvent.objects.get().webhook_id == "msg_1"


def test_replayed_id_answers_2xx_and_changes_nothing(client, course, run_on_commit, mailoutbox):
    with run_on_commit():
        client.post(URL, **signed(BODY))
    changed = {**BODY, "score": 55, "name": "Someone Else"}
    with run_on_commit():
        response = client.post(URL, **signed(changed, msg_id="msg_1"))
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    assert Enrollment.objects.get().score == 91.5 and Learner.objects.get().full_name == "Ada Lovelace"
    assert WebhookEvent.objects.count() == 1 and len(mailoutbox) == 1


def test_a_replay_is_a_duplicate_even_when_its_record_would_now_be_rejected(client, course, run_on_commit):
    """Accepted once, then the course was renamed: the LMS's retry of the same message is answered
    "duplicate" (a 4xx would tell it the message failed), and nothing is written."""
    with run_on_commit():
        assert client.post(URL, **signed(BODY)).status_code == 202
    course.slug = "renamed"
    course.save()
    response = client.post(URL, **signed(BODY, msg_id="msg_1"))
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    response = client.post(URL, **signed(BODY, msg_id="msg_2"))  # a new message is still judged
    assert response.status_code == 422
    assert WebhookEvent.objects.count() == 1


def test_tampered_body_is_rejected(client, course):
    request = signed(BODY)
    request["data"] = request["data"].replace("91.5", "99.5")
    response = client.post(URL, **request)
    assert response.status_code == 401 and response.json() == {"error": "no matching signature"}
    assert_nothing_written()


def test_wrong_secret_is_rejected(client, course):
    response = client.post(URL, **signed(BODY, secret=NEW_SECRET))
    assert response.status_code == 401
    assert_nothing_written()


@pytest.mark.parametrize(("offset", "word"), [(-6, "too old"), (+6, "too new")])
def test_timestamps_more_than_five_minutes_off_are_rejected(client, course, offset, word):
    when = datetime.now(tz=UTC) + timedelta(minutes=offset)
    response = client.post(URL, **signed(BODY, when=when))
    assert response.status_code == 401 and word in response.json()["error"]
    assert_nothing_written()


def test_timestamps_within_five_minutes_are_fine(client, course):
    when = datetime.now(tz=UTC) - timedelta(minutes=4)
    assert client.post(URL, **signed(BODY, when=when)).status_code == 202


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_rejected(client, course, header):
    request = signed(BODY)
    del request["headers"][header]
    response = client.post(URL, **request)
    assert response.status_code == 401 and response.json() == {"error": f"missing header {header}"}
    assert_nothing_written()


def test_malformed_signature_header_is_rejected(client, course):
    request = signed(BODY)
    request["headers"]["webhook-signature"] = "garbage-without-comma"
    assert client.post(URL, **request).status_code == 401


def test_rotated_secrets_accept_old_and_new_until_the_old_is_dropped(client, course, settings):
    settings.LMS_WEBHOOK_SECRETS = [SECRET, NEW_SECRET]
    assert client.post(URL, **signed(BODY, secret=SECRET, msg_id="a")).status_code == 202
    assert client.post(URL, **signed(BODY, secret=NEW_SECRET, msg_id="b")).status_code == 202
    assert set(WebhookEvent.objects.values_list("webhook_id", flat=True)) == {"a", "b"}
    settings.LMS_WEBHOOK_SECRETS = [NEW_SECRET]
    assert client.post(URL, **signed(BODY, secret=SECRET, msg_id="c")).status_code == 401


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"learner_id": ""}, "missing learner_id"),
        ({"course": ""}, "missing course (our course code) or course_id (the LMS's)"),
        ({"course": "nope"}, "unknown course nope"),
        ({"completed_at": "yesterday"}, "completed_at is not ISO 8601: 'yesterday'"),
        ({"completed_at": "2026-11-20T14:05:00"}, "completed_at needs a UTC offset, e.g. 2026-11-20T14:05:00+01:00"),
        ({"email": "not-an-email"}, "invalid email 'not-an-email'"),
        ({"score": 130}, "score out of range: 130 (0–100)"),
        ({"score": "lots"}, "score is not a number: 'lots'"),
        ({"name": "", "preferred_name": ""}, "missing name"),
        ({"custom_fields": ["x"]}, "custom_fields must be an object"),
    ],
)
def test_invalid_body_gets_a_json_error_naming_the_problem_and_writes_nothing(client, course, change, error):
    response = client.post(URL, **signed({**BODY, **change}))
    assert response.status_code == 422 and response.json() == {"error": error}
    assert_nothing_written()


def test_body_that_is_not_json_is_a_400(client, course):
    response = client.post(URL, **signed("{not json"))
    assert response.status_code == 400 and response.json() == {"error": "body is not valid JSON"}


def test_unconfigured_endpoint_says_so(client, course, settings):
    settings.LMS_WEBHOOK_SECRETS = []
    assert client.post(URL, **signed(BODY)).status_code == 503


def test_get_is_not_allowed(client, db):
    assert client.get(URL).status_code == 405


def test_new_email_for_the_same_learner_updates_it_and_future_mail_goes_there(
    client, course, run_on_commit, mailoutbox
):
    from certificates.services import emailing

    with run_on_commit():
        client.post(URL, **signed(BODY, msg_id="one"))
    with run_on_commit():
        client.post(URL, **signed({**BODY, "email": "ada@new.example"}, msg_id="two"))
    learner = Learner.objects.get()
    assert learner.email == "ada@new.example" and Learner.objects.count() == 1
    assert list(learner.email_changes.values_list("old_email", "new_email")) == [("ada@example.com", "ada@new.example")]
    with run_on_commit():
        emailing.certificate_email_resend(certificate_ids=[Certificate.objects.get().pk], by=None)
    assert mailoutbox[-1].to == ['"Ada L." <ada@new.example>']


def test_course_can_be_named_by_the_lms_course_id(client, db, run_on_commit):
    CourseFactory(slug="ethics", external_id="course-v1:Org+ETH101+2026")
    body = {**BODY, "course": "", "course_id": "course-v1:Org+ETH101+2026"}
    assert client.post(URL, **signed(body)).status_code == 202
    assert Enrollment.objects.get().course.slug == "ethics"


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_replays_make_one_record_and_one_certificate(course, mailoutbox):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent replays are tested on PostgreSQL (set DATABASE_URL)")
    request = signed(BODY, msg_id="storm")
    barrier = threading.Barrier(20)
    statuses: list = []

    def deliver():
        try:
            client = Client()
            barrier.wait()
            statuses.append(client.post(URL, **request).status_code)
        except Exception as exc:  # noqa: BLE001 - the assertion shows it
            statuses.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses, key=str) == [200] * 19 + [202], statuses
    assert WebhookEvent.objects.count() == 1 and Enrollment.objects.count() == 1
    assert Certificate.objects.count() == 1 and len(mailoutbox) == 1


def test_a_malformed_extra_signature_does_not_hide_a_valid_one(client, course, settings):
    settings.LMS_WEBHOOK_SECRETS = [NEW_SECRET, SECRET]
    request = signed(BODY)
    request["headers"]["webhook-signature"] = "v1,not*base64 v2,whatever " + request["headers"]["webhook-signature"]
    assert client.post(URL, **request).status_code == 202


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"learner_id": True}, "learner_id must be a string"),
        ({"learner_id": "x" * 201}, "learner id longer than 200 characters"),
    ],
)
def test_odd_types_and_lengths_are_422_not_500(client, course, change, error):
    response = client.post(URL, **signed({**BODY, **change}))
    assert response.status_code == 422 and response.json() == {"error": error}


def test_overlong_webhook_id_is_refused_rather_than_truncated(client, course):
    response = client.post(URL, **signed(BODY, msg_id="m" * 201))
    assert response.status_code == 401 and "longer than 200" in response.json()["error"]


def test_an_empty_configured_secret_counts_as_not_configured(client, course, settings):
    settings.LMS_WEBHOOK_SECRETS = [""]
    assert client.post(URL, **signed(BODY)).status_code == 503


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_database_down_answers_503_with_retry_after_and_the_retry_is_taken(
    client, course, run_on_commit, mailoutbox, monkeypatch, error
):
    def database_gone(**kwargs):
        raise error("server closed the connection unexpectedly")

    monkeypatch.setattr("learners.services.lms_webhook.completion_ingest", database_gone)
    response = client.post(URL, **signed(BODY))
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json() == {"error": DATABASE_UNAVAILABLE}
    assert_nothing_written()  # the event row went with the transaction: the retry is not a "duplicate"

    monkeypatch.undo()
    with run_on_commit():
        retried = client.post(URL, **signed(BODY))
    assert retried.status_code == 202 and retried.json()["status"] == "accepted"
    assert Certificate.objects.get().pipeline_state == Pipeline.EMAILED
    assert len(mailoutbox) == 1
