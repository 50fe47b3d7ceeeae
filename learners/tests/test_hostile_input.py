"""Hostile or broken input is a 4xx with a reason (webhook) or a rejected row (CSV), never a 500 or a traceback.

The LMS retries a 5xx forever, and a crash half-way through an import hides which row was the problem.
"""

import io
import json

import pytest

from courses.tests.factories import CourseFactory
from learners import services
from learners.csv_import import FileError
from learners.ingest import HAS_NUL
from learners.models import Enrollment, Learner, WebhookEvent
from learners.tests.test_webhook import BODY, SECRET, URL, signed
from learners.webhooks import BODY_HAS_NUL, BODY_HAS_SURROGATE, BODY_NOT_FINITE, BODY_NOT_JSON, BODY_TOO_DEEP

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.LMS_WEBHOOK_SECRETS = [SECRET]
    CourseFactory(slug="intro-django")


def assert_nothing_written():
    assert not WebhookEvent.objects.exists() and not Learner.objects.exists() and not Enrollment.objects.exists()


def body_with(raw_field: str, raw_value: str) -> str:
    """BODY as JSON text with one field set to raw JSON text (which json.dumps would never write)."""
    return json.dumps({**BODY, raw_field: "@@"}).replace('"@@"', raw_value)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (body_with("score", "NaN"), BODY_NOT_FINITE),
        (body_with("score", "Infinity"), BODY_NOT_FINITE),
        (body_with("attendance", "-Infinity"), BODY_NOT_FINITE),
        (body_with("score", "1e999"), BODY_NOT_FINITE),
        (body_with("unknown_extra", "NaN"), BODY_NOT_FINITE),  # stored in the event's payload: jsonb refuses it
        (body_with("name", '"Ada\\u0000Lovelace"'), BODY_HAS_NUL),
        (body_with("unknown_extra", '"\\u0000"'), BODY_HAS_NUL),
        (body_with("custom_fields", '{"Gr\\u0000ade": "A"}'), BODY_HAS_NUL),
        (json.dumps(BODY).replace("Ada Lovelace", "Ada\x00Lovelace"), BODY_NOT_JSON),  # a raw NUL byte
        (body_with("name", '"Ada \\ud800"'), BODY_HAS_SURROGATE),
        (body_with("custom_fields", '{"Deep": ' + "[" * 10_000 + "]" * 10_000 + "}"), BODY_TOO_DEEP),
        (body_with("unknown_extra", "[" * 10_000 + "]" * 10_000), BODY_TOO_DEEP),
        ("[" * 10_000 + "]" * 10_000, BODY_TOO_DEEP),
        (body_with("custom_fields", '{"Deep": ' + "[" * 30 + "]" * 30 + "}"), BODY_TOO_DEEP),
    ],
)
def test_bodies_python_parses_but_the_database_cannot_store_are_400(client, data, error):
    response = client.post(URL, **signed(data))
    assert response.status_code == 400 and response.json() == {"error": error}
    assert_nothing_written()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"score": "NaN"}, "score is not a number: 'NaN'"),
        ({"score": "sNaN"}, "score is not a number: 'sNaN'"),
        ({"score": "Infinity"}, "score is not a number: 'Infinity'"),
        ({"score": "-inf"}, "score is not a number: '-inf'"),
        ({"attendance": "nan"}, "attendance is not a number: 'nan'"),
        ({"score": "1e999"}, "score out of range: '1e999' (0–100)"),
        ({"score": 10**400}, f"score out of range: {10**400!r} (0–100)"),
        ({"lms": "x" * 51}, "lms longer than 50 characters"),
        ({"course_title": "t" * 301}, "course title longer than 300 characters"),
    ],
)
def test_values_a_column_cannot_hold_are_422(client, change, error):
    response = client.post(URL, **signed({**BODY, **change}))
    assert response.status_code == 422 and response.json() == {"error": error}
    assert_nothing_written()


def test_an_lms_name_that_fits_is_accepted(client):
    assert client.post(URL, **signed({**BODY, "lms": "x" * 50})).status_code == 202
    assert Learner.objects.get().lms == "x" * 50


HEADER = "learner_id,email,name,course,completed_at,score,notes\n"
GOOD = "good,g@example.com,Good Row,intro-django,2026-11-20,90,\n"


def import_rows(*rows: str, **options) -> services.ImportReport:
    data = (HEADER + "".join(rows) + GOOD).encode()
    return services.completions_import(handle=io.BytesIO(data), **options)


@pytest.mark.parametrize(
    ("score", "reason"),
    [
        ("NaN", "score is not a number: 'NaN'"),
        ("sNaN", "score is not a number: 'sNaN'"),
        ("Infinity", "score is not a number: 'Infinity'"),
        ("-Infinity", "score is not a number: '-Infinity'"),
        ("1e999", "score out of range: '1e999' (0–100)"),
    ],
)
def test_scores_that_are_not_numbers_are_rejected_rows(score, reason):
    report = import_rows(f"u9,a@example.com,Ann,intro-django,2026-11-20,{score},\n")
    assert report.rejections == [(2, reason)]
    assert report.created == 1 and Enrollment.objects.get().learner.external_id == "good"


@pytest.mark.parametrize(
    "row",
    [
        "u9,a@example.com,Ann\x00Lovelace,intro-django,2026-11-20,90,\n",
        "u9,a@example.com,Ann,intro-django,2026-11-20,90,note\x00\n",
        "u\x009,a@example.com,Ann,intro-django,2026-11-20,90,\n",
    ],
)
def test_a_nul_anywhere_in_a_row_is_a_rejected_row(row):
    report = import_rows(row)
    assert report.rejections == [(2, f"the row {HAS_NUL}")]
    assert report.created == 1 and not Learner.objects.filter(external_id__startswith="u").exists()


def test_an_overlong_course_title_is_a_rejected_row():
    data = (
        "learner_id,email,name,course,course_title,completed_at\n"
        f"u1,a@example.com,Ann,NEW-1,{'t' * 301},2026-11-20\n"
        "u2,b@example.com,Bo,NEW-2,New Two,2026-11-20\n"
    ).encode()
    report = services.completions_import(handle=io.BytesIO(data), create_courses=True)
    assert report.rejections == [(2, "course title longer than 300 characters")]
    assert report.created == 1


def test_an_overlong_lms_name_refuses_the_file():
    with pytest.raises(FileError, match="--lms longer than 50"):
        import_rows(lms="x" * 51)
    assert not Learner.objects.exists()
