"""Certificates in S3-compatible object storage, against a real server (moto's, in its own process).

Web and workers on several machines share no disk: every file the pipeline writes or serves must go
to the bucket, and nothing to the local MEDIA_ROOT. The bucket is read with boto3 directly, never
through our code, so a file that only looks stored (say, in a local cache) would fail here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from certificates.models import CertificateVersion, JobState, Pipeline, StaffJob
from certificates.services import issuance, rendering
from certificates.services.erasure import learner_erase
from certificates.tests.factories import issued_certificate, staff_member
from courses.tests.factories import CourseFactory, OrganisationFactory
from learners.tests.factories import EnrollmentFactory, LearnerFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("object_storage")]


@pytest.fixture(autouse=True)
def _nothing_on_local_disk():
    """Whatever a test does, the local media folder stays empty (it is where FileSystemStorage writes)."""
    yield
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(media.rglob("*")), sorted(str(p) for p in media.rglob("*"))


def _png(colour: str = "#123456") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, "PNG")
    return out.getvalue()


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_completion_is_rendered_into_the_bucket_and_emailed_with_the_same_bytes(
    object_storage, run_on_commit, mailoutbox
):
    certificate = issued_certificate(run_on_commit, full_name="Zoë Ångström")
    version = certificate.current_version

    assert object_storage.keys() == [version.pdf.name]
    head = object_storage.client.head_object(Bucket=object_storage.name, Key=version.pdf.name)
    assert head["ContentType"] == "application/pdf"
    stored = object_storage.read(version.pdf.name)
    assert stored.startswith(b"%PDF-") and hashlib.sha256(stored).hexdigest() == version.pdf_sha256
    [message] = mailoutbox
    [(_filename, attached, _type)] = message.attachments
    assert attached == stored


def test_objects_are_private_to_anyone_without_our_credentials(object_storage, run_on_commit, s3_server):
    import urllib.error
    import urllib.request

    version = issued_certificate(run_on_commit).current_version
    grants = object_storage.client.get_object_acl(Bucket=object_storage.name, Key=version.pdf.name)["Grants"]
    assert [grant["Grantee"].get("URI") for grant in grants] == [None]  # the owner only, no AllUsers group
    with pytest.raises(urllib.error.HTTPError) as refused:  # an anonymous GET, as a passer-by would try
        urllib.request.urlopen(f"{s3_server}/{object_storage.name}/{version.pdf.name}")  # noqa: S310
    assert refused.value.code == 403


def test_the_verify_page_serves_the_pdf_and_a_preview_made_once_into_the_bucket(object_storage, client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    version = certificate.current_version
    code = certificate.display_code

    pdf = client.get(reverse("verification:pdf", args=[code]))
    stored = object_storage.read(version.pdf.name)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Length"] == str(len(stored)) and _body(pdf) == stored

    assert object_storage.keys() == [version.pdf.name]  # no picture until someone asks for one
    first = client.get(reverse("verification:preview", args=[code]))
    version.refresh_from_db()
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    assert object_storage.keys() == sorted([version.pdf.name, version.preview.name])
    picture = object_storage.read(version.preview.name)
    assert _body(first) == picture and hashlib.sha256(picture).hexdigest() == version.preview_sha256
    assert Image.open(io.BytesIO(picture)).size == (1200, 627)

    again = client.get(reverse("verification:preview", args=[code]))
    assert _body(again) == picture
    assert object_storage.keys() == sorted([version.pdf.name, version.preview.name])  # made once, not twice


def test_a_pdf_gone_from_the_bucket_gives_no_preview_rather_than_an_error(object_storage, client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    name = certificate.current_version.pdf.name
    object_storage.client.delete_object(Bucket=object_storage.name, Key=name)  # e.g. erased meanwhile
    assert client.get(reverse("verification:preview", args=[certificate.display_code])).status_code == 404
    assert object_storage.keys() == []
    assert CertificateVersion.objects.get(pk=certificate.current_version.pk).preview.name == ""


def test_a_render_while_the_bucket_is_unreachable_fails_counted_and_succeeds_on_retry(object_storage, settings):
    certificate = issuance.certificate_issue_for_enrollment(enrollment_id=EnrollmentFactory().pk)
    working = settings.STORAGES
    missing = {**working["default"], "OPTIONS": {**working["default"]["OPTIONS"], "bucket_name": "no-such-bucket"}}
    settings.STORAGES = {**working, "default": missing}
    with pytest.raises(ClientError):
        rendering.certificate_render(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert (certificate.pipeline_state, certificate.attempts) == (Pipeline.ISSUED, 1)
    assert "NoSuchBucket" in certificate.state_reason
    assert not CertificateVersion.objects.get(certificate=certificate).pdf

    settings.STORAGES = working
    with mock.patch.object(rendering, "enqueue_after_commit"):
        rendered = rendering.certificate_render(certificate_id=certificate.pk)
    assert rendered.pipeline_state == Pipeline.RENDERED
    assert object_storage.keys() == [rendered.current_version.pdf.name]


def test_the_file_check_matches_the_pdf_as_read_from_the_bucket(object_storage, client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    stored = object_storage.read(certificate.current_version.pdf.name)
    answer = client.post(
        "/verify/file/", {"file": SimpleUploadedFile("certificate.pdf", stored, content_type="application/pdf")}
    )
    assert answer.status_code == 200
    assert f'certificate <span class="code">{certificate.display_code}' in answer.content.decode()


def test_the_learner_downloads_the_pdf_and_thumbnail_from_the_dashboard(object_storage, client, run_on_commit):
    learner = LearnerFactory(user=UserFactory())
    certificate = issued_certificate(run_on_commit, learner=learner)
    client.force_login(learner.user)

    download = client.get(reverse("dashboard:download", args=[certificate.pk]))
    assert download.status_code == 200
    assert _body(download) == object_storage.read(certificate.current_version.pdf.name)
    thumbnail = client.get(reverse("dashboard:thumbnail", args=[certificate.pk, 1]))
    version = CertificateVersion.objects.get(pk=certificate.current_version.pk)
    assert thumbnail.status_code == 200 and _body(thumbnail) == object_storage.read(version.preview.name)


def test_branding_is_uploaded_printed_and_served_and_a_new_upload_never_replaces_the_old(
    object_storage, client, run_on_commit
):
    organisation = OrganisationFactory()
    organisation.logo.save("logo.png", ContentFile(_png("#123456")))
    first_logo = organisation.logo.name
    certificate = issued_certificate(run_on_commit, course=CourseFactory(organisation=organisation))
    assert certificate.current_version.logo_path == first_logo
    assert object_storage.read(first_logo) == _png("#123456")

    organisation.logo.save("logo.png", ContentFile(_png("#abcdef")))  # a new logo, same file name
    assert organisation.logo.name != first_logo
    assert object_storage.read(first_logo) == _png("#123456")  # what version 1 printed is kept

    served = client.get(reverse("verification:logo", args=[certificate.display_code, 1]))
    assert served.status_code == 200 and _body(served) == _png("#123456")


def test_erasure_deletes_the_pdf_and_preview_from_the_bucket(object_storage, client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    client.get(reverse("verification:preview", args=[certificate.display_code]))
    version = CertificateVersion.objects.get(pk=certificate.current_version.pk)
    files = [version.pdf.name, version.preview.name]
    assert object_storage.keys() == sorted(files)

    with run_on_commit():
        learner_erase(learner_id=certificate.enrollment.learner_id, by=None, reason="learner's request")

    assert object_storage.keys() == []
    assert client.get(reverse("verification:pdf", args=[certificate.display_code])).status_code == 404


def test_a_staff_zip_export_is_built_into_the_bucket_and_downloaded(object_storage, client, run_on_commit):
    course = CourseFactory()
    certificates = [issued_certificate(run_on_commit, course=course) for _ in range(2)]
    client.force_login(staff_member("admin", "ada-admin"))

    with run_on_commit():
        client.post(reverse("admin:certificates_export_zip", args=[course.pk]))
    job = StaffJob.objects.get()
    assert job.state == JobState.FINISHED and job.file.name in object_storage.keys()
    download = client.get(reverse("admin:certificates_staffjob_download", args=[job.pk]))
    archive = zipfile.ZipFile(io.BytesIO(_body(download)))
    assert archive.read("index.csv").decode().count("\n") == 3  # a header and two certificates
    for certificate in certificates:
        version = certificate.current_version
        assert archive.read(f"{certificate.display_code}-v1.pdf") == object_storage.read(version.pdf.name)


def test_the_csv_export_names_each_pdf_by_its_key_in_the_bucket(object_storage, run_on_commit, tmp_path):
    certificate = issued_certificate(run_on_commit)
    output, said = tmp_path / "export.csv", io.StringIO()
    call_command("export_certificates", "--output", str(output), stderr=said)
    [row] = csv.DictReader(output.open(encoding="utf-8"))
    assert row["pdf_path"] == certificate.current_version.pdf.name and row["pdf_path"] in object_storage.keys()
    assert f"names in the bucket {object_storage.name}" in said.getvalue()


def _production_start(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess:
    for name in ("key", "crt"):
        (tmp_path / f"signing.{name}").write_text("present")  # only their presence is checked at start-up
    environment = {
        "SECRET_KEY": "k3Y-vQ9_zX7wLp2Rt8sNb4Hd6Jf1Mc5Gy0Ua-2026-laurel-tests",
        "PDF_SIGNING_KEY": str(tmp_path / "signing.key"),
        "PDF_SIGNING_CERT": str(tmp_path / "signing.crt"),
        "AWS_STORAGE_BUCKET_NAME": "",
        # the rest of what production refuses to start without (config/tests/test_production.py)
        "DATABASE_URL": "postgres://laurel@db.internal:5432/laurel",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "EMAIL_URL": "smtp://mail.example.org:587",
        "SITE_URL": "https://certs.example.org",
        **environment,
    }
    program = (
        "import os\nos.environ.update(" + repr(environment) + ")\n"
        "import config.settings.production as s\nprint(s.STORAGES['default']['OPTIONS']['bucket_name'])\n"
    )
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2]
    )


def test_production_refuses_to_start_without_object_storage(tmp_path):
    result = _production_start(tmp_path)
    assert result.returncode != 0
    assert ImproperlyConfigured.__name__ in result.stderr and "AWS_STORAGE_BUCKET_NAME is not set" in result.stderr


def test_production_starts_with_a_bucket(tmp_path):
    result = _production_start(tmp_path, AWS_STORAGE_BUCKET_NAME="laurel-certificates")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "laurel-certificates"
