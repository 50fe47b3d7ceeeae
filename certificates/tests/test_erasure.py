"""The right to erasure: a learner's personal data goes; their certificates stay, answering as withdrawn."""

from __future__ import annotations

import hashlib
import io
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from certificates.models import (
    Case,
    CaseState,
    Certificate,
    CertificateEvent,
    Credential,
    Pipeline,
    preview_upload_to,
)
from certificates.services.cases import case_open_name_correction
from certificates.services.erasure import learner_erase
from certificates.services.rendering import stored_preview
from certificates.tests.factories import issued_certificate, staff_member
from courses.tests.factories import CourseFactory
from delivery.models import Delivery
from learners.models import Learner
from learners.services import enrollment_record_completion

pytestmark = pytest.mark.django_db


def _pdf_bytes(certificate: Certificate) -> bytes:
    with certificate.current_version.pdf.open("rb") as stored:
        return stored.read()


@pytest.fixture
def erased(run_on_commit):
    """A learner with an emailed certificate, a held one and an open name correction, then erased."""
    from django.utils import timezone

    certificate = issued_certificate(run_on_commit, full_name="Jon Smtih", email="jon@example.org")
    learner = certificate.enrollment.learner
    with run_on_commit():
        held_enrollment = enrollment_record_completion(
            learner_id=learner.pk, course_id=CourseFactory(manual_review=True).pk, completed_at=timezone.now()
        )
    held = Certificate.objects.get(enrollment=held_enrollment)
    case = case_open_name_correction(learner=learner, certificate_id=certificate.pk, name="Jon Smith", message="typo")
    pdf, external_id = _pdf_bytes(certificate), learner.external_id
    files = [certificate.current_version.pdf.name, stored_preview(certificate.current_version)]
    with run_on_commit():
        withdrawn = learner_erase(learner_id=learner.pk, by=None, reason="learner's request of 1 Dec 2026")
    return {
        "certificate": Certificate.objects.get(pk=certificate.pk),
        "held": Certificate.objects.get(pk=held.pk),
        "case": Case.objects.get(pk=case.pk),
        "learner": Learner.objects.get(pk=learner.pk),
        "pdf": pdf,
        "files": files,
        "withdrawn": withdrawn,
        "external_id": external_id,
    }


def test_issued_certificates_are_withdrawn_and_held_ones_rejected(erased):
    certificate, held = erased["certificate"], erased["held"]
    assert erased["withdrawn"] == 1
    assert certificate.credential_state == Credential.WITHDRAWN and certificate.withdrawn_at is not None
    assert held.pipeline_state == Pipeline.REJECTED
    event = CertificateEvent.objects.filter(certificate=certificate).latest("pk")
    assert (event.to_state, event.message) == (Credential.WITHDRAWN, "learner's request of 1 Dec 2026")


def test_no_personal_data_is_left_on_the_learner_versions_cases_or_deliveries(erased):
    learner, certificate, case = erased["learner"], erased["certificate"], erased["case"]
    assert (learner.full_name, learner.email, learner.approved_name) == ("", "", "")
    assert learner.external_id == f"erased-{learner.pk}"
    version = certificate.current_version
    assert (version.holder_name, version.recipient_email, version.score, version.custom_fields) == ("", "", None, [])
    assert case.state == CaseState.DECLINED and "Smith" not in case.requested_name and case.message == ""
    assert not Delivery.objects.filter(recipient="jon@example.org").exists()
    assert Delivery.objects.filter(recipient="").exists(), "the delivery rows stay, without the address"


def test_the_files_that_print_the_name_are_deleted_but_the_fingerprint_is_kept(erased):
    assert erased["files"] and not any(default_storage.exists(name) for name in erased["files"])
    version = erased["certificate"].current_version
    assert version.pdf_sha256 == hashlib.sha256(erased["pdf"]).hexdigest()


def test_the_code_still_answers_and_a_kept_copy_of_the_pdf_still_checks(client, erased):
    from django.core.files.uploadedfile import SimpleUploadedFile

    code = erased["certificate"].display_code
    page = client.get(f"/verify/{code}/").content.decode()
    assert '<p class="status-word">Withdrawn</p>' in page and "Smtih" not in page
    checked = client.post("/api/verify/file", {"file": SimpleUploadedFile("c.pdf", erased["pdf"], "application/pdf")})
    answer = checked.json()
    assert answer["match"] is True
    assert (answer["certificate"]["state"], answer["certificate"]["holder_name"]) == ("withdrawn", None)


def test_the_lms_sending_the_person_again_makes_a_new_learner(erased, run_on_commit):
    from learners.services import learner_upsert

    old = erased["learner"]
    again = learner_upsert(external_id=erased["external_id"], email="jon@example.org", full_name="Jon Smith")
    assert again.pk != old.pk


def test_an_erasure_needs_a_reason(run_on_commit):
    certificate = issued_certificate(run_on_commit)
    with pytest.raises(ValueError, match="say why"):
        learner_erase(learner_id=certificate.enrollment.learner_id, by=None, reason="  ")
    assert Certificate.objects.get(pk=certificate.pk).credential_state == Credential.ACTIVE


def test_only_admins_may_erase_and_only_with_a_reason_and_a_ticked_box(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    learner_id = certificate.enrollment.learner_id
    url = reverse("admin:learners_learner_erase", args=[learner_id])
    client.force_login(staff_member("support", "sam-support"))
    assert client.post(url, {"reason": "asked", "confirm": "erase"}).status_code == 403
    client.force_login(staff_member("admin", "ada-admin"))
    client.post(url, {"reason": "asked"})
    assert Certificate.objects.get(pk=certificate.pk).credential_state == Credential.ACTIVE
    done = client.post(url, {"reason": "learner's request", "confirm": "erase"}, follow=True)
    assert "1 certificate(s) now verify as withdrawn" in done.content.decode()
    assert Certificate.objects.get(pk=certificate.pk).credential_state == Credential.WITHDRAWN
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.filter(change_message__startswith="Erased personal data").count() == 1


def test_a_preview_asked_for_while_the_learner_is_erased_is_not_kept(run_on_commit):
    """The picture is made on first request; one that lands after the erasure must not outlive it."""
    certificate = issued_certificate(run_on_commit)
    stale = certificate.current_version  # a request that read the version before the erasure
    pdf_bytes = stale.pdf.read()
    with run_on_commit():
        learner_erase(learner_id=certificate.enrollment.learner_id, by=None, reason="learner's request")
    assert stored_preview(stale) == ""  # its PDF is gone
    assert not default_storage.exists(preview_upload_to(stale, ""))
    with mock.patch.object(stale.pdf.storage, "open", lambda name, mode="rb": io.BytesIO(pdf_bytes)):
        assert stored_preview(stale) == ""  # read just before the erasure: made, then not kept
    assert not default_storage.exists(preview_upload_to(stale, ""))
