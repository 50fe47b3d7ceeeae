"""A certificate in each public state, made through the real services (shared by the page, API and browser tests)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from certificates.models import Certificate, VersionReason
from certificates.services import lifecycle
from certificates.services.erasure import learner_erase
from courses.models import TemplateFamily
from courses.tests.factories import CourseFactory
from learners.models import Learner
from learners.services import enrollment_record_completion
from learners.tests.factories import LearnerFactory

STATES = ("valid", "suspended", "revoked", "expired", "superseded", "withdrawn")


def scored_certificate(run_on_commit, *, name: str = "Siobhán O'Brien", **course_fields) -> Certificate:
    """An achievement certificate that prints a score, a cohort and custom fields, rendered and emailed."""
    course = CourseFactory(
        title=course_fields.pop("title", "Clinical Data Analysis"),
        template_family=TemplateFamily.ACHIEVEMENT,
        custom_fields={"Credits": "6 ECTS"},
        **course_fields,
    )
    learner = LearnerFactory(full_name=name)
    with run_on_commit():
        enrollment = enrollment_record_completion(
            learner_id=learner.pk,
            course_id=course.pk,
            completed_at=timezone.now(),
            score=Decimal("92.50"),
            cohort="Spring 2026",
            custom_fields={"Grade": "Distinction"},
        )
    return Certificate.objects.get(enrollment=enrollment)


def certificate_in_state(state: str, run_on_commit) -> tuple[Certificate, str]:
    """A certificate in ``state`` and the verify page path that shows it (an old version's for superseded)."""
    certificate = scored_certificate(run_on_commit)
    path = f"/verify/{certificate.display_code}/"
    if state == "suspended":
        lifecycle.certificate_suspend(certificate_id=certificate.pk, by=None, reason="complaint under review")
    elif state == "revoked":
        lifecycle.certificate_revoke(certificate_id=certificate.pk, by=None, reason="Academic misconduct")
    elif state == "expired":
        Certificate.objects.filter(pk=certificate.pk).update(valid_until=timezone.localdate() - timedelta(days=3))
    elif state == "superseded":
        Learner.objects.filter(pk=certificate.enrollment.learner_id).update(approved_name="Siobhán Ní Bhriain")
        with run_on_commit():
            lifecycle.certificate_reissue(certificate_id=certificate.pk, reason=VersionReason.NAME_CORRECTION)
        path += "v1/"
    elif state == "withdrawn":
        learner_erase(learner_id=certificate.enrollment.learner_id, by=None, reason="learner's request of 1 Dec")
    certificate.refresh_from_db()
    return certificate, path
