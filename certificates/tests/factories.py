from unittest import mock

from django.utils import timezone

from certificates.models import Certificate
from certificates.services import credentials, issuance, rendering
from courses.tests.factories import CourseFactory
from learners.services import enrollment_record_completion
from learners.tests.factories import EnrollmentFactory, LearnerFactory


def issued_certificate(run_on_commit, *, course=None, learner=None, **learner_fields) -> Certificate:
    """A certificate that went through the real pipeline: completion recorded, issued, rendered, emailed."""
    learner = learner or LearnerFactory(**learner_fields)
    course = course or CourseFactory()
    with run_on_commit():
        enrollment = enrollment_record_completion(
            learner_id=learner.pk, course_id=course.pk, completed_at=timezone.now()
        )
    return Certificate.objects.get(enrollment=enrollment)


def rendered_certificate(**enrollment_fields) -> Certificate:
    """Issued, rendered and its credential signed, its email not sent yet (no after-commit hand-offs run)."""
    enrollment = EnrollmentFactory(**enrollment_fields)
    with mock.patch.object(issuance, "enqueue_after_commit"), mock.patch.object(rendering, "enqueue_after_commit"):
        certificate = issuance.certificate_issue_for_enrollment(enrollment_id=enrollment.pk)
        certificate = rendering.certificate_render(certificate_id=certificate.pk)
    credentials.credential_sign(version_id=certificate.current_version.pk)  # its own task, queued by the render
    return certificate


def staff_member(group: str, username: str):
    """A staff user in the "support" or "admin" group, as the staff-groups migration defines them.

    The groups come from a data migration; a transactional test before this one may have flushed
    them, so they are made again from the migration's own definition when missing.
    """
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    from learners.tests.factories import UserFactory

    if not Group.objects.filter(name=group).exists():
        importlib.import_module("certificates.migrations.0014_staff_groups").make_groups(apps, None)
        importlib.import_module("certificates.migrations.0015_staff_jobs").let_staff_see_jobs(apps, None)
        importlib.import_module("certificates.migrations.0016_verification").let_admins_erase(apps, None)
        importlib.import_module("certificates.migrations.0019_template_permissions").grant(apps, None)
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user
