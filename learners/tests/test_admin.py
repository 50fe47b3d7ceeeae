"""Staff edits in the admin go through the services and lose nothing."""

import pytest
from django import forms
from django.urls import reverse

from learners.models import CompletionSource, Enrollment, Learner, LearnerEmailChange
from learners.signals import completion_recorded
from learners.tests.factories import EnrollmentFactory, LearnerFactory, UserFactory

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


@pytest.fixture
def recorded():
    """The enrollment ids completion_recorded was sent for."""
    sent: list[int] = []

    def receiver(sender, *, enrollment_id, **kwargs):
        sent.append(enrollment_id)

    completion_recorded.connect(receiver, dispatch_uid="test_admin.recorded")
    yield sent
    completion_recorded.disconnect(dispatch_uid="test_admin.recorded")


def test_changing_a_learners_email_in_the_admin_keeps_the_history(staff_client, recorded):
    learner = LearnerFactory(email="old@example.com", full_name="Ada Lovelace")
    done = EnrollmentFactory(learner=learner)
    EnrollmentFactory(learner=learner, completed_at=None)
    url = reverse("admin:learners_learner_change", args=[learner.pk])
    data = {**change_form_data(staff_client.get(url)), "email": "new@example.com", "full_name": "Ada\u202e King"}
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    learner.refresh_from_db()
    assert (learner.email, learner.full_name) == ("new@example.com", "Ada King")
    assert list(learner.email_changes.values_list("old_email", "new_email", "source")) == [
        ("old@example.com", "new@example.com", CompletionSource.ADMIN)
    ]
    assert recorded == [done.pk]  # the completed enrollment is evaluated again


def test_saving_a_learner_unchanged_in_the_admin_writes_no_history(staff_client):
    learner = LearnerFactory(email="same@example.com")
    url = reverse("admin:learners_learner_change", args=[learner.pk])
    assert staff_client.post(url, change_form_data(staff_client.get(url))).status_code == 302
    assert not LearnerEmailChange.objects.exists()


def test_the_admin_links_a_user_and_keeps_the_lms_identity(staff_client):
    learner = LearnerFactory(external_id="lms-7")
    user = UserFactory(username="ada")
    url = reverse("admin:learners_learner_change", args=[learner.pk])
    data = {**change_form_data(staff_client.get(url)), "user": str(user.pk), "external_id": "someone-else"}
    assert staff_client.post(url, data).status_code == 302
    learner.refresh_from_db()
    assert (learner.user_id, learner.external_id) == (user.pk, "lms-7")


def test_adding_a_learner_in_the_admin_goes_through_the_service(staff_client):
    url = reverse("admin:learners_learner_add")
    data = {
        **change_form_data(staff_client.get(url)),
        **{"lms": "default", "external_id": "new-1", "email": "n@example.com", "full_name": "New\nPerson"},
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Learner.objects.get(external_id="new-1").full_name == "New Person"
