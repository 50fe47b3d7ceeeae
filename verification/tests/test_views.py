import pytest
from django.urls import reverse
from django.utils import timezone

from certificates import codes
from certificates.models import Certificate, CertificateVersion, Pipeline
from certificates.services import lifecycle
from certificates.tests.factories import issued_certificate
from courses.tests.factories import CourseFactory
from learners.services import enrollment_record_completion
from learners.tests.factories import LearnerFactory

pytestmark = pytest.mark.django_db


def test_valid_certificate_shows_holder_course_date_issuer(client, run_on_commit):
    certificate = issued_certificate(run_on_commit, full_name="Siobhán O'Brien", course=CourseFactory(title="Ethics"))
    response = client.get(certificate.verify_url.removeprefix("https://certs.example.test"))
    assert response.status_code == 200
    page = response.content.decode()
    version = certificate.current_version
    for text in ("Valid", "Siobhán O&#x27;Brien", "Ethics", version.organisation_name, certificate.display_code):
        assert text in page
    assert version.issued_on.strftime("%B %Y") in page


def test_revoked_certificate_is_shown_as_revoked(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    lifecycle.certificate_revoke(certificate_id=certificate.pk, by=None, reason="misconduct")
    page = client.get(reverse("verification:detail", args=[certificate.display_code])).content.decode()
    assert "Revoked" in page and "Valid" not in page and "misconduct" in page
    assert certificate.current_version.holder_name in page


def test_an_old_version_is_shown_as_superseded_and_links_the_current_one(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    CertificateVersion.objects.filter(certificate=certificate).update(is_current=False, superseded_at=timezone.now())
    old = CertificateVersion.objects.get(certificate=certificate)
    page = client.get(reverse("verification:version", args=[certificate.display_code, 1])).content.decode()
    assert "Superseded" in page and "Valid" not in page and old.holder_name in page
    assert reverse("verification:detail", args=[certificate.display_code]) in page


def test_unknown_and_malformed_codes_get_the_same_404(client, db):
    unknown = client.get(reverse("verification:detail", args=[codes.display(codes.new_code())]))
    malformed = client.get(reverse("verification:detail", args=["not-a-code"]))
    assert unknown.status_code == malformed.status_code == 404
    assert unknown.content == malformed.content


def test_held_certificate_is_not_public(client, run_on_commit):
    learner = LearnerFactory(email="broken")
    with run_on_commit():
        enrollment = enrollment_record_completion(
            learner_id=learner.pk, course_id=CourseFactory().pk, completed_at=timezone.now()
        )
    held = Certificate.objects.get(enrollment=enrollment)
    assert held.pipeline_state == Pipeline.HELD
    assert client.get(reverse("verification:detail", args=[held.display_code])).status_code == 404


@pytest.mark.parametrize("typed", [str.lower, lambda c: c.replace("-", " "), lambda c: c.replace("-", ""), str])
def test_lookup_form_accepts_code_as_typed(client, run_on_commit, typed):
    certificate = issued_certificate(run_on_commit)
    response = client.get(reverse("verification:lookup"), {"code": typed(certificate.display_code)}, follow=True)
    assert response.status_code == 200
    assert certificate.current_version.holder_name in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("verification:detail", args=[certificate.display_code])


def test_lookup_form_with_bad_code_is_404(client, db):
    assert client.get(reverse("verification:lookup"), {"code": "nonsense"}).status_code == 404


def test_lookup_page_renders_form(client, db):
    response = client.get(reverse("verification:lookup"))
    assert response.status_code == 200 and b'name="code"' in response.content


def test_public_pdf_download_is_the_stored_file(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    response = client.get(reverse("verification:pdf", args=[certificate.display_code]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == certificate.current_version.pdf.read()


def test_revoked_certificate_pdf_is_not_served(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    lifecycle.certificate_revoke(certificate_id=certificate.pk, by=None, reason="misconduct")
    assert client.get(reverse("verification:pdf", args=[certificate.display_code])).status_code == 404


def test_verify_page_offers_a_link_preview_image(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    page = client.get(reverse("verification:detail", args=[certificate.display_code])).content.decode()
    preview_url = reverse("verification:preview", args=[certificate.display_code])
    assert f'content="https://certs.example.test{preview_url}"' in page  # from SITE_URL, never the Host header
    response = client.get(preview_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
