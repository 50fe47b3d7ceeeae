"""Course facts the database itself guarantees."""

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse

from courses.models import VALIDITY_MONTHS_MAX, VALIDITY_MONTHS_MIN, Course
from courses.tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create(username="course-boss", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("months", [None, VALIDITY_MONTHS_MIN, 24, VALIDITY_MONTHS_MAX])
def test_validity_months_blank_or_in_range_is_kept(months):
    course = CourseFactory(validity_months=months)
    course.full_clean()
    assert Course.objects.get(pk=course.pk).validity_months == months


@pytest.mark.parametrize("months", [0, VALIDITY_MONTHS_MAX + 1])
def test_validity_months_out_of_range_is_refused_by_the_database(months):
    course = CourseFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.filter(pk=course.pk).update(validity_months=months)


def test_validity_months_is_in_the_issuance_fieldset(staff_client):
    course = CourseFactory()
    response = staff_client.get(reverse("admin:courses_course_change", args=[course.pk]))
    issuance = dict(response.context["adminform"].model_admin.fieldsets)["Issuance"]
    assert "validity_months" in issuance["fields"]
    assert 'name="validity_months"' in response.content.decode()


def change_form_data(response) -> dict:
    """What a browser would post back from an admin change form, unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled or isinstance(field, forms.FileField):
            continue
        value = form[name].value()
        if value is None:
            continue
        data[name] = value
    return data


def test_validity_months_out_of_range_is_a_form_error(staff_client):
    course = CourseFactory(validity_months=12)
    url = reverse("admin:courses_course_change", args=[course.pk])
    data = {**change_form_data(staff_client.get(url)), "validity_months": "601"}
    response = staff_client.post(url, data)
    assert response.status_code == 200 and "validity_months" in response.context["adminform"].form.errors


def test_saving_the_course_form_keeps_validity_months(staff_client):
    course = CourseFactory(validity_months=12)
    url = reverse("admin:courses_course_change", args=[course.pk])
    response = staff_client.post(url, {**change_form_data(staff_client.get(url)), "validity_months": "36"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Course.objects.get(pk=course.pk).validity_months == 36
