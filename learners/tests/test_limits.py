"""Every free-text input has a limit, at the edge and in the database: one 2 MB custom field once made
every render run past the task timeout."""

import csv
import io
import json

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from courses.custom_fields import (
    CUSTOM_FIELD_LABEL_MAX_LENGTH,
    CUSTOM_FIELD_VALUE_MAX_LENGTH,
    CUSTOM_FIELDS_MAX_COUNT,
    CUSTOM_FIELDS_MAX_JSON_LENGTH,
    LABEL_TOO_LONG,
    TOO_LONG_IN_TOTAL,
    TOO_MANY_FIELDS,
    VALUE_NOT_TEXT,
    VALUE_TOO_LONG,
    CustomFieldsError,
    check_custom_fields,
)
from courses.models import EMAIL_PARAGRAPH_MAX_LENGTH, Course
from courses.tests.factories import CourseFactory
from learners import services
from learners.csv_import import CELL_TOO_LONG, FileError
from learners.models import Enrollment, Learner, WebhookEvent
from learners.tests.factories import EnrollmentFactory, LearnerFactory, UserFactory
from learners.tests.test_admin import change_form_data
from learners.tests.test_webhook import BODY, SECRET, URL, signed

pytestmark = pytest.mark.django_db

LONG_LABEL = "L" * (CUSTOM_FIELD_LABEL_MAX_LENGTH + 1)
LONG_VALUE = "v" * (CUSTOM_FIELD_VALUE_MAX_LENGTH + 1)
MANY = {f"Field {i}": "x" for i in range(CUSTOM_FIELDS_MAX_COUNT + 1)}
# The most the limits allow, in a script SQLite stores as \uXXXX escapes (six characters a letter).
LARGEST = {
    f"{i:02d}" + "字" * (CUSTOM_FIELD_LABEL_MAX_LENGTH - 2): "字" * CUSTOM_FIELD_VALUE_MAX_LENGTH for i in range(20)
}
HUGE = {"Notes": "x" * 2_000_000}


@pytest.fixture
def course():
    return CourseFactory(slug="intro-django")


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="limits-boss", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (MANY, TOO_MANY_FIELDS),
        ({LONG_LABEL: "x"}, LABEL_TOO_LONG.format(label=repr("L" * CUSTOM_FIELD_LABEL_MAX_LENGTH + "…"))),
        ({"Notes": LONG_VALUE}, VALUE_TOO_LONG.format(label="'Notes'")),
        ({"Skills": ["x" * 100, "y" * 100]}, VALUE_TOO_LONG.format(label="'Skills'")),  # printed "x…, y…"
        ({"Nested": [["x"]]}, VALUE_NOT_TEXT.format(label="'Nested'")),
        ({"Nested": {"a": "b"}}, VALUE_NOT_TEXT.format(label="'Nested'")),
        (HUGE, VALUE_TOO_LONG.format(label="'Notes'")),
    ],
)
def test_custom_fields_over_the_limits_are_refused(value, error):
    with pytest.raises(CustomFieldsError) as exc:
        check_custom_fields(value)
    assert str(exc.value) == error


def test_the_total_is_checked_for_values_the_per_field_limits_let_through():
    emoji = {f"{i:02d}": "😀" * CUSTOM_FIELD_VALUE_MAX_LENGTH for i in range(20)}  # 12 JSON characters each
    with pytest.raises(CustomFieldsError, match=TOO_LONG_IN_TOTAL):
        check_custom_fields(emoji)


SCRIPTS = st.sampled_from(["x", "字", "😀", "\x01", "\ud7ff", ""])


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=3).map(lambda s: s + "a"),
        st.tuples(SCRIPTS, st.integers(0, CUSTOM_FIELD_VALUE_MAX_LENGTH)).map(lambda pair: pair[0] * pair[1])
        | st.lists(SCRIPTS.map(lambda c: c * 10), max_size=8)
        | st.integers()
        | st.floats()
        | st.none(),
        max_size=CUSTOM_FIELDS_MAX_COUNT,
    )
)
def test_the_total_is_refused_exactly_when_its_json_is_too_long(value):
    try:
        check_custom_fields(value)
    except CustomFieldsError as exc:
        if str(exc) == TOO_LONG_IN_TOTAL:
            assert len(json.dumps(value)) > CUSTOM_FIELDS_MAX_JSON_LENGTH
        return
    assert len(json.dumps(value)) <= CUSTOM_FIELDS_MAX_JSON_LENGTH


def test_a_value_json_cannot_hold_is_not_waved_through_by_the_length_bound():
    from decimal import Decimal

    with pytest.raises(TypeError):
        check_custom_fields({"Hours": Decimal("12")})


def test_the_largest_custom_fields_allowed_fit_in_the_database(course):
    check_custom_fields(LARGEST)
    enrollment = EnrollmentFactory(course=course, custom_fields=LARGEST)
    Course.objects.filter(pk=course.pk).update(custom_fields=LARGEST)
    assert Enrollment.objects.get(pk=enrollment.pk).custom_fields == LARGEST


# The webhook


@pytest.fixture
def webhook(settings, course):
    settings.LMS_WEBHOOK_SECRETS = [SECRET]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"custom_fields": MANY}, TOO_MANY_FIELDS),
        ({"custom_fields": {LONG_LABEL: "x"}}, LABEL_TOO_LONG.format(label=repr("L" * 60 + "…"))),
        ({"custom_fields": {"Notes": LONG_VALUE}}, VALUE_TOO_LONG.format(label="'Notes'")),
        ({"custom_fields": {"Notes": "x" * 1_000_000}}, VALUE_TOO_LONG.format(label="'Notes'")),
        ({"custom_fields": {"Skills": ["x" * 150, "y" * 150]}}, VALUE_TOO_LONG.format(label="'Skills'")),
        ({"custom_fields": {"Deep": {"a": "b"}}}, VALUE_NOT_TEXT.format(label="'Deep'")),
        ({"cohort": "c" * 201}, "cohort longer than 200 characters"),
        ({"name": "n" * 301}, "name longer than 300 characters"),
        ({"preferred_name": "n" * 301}, "preferred name longer than 300 characters"),
    ],
)
def test_webhook_refuses_values_over_the_limits(client, webhook, change, error):
    response = client.post(URL, **signed({**BODY, **change}))
    assert response.status_code == 422 and response.json() == {"error": error}
    assert not WebhookEvent.objects.exists() and not Enrollment.objects.exists()


def test_webhook_takes_custom_fields_at_the_limits(client, webhook):
    fields = {f"{i:02d}" + "L" * 58: "v" * CUSTOM_FIELD_VALUE_MAX_LENGTH for i in range(CUSTOM_FIELDS_MAX_COUNT)}
    assert client.post(URL, **signed({**BODY, "custom_fields": fields})).status_code == 202
    assert Enrollment.objects.get().custom_fields == fields


# The CSV import


def import_csv(header: str, row: str) -> services.ImportReport:
    good = ",".join(
        ["good", "g@example.com", "Good Row", "intro-django", "2026-11-20"] + [""] * (header.count(",") - 4)
    )
    data = f"{header}\n{row}\n{good}\n".encode()
    return services.completions_import(handle=io.BytesIO(data))


BASE = "learner_id,email,name,course,completed_at"
START = "u9,a@example.com,Ann,intro-django,2026-11-20"


@pytest.mark.parametrize(
    ("header", "row", "reason"),
    [
        (f"{BASE},Notes", f"{START},{LONG_VALUE}", VALUE_TOO_LONG.format(label="'Notes'")),
        (f"{BASE},Notes", f"{START},{'x' * 100_000}", VALUE_TOO_LONG.format(label="'Notes'")),
        (f"{BASE},Notes", f"{START},{'[' * 10_000}", VALUE_TOO_LONG.format(label="'Notes'")),
        (f"{BASE},{LONG_LABEL}", f"{START},x", LABEL_TOO_LONG.format(label=repr("L" * 60 + "…"))),
        (BASE + "".join(f",F{i}" for i in range(21)), START + ",x" * 21, TOO_MANY_FIELDS),
        (f"{BASE},cohort", f"{START},{'c' * 201}", "cohort longer than 200 characters"),
        (f"{BASE},preferred_name", f"{START},{'p' * 301}", "preferred name longer than 300 characters"),
        (BASE, "u9,a@example.com," + "n" * 301 + ",intro-django,2026-11-20", "name longer than 300 characters"),
    ],
)
def test_csv_rows_over_the_limits_are_rejected_and_the_rest_imports(course, header, row, reason):
    report = import_csv(header, row)
    assert report.rejections == [(2, reason)]
    assert report.created == 1 and not Learner.objects.filter(external_id="u9").exists()


def test_a_cell_longer_than_the_csv_module_reads_refuses_the_file(course):
    with pytest.raises(FileError) as exc:
        import_csv(f"{BASE},Notes", f"{START},{'x' * 2_000_000}")
    assert str(exc.value) == CELL_TOO_LONG.format(line=2, limit=csv.field_size_limit())
    assert not Learner.objects.exists()


# The services, the admin and the database


def test_the_service_refuses_oversized_custom_fields(course):
    learner = LearnerFactory()
    with pytest.raises(services.LearnerError, match=VALUE_TOO_LONG.format(label="'Notes'")):
        services.enrollment_record_completion(
            learner_id=learner.pk, course_id=course.pk, completed_at=None, custom_fields={"Notes": LONG_VALUE}
        )
    assert not Enrollment.objects.exists()


def test_enrollment_admin_form_refuses_oversized_custom_fields(staff_client):
    enrollment = EnrollmentFactory(custom_fields={"Hours": "24"})
    url = reverse("admin:learners_enrollment_change", args=[enrollment.pk])
    data = {**change_form_data(staff_client.get(url)), "custom_fields": json.dumps({"Notes": LONG_VALUE})}
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["custom_fields"] == [VALUE_TOO_LONG.format(label="'Notes'")]
    assert Enrollment.objects.get(pk=enrollment.pk).custom_fields == {"Hours": "24"}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("custom_fields", json.dumps({LONG_LABEL: "x"}), LABEL_TOO_LONG.format(label=repr("L" * 60 + "…"))),
        ("custom_fields", json.dumps({"Notes": "x" * 2_000_000}), VALUE_TOO_LONG.format(label="'Notes'")),
        (
            "email_paragraph",
            "p" * (EMAIL_PARAGRAPH_MAX_LENGTH + 1),
            f"Ensure this value has at most {EMAIL_PARAGRAPH_MAX_LENGTH} characters (it has 2001).",
        ),
    ],
)
def test_course_admin_form_refuses_oversized_text(staff_client, course, field, value, error):
    url = reverse("admin:courses_course_change", args=[course.pk])
    response = staff_client.post(url, {**change_form_data(staff_client.get(url)), field: value})
    assert response.status_code == 200 and error in response.context["adminform"].form.errors[field]


@pytest.mark.parametrize("model", ["enrollment", "course"])
def test_the_database_refuses_oversized_custom_fields_written_directly(course, model):
    target = EnrollmentFactory(course=course) if model == "enrollment" else course
    too_big = {"Notes": "x" * (CUSTOM_FIELDS_MAX_JSON_LENGTH + 1)}
    with pytest.raises(IntegrityError), transaction.atomic():
        type(target).objects.filter(pk=target.pk).update(custom_fields=too_big)


def test_the_database_refuses_an_oversized_email_paragraph(course):
    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.filter(pk=course.pk).update(email_paragraph="p" * (EMAIL_PARAGRAPH_MAX_LENGTH + 1))
