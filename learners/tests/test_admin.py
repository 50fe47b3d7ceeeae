"""Staff edits in the admin go through the services and lose nothing."""

import pytest
from django import forms
from django.urls import reverse

from learners.models import Enrollment
from learners.tests.factories import EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="learner-boss", is_staff=True, is_superuser=True))
    return client


def change_form_data(response) -> dict:
    """What a browser would post back from an admin change form, unchanged (inlines included)."""
    data = {}
    for form in [response.context["adminform"].form] + [
        f for formset in response.context["inline_admin_formsets"] for f in formset.formset.forms
    ]:
        for name, field in form.fields.items():
            if field.disabled or isinstance(field, forms.FileField):
                continue
            value = form[name].value()
            if value is not None:
                data[form.add_prefix(name)] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data


def test_saving_an_enrollment_keeps_its_cohort_and_custom_fields(staff_client):
    enrollment = EnrollmentFactory(score=80, cohort="Autumn 2026", custom_fields={"Hours": "24", "Grade": "B"})
    url = reverse("admin:learners_enrollment_change", args=[enrollment.pk])
    response = staff_client.post(url, {**change_form_data(staff_client.get(url)), "score": "85"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    enrollment = Enrollment.objects.get(pk=enrollment.pk)
    assert (enrollment.score, enrollment.cohort, enrollment.custom_fields) == (
        85,
        "Autumn 2026",
        {"Hours": "24", "Grade": "B"},
    )


def test_staff_can_change_cohort_and_custom_fields(staff_client):
    enrollment = EnrollmentFactory(cohort="Autumn 2026", custom_fields={"Hours": "24"})
    url = reverse("admin:learners_enrollment_change", args=[enrollment.pk])
    data = {**change_form_data(staff_client.get(url)), "cohort": "Spring 2027", "custom_fields": '{"Hours": "30"}'}
    assert staff_client.post(url, data).status_code == 302
    enrollment = Enrollment.objects.get(pk=enrollment.pk)
    assert (enrollment.cohort, enrollment.custom_fields) == ("Spring 2027", {"Hours": "30"})
