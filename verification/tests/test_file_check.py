"""The file check page, and the limits on every lookup: what an employer sees, what an abuser gets."""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from certificates.models import Certificate, LookupChannel, LookupCount

from .states import certificate_in_state

pytestmark = pytest.mark.django_db


def _pdf(certificate: Certificate, number: int | None = None) -> bytes:
    version = certificate.versions.get(number=number) if number else certificate.current_version
    with version.pdf.open("rb") as stored:
        return stored.read()


def _check(client, data: bytes, name: str = "certificate.pdf", content_type: str = "application/pdf"):
    return client.post("/verify/file/", {"file": SimpleUploadedFile(name, data, content_type=content_type)})


def test_the_genuine_file_is_matched_with_its_version_and_state(client, run_on_commit):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    answer = _check(client, _pdf(certificate))
    page = answer.content.decode()
    assert answer.status_code == 200
    assert (
        f'exactly the PDF we issued as version 1 of certificate <span class="code">{certificate.display_code}' in page
    )
    assert '<p class="status-word">Valid</p>' in page and "Siobhán O&#x27;Brien" in page
    assert LookupCount.objects.get(certificate=certificate, channel=LookupChannel.FILE).count == 1


def test_a_superseded_file_says_so_and_links_the_current_version(client, run_on_commit):
    certificate, _ = certificate_in_state("superseded", run_on_commit)
    page = _check(client, _pdf(certificate, 1)).content.decode()
    assert "as version 1 of certificate" in page
    assert '<p class="status-word">Superseded</p>' in page
    assert f'href="/verify/{certificate.display_code}/"' in page


def test_one_changed_byte_is_no_match(client, run_on_commit):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    data = bytearray(_pdf(certificate))
    data[-10] ^= 0x20
    answer = _check(client, bytes(data))
    page = answer.content.decode()
    assert answer.status_code == 200 and "No match" in page and certificate.display_code not in page
    assert not LookupCount.objects.exists()


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [(b"\x89PNG\r\n\x1a\n....", "scan.png", "image/png"), (b"Dear hiring manager", "letter.pdf", "application/pdf")],
    ids=["an image", "text named .pdf"],
)
def test_a_file_that_is_not_a_pdf_is_refused_with_a_reason(client, db, data, name, content_type):
    answer = _check(client, data, name, content_type)
    page = answer.content.decode()
    assert answer.status_code == 415
    assert "This file is not a PDF" in page and 'aria-invalid="true"' in page


def test_a_file_over_the_limit_is_refused_and_the_limit_is_stated(client, db, settings):
    settings.VERIFY_UPLOAD_MAX_BYTES = 1024 * 1024
    assert "up to 1 MB" in client.get("/verify/file/").content.decode()
    answer = _check(client, b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024))
    assert answer.status_code == 413 and "larger than 1 MB" in answer.content.decode()


def test_nothing_uploaded_is_kept_or_logged(client, run_on_commit, settings, monkeypatch, caplog):
    from django.core.files import uploadedfile

    def no_temporary_file(*args, **kwargs):
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(uploadedfile.TemporaryUploadedFile, "__init__", no_temporary_file)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # Django itself would write any upload this size to disk
    certificate, _ = certificate_in_state("valid", run_on_commit)
    data = _pdf(certificate)
    with caplog.at_level(logging.DEBUG):
        assert _check(client, data).status_code == 200
        assert _check(client, data[:-1]).status_code == 200
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert certificate.current_version.pdf_sha256 not in logged and "certificate.pdf" not in logged


def test_the_page_shows_the_form_again_after_an_answer(client, db):
    page = client.get("/verify/file/").content.decode()
    assert 'enctype="multipart/form-data"' in page and 'accept="application/pdf,.pdf,' in page


def test_too_many_lookups_get_a_page_saying_when_to_try_again(client, run_on_commit, settings, one_rate_window):
    settings.VERIFY_LOOKUPS_PER_IP = "4/m"
    certificate, path = certificate_in_state("valid", run_on_commit)
    assert client.get(path).status_code == 200
    assert client.get(f"/verify/?code={certificate.display_code}").status_code in (200, 302)
    assert _check(client, _pdf(certificate)).status_code == 200
    assert client.get(f"/api/verify/{certificate.display_code}").status_code == 200
    # Four lookups by page, form, file and API: the channels share one allowance.
    for refused in (client.get(path), _check(client, _pdf(certificate)), client.get("/verify/K7QM3XWD9PHTR2VA/")):
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 60
        assert "Too many lookups" in refused.content.decode()


def test_the_limit_is_per_client(client, run_on_commit, settings, one_rate_window):
    settings.VERIFY_LOOKUPS_PER_IP = "1/m"
    certificate, path = certificate_in_state("valid", run_on_commit)
    assert client.get(path, REMOTE_ADDR="203.0.113.5").status_code == 200
    assert client.get(path, REMOTE_ADDR="203.0.113.5").status_code == 429
    assert client.get(path, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_a_page_view_and_its_image_and_logo_do_not_use_up_lookups(client, run_on_commit, settings, one_rate_window):
    settings.VERIFY_LOOKUPS_PER_IP = "2/m"
    certificate, path = certificate_in_state("valid", run_on_commit)
    assert client.get(path).status_code == 200
    for _ in range(3):
        assert client.get(f"{path}preview.png").status_code == 200
    assert client.get(path).status_code == 200
    # The files have an allowance of their own, four times as large, and it runs out too.
    statuses = [client.get(f"{path}preview.png").status_code for _ in range(6)]
    assert statuses[:5] == [200] * 5 and statuses[5] == 429
