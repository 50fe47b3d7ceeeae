"""The verify API, every answer checked against docs/openapi/verify.yaml by openapi-core (a validator we
did not write): status, headers and body must be what the document promises a recruiter's system."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from certificates.models import Certificate, VersionCredential

from .states import STATES, certificate_in_state

pytestmark = pytest.mark.django_db

DOCUMENT = Path(settings.BASE_DIR) / "docs" / "openapi" / "verify.yaml"


@pytest.fixture(scope="module")
def openapi():
    from openapi_core import OpenAPI

    return OpenAPI.from_file_path(str(DOCUMENT))


@pytest.fixture
def conforming(openapi):
    """Check a test client response, and the request that made it, against the document; return it."""
    from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

    class ReadUpload(DjangoOpenAPIRequest):
        """An upload's body was read (and dropped) by the view: the response is what is checked."""

        @property
        def body(self) -> bytes:
            return b""

    def check(response):
        if response.wsgi_request.method == "GET":
            request = DjangoOpenAPIRequest(response.wsgi_request)
            openapi.validate_request(request)
        else:
            request = ReadUpload(response.wsgi_request)
        openapi.validate_response(request, DjangoOpenAPIResponse(response))
        return response

    return check


def _pdf(certificate: Certificate, number: int | None = None) -> bytes:
    version = certificate.versions.get(number=number) if number else certificate.current_version
    with version.pdf.open("rb") as stored:
        return stored.read()


def _upload(data: bytes, name: str = "certificate.pdf", content_type: str = "application/pdf") -> dict:
    return {"file": SimpleUploadedFile(name, data, content_type=content_type)}


@pytest.mark.parametrize("state", STATES)
def test_each_state_answers_as_the_document_says(client, run_on_commit, conforming, state):
    certificate, _ = certificate_in_state(state, run_on_commit)
    answer = conforming(client.get(f"/api/verify/{certificate.display_code}")).json()
    # The code names the certificate, whose current version is valid again once a superseded one is replaced.
    assert answer["state"] == ("valid" if state == "superseded" else state)
    assert answer["code"] == certificate.display_code
    if state == "withdrawn":
        assert answer["holder_name"] is None and answer["custom_fields"] == [] and answer["score"] is None
    else:
        assert answer["course"] == "Clinical Data Analysis" and answer["score"] == "92.5"
        assert answer["pdf_sha256"] == certificate.current_version.pdf_sha256
    if state == "revoked":
        assert answer["reason"] == "Academic misconduct"


def test_the_facts_are_those_the_page_shows(client, run_on_commit, conforming):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    answer = conforming(client.get(f"/api/verify/{certificate.display_code}")).json()
    assert answer["holder_name"] == "Siobhán O'Brien"
    assert answer["cohort"] == "Spring 2026"
    assert {"label": "Grade", "value": "Distinction"} in answer["custom_fields"]
    assert answer["verify_url"].startswith(settings.SITE_URL)
    assert "email" not in str(answer).lower() and str(certificate.pk) not in answer.values()


@pytest.mark.parametrize("state", STATES)
def test_an_answer_kept_per_facts_has_the_bytes_made_afresh(client, run_on_commit, conforming, state):
    """The API keeps each distinct facts' answer: it must be exactly the one encoded from the facts now."""
    from certificates.selectors import public_certificate
    from verification.api import _encoded, facts_json

    certificate, _ = certificate_in_state(state, run_on_commit)
    url = f"/api/verify/{certificate.display_code}"
    fresh, etag = _encoded(facts_json(public_certificate(certificate.display_code)))
    for _ in range(2):  # made, then kept
        answer = conforming(client.get(url))
        assert answer.content == fresh and answer["ETag"] == etag


def test_a_kept_answer_follows_the_site_address(client, run_on_commit, conforming, settings):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    url = f"/api/verify/{certificate.display_code}"
    before = conforming(client.get(url))
    settings.SITE_URL = "https://verify.example"
    after = conforming(client.get(url))
    assert after.json()["verify_url"] == f"https://verify.example/verify/{certificate.display_code}/"
    assert after["ETag"] != before["ETag"]


def test_loose_typing_works_in_the_address_too(client, run_on_commit, conforming):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    typed = certificate.display_code.lower().replace("-", " ") + "\u200b"
    assert conforming(client.get(f"/api/verify/{typed}")).json()["code"] == certificate.display_code


def test_unknown_and_malformed_codes_get_the_documented_not_found(client, db, conforming):
    for typed in ("K7QM-3XWD-9PHT-R2VA", "nonsense", "%E2%80%8B"):
        answer = conforming(client.get(f"/api/verify/{typed}"))
        assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_an_etag_is_revalidated_cheaply_and_changes_when_the_state_does(client, run_on_commit, conforming):
    from certificates.services import lifecycle

    certificate, _ = certificate_in_state("valid", run_on_commit)
    url = f"/api/verify/{certificate.display_code}"
    first = conforming(client.get(url))
    assert first["Cache-Control"] == "public, no-cache"
    unchanged = conforming(client.get(url, headers={"If-None-Match": first["ETag"]}))
    assert unchanged.status_code == 304 and unchanged.content == b""
    lifecycle.certificate_revoke(certificate_id=certificate.pk, by=None, reason="Issued in error")
    changed = conforming(client.get(url, headers={"If-None-Match": first["ETag"]}))
    assert changed.status_code == 200 and changed.json()["state"] == "revoked"
    assert changed["ETag"] != first["ETag"]


def test_any_origin_may_call_it(client, run_on_commit, conforming):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    answer = conforming(
        client.get(f"/api/verify/{certificate.display_code}", headers={"Origin": "https://ats.example"})
    )
    assert answer["Access-Control-Allow-Origin"] == "*" and "ETag" in answer["Access-Control-Expose-Headers"]
    preflight = client.options(
        "/api/verify/file", headers={"Origin": "https://ats.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204 and "POST" in preflight["Access-Control-Allow-Methods"]
    assert not answer.cookies, "the API sets no cookie"


def test_the_file_check_finds_the_version_a_file_is(client, run_on_commit, conforming):
    certificate, _ = certificate_in_state("superseded", run_on_commit)
    old = conforming(client.post("/api/verify/file", _upload(_pdf(certificate, 1)))).json()
    assert old["match"] is True
    assert (old["certificate"]["version"], old["certificate"]["state"]) == (1, "superseded")
    assert old["certificate"]["holder_name"] == "Siobhán O'Brien"
    current = conforming(client.post("/api/verify/file", _upload(_pdf(certificate)))).json()
    assert (current["certificate"]["version"], current["certificate"]["state"]) == (2, "valid")


def test_a_file_changed_by_one_byte_is_no_match(client, run_on_commit, conforming):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    data = bytearray(_pdf(certificate))
    data[len(data) // 2] ^= 0x01
    answer = conforming(client.post("/api/verify/file", _upload(bytes(data)))).json()
    assert answer == {"kind": "pdf", "match": False, "certificate": None}


@pytest.mark.parametrize(
    ("upload", "status", "error"),
    [
        (_upload(b"GIF89a not a pdf", "photo.gif", "image/gif"), 415, "not_pdf"),
        (_upload(b"just text, named as a pdf", "certificate.pdf"), 415, "not_pdf"),
        ({}, 400, "no_file"),
        (_upload(b"{not json", "credential.json", "application/json"), 415, "not_json"),
        (_upload(b'{"a": ' * 120 + b"1" + b"}" * 120, "credential.json", "application/json"), 413, "too_complex"),
    ],
    ids=["an image", "text named .pdf", "no file", "broken JSON named .json", "too complex a credential"],
)
def test_a_file_that_is_not_a_pdf_is_refused_as_documented(client, db, conforming, upload, status, error):
    answer = conforming(client.post("/api/verify/file", upload))
    assert answer.status_code == status and answer.json()["error"] == error


def test_a_file_over_the_limit_is_refused_before_it_is_read(client, db, conforming, settings):
    settings.VERIFY_UPLOAD_MAX_BYTES = 64 * 1024
    answer = conforming(client.post("/api/verify/file", _upload(b"%PDF-1.7\n" + b"0" * (200 * 1024))))
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"


def test_too_many_lookups_get_429_with_retry_after_as_documented(
    client, run_on_commit, conforming, settings, one_rate_window
):
    settings.VERIFY_LOOKUPS_PER_IP = "3/m"
    certificate, _ = certificate_in_state("valid", run_on_commit)
    url = f"/api/verify/{certificate.display_code}"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    refused = conforming(client.get(url))
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert conforming(client.post("/api/verify/file", _upload(_pdf(certificate)))).status_code == 429


def _credential_upload(certificate: Certificate, number: int | None = None, **changes) -> dict:
    version = certificate.versions.get(number=number) if number else certificate.current_version
    document = {**VersionCredential.objects.get(version=version).document, **changes}
    return _upload(json.dumps(document).encode(), "credential.json", "application/vc+ld+json")


@pytest.mark.parametrize("state", [state for state in STATES if state != "withdrawn"])
def test_a_credential_answers_as_the_document_says(client, run_on_commit, conforming, state):
    certificate, _ = certificate_in_state(state, run_on_commit)
    upload = _credential_upload(certificate, 1 if state == "superseded" else None)
    answer = conforming(client.post("/api/verify/file", upload)).json()
    assert (answer["kind"], answer["proof_verified"], answer["state"]) == ("credential", True, state)
    assert answer["certificate"]["code"] == certificate.display_code


def test_a_tampered_credential_answers_as_the_document_says(client, run_on_commit, conforming):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    answer = conforming(
        client.post("/api/verify/file", _credential_upload(certificate, validFrom="2020-01-01T00:00:00Z"))
    )
    assert answer.json()["proof_verified"] is False and answer.json()["certificate"] is None


def test_a_credential_whose_status_cannot_be_read_answers_as_the_document_says(
    client, run_on_commit, conforming, monkeypatch
):
    from certificates.services import credentials

    certificate, _ = certificate_in_state("valid", run_on_commit)
    monkeypatch.setattr(credentials, "status_list_credential", lambda **kwargs: 1 / 0)
    answer = conforming(client.post("/api/verify/file", _credential_upload(certificate))).json()
    assert answer["state"] == "status_unknown" and answer["proof_verified"] is True
