"""manage.py issue_credentials: certificates rendered before credentials existed get one, once."""

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certificates.credentials.checking import Outcome
from certificates.models import VersionCredential
from certificates.services import credentials, lifecycle
from certificates.services.erasure import learner_erase
from certificates.tests.factories import rendered_certificate
from courses.tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def _without_credential(**fields):
    """A certificate as it was before credentials existed: rendered, with no credential row."""
    certificate = rendered_certificate(**fields)
    VersionCredential.objects.filter(version__certificate=certificate).delete()
    return certificate


def _run(*args) -> str:
    out = StringIO()
    call_command("issue_credentials", *args, stdout=out, stderr=out)
    return out.getvalue()


def _document(certificate) -> dict | None:
    entry = VersionCredential.objects.filter(version=certificate.current_version).first()
    return entry.document if entry else None


def test_it_signs_every_version_without_one_and_a_second_run_signs_nothing():
    old = [_without_credential() for _ in range(3)]
    already = rendered_certificate()
    signed_before = _document(already)
    output = _run("--batch-size", "2")
    assert "3 versions had no credential: 3 signed, 0 failed." in output
    for certificate in old:
        verdict = credentials.credential_check(document=_document(certificate))
        assert verdict.outcome == Outcome.VALID, verdict.reasons
    assert _document(already) == signed_before  # never signed again
    documents = [_document(certificate) for certificate in old]
    assert "0 versions had no credential: 0 signed, 0 failed." in _run()
    assert [_document(certificate) for certificate in old] == documents


def test_a_version_whose_entry_exists_but_was_never_signed_is_signed():
    certificate = rendered_certificate()
    VersionCredential.objects.filter(version__certificate=certificate).update(document=None, signed_at=None)
    assert "1 versions had no credential: 1 signed" in _run()
    assert _document(certificate) is not None


def test_dry_run_counts_and_signs_nothing():
    certificate = _without_credential()
    assert "1 versions have no credential; none signed (dry run)." in _run("--dry-run")
    assert _document(certificate) is None


def test_only_the_course_asked_for():
    course = CourseFactory(slug="intro-django")
    ours, other = _without_credential(course=course), _without_credential()
    assert "1 versions had no credential: 1 signed" in _run("--course", "intro-django")
    assert _document(ours) is not None and _document(other) is None


def test_an_unknown_course_or_a_bad_batch_size_is_refused_and_nothing_is_signed():
    certificate = _without_credential()
    with pytest.raises(CommandError, match="unknown course 'nope'"):
        _run("--course", "nope")
    with pytest.raises(CommandError, match="batch-size"):
        _run("--batch-size", "0")
    assert _document(certificate) is None


def test_revoked_ones_are_signed_and_say_so_and_withdrawn_ones_are_left_alone():
    revoked, withdrawn = _without_credential(), _without_credential()
    lifecycle.certificate_revoke(certificate_id=revoked.pk, by=None, reason="Academic misconduct")
    learner_erase(learner_id=withdrawn.enrollment.learner_id, by=None, reason="learner's request")
    assert "1 versions had no credential: 1 signed" in _run()
    assert credentials.credential_check(document=_document(revoked)).outcome == Outcome.REVOKED
    assert _document(withdrawn) is None


def test_one_failure_is_reported_the_others_signed_and_the_exit_status_is_not_zero():
    first, second = _without_credential(), _without_credential()
    real_sign = credentials.credential_sign

    def sign(*, version_id):
        if version_id == first.current_version.pk:
            raise RuntimeError("key file unreadable")
        return real_sign(version_id=version_id)

    out = StringIO()
    with mock.patch.object(credentials, "credential_sign", sign), pytest.raises(SystemExit) as exited:
        call_command("issue_credentials", stdout=out, stderr=out)
    assert exited.value.code == 1
    assert "2 versions had no credential: 1 signed, 1 failed." in out.getvalue()
    assert f"version {first.current_version.pk}: key file unreadable" in out.getvalue()
    assert _document(second) is not None and _document(first) is None
