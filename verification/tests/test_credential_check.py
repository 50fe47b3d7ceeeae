"""Checking an uploaded Open Badge credential (JSON), on the page and by the API: whether its proof is
ours, which certificate it is and its status, and "status could not be checked" (never "valid") when a
status list cannot be read."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError

from certificates.models import Certificate, LookupChannel, LookupCount, VersionCredential
from certificates.services import credentials as credential_services

from .states import STATES, certificate_in_state

pytestmark = pytest.mark.django_db


def _credential(certificate: Certificate, number: int | None = None) -> dict:
    version = certificate.versions.get(number=number) if number else certificate.current_version
    return VersionCredential.objects.get(version=version).document


def _upload(document: dict, name: str = "credential.json", content_type: str = "application/vc+ld+json") -> dict:
    return {"file": SimpleUploadedFile(name, json.dumps(document).encode(), content_type=content_type)}


def _fail_status_reads(monkeypatch) -> None:
    def unreadable(**kwargs):
        raise DatabaseError("status list row unreadable")

    monkeypatch.setattr(credential_services, "status_list_credential", unreadable)


# The credential of a withdrawn certificate is deleted with the holder's data: nothing to upload.
@pytest.mark.parametrize("state", [state for state in STATES if state != "withdrawn"])
def test_the_api_states_a_genuine_credential_with_its_certificate_and_state(client, run_on_commit, state):
    certificate, _ = certificate_in_state(state, run_on_commit)
    number = 1 if state == "superseded" else None
    answer = client.post("/api/verify/file", _upload(_credential(certificate, number))).json()
    assert answer["kind"] == "credential" and answer["proof_verified"] is True
    assert answer["state"] == state
    assert answer["certificate"]["code"] == certificate.display_code
    assert answer["certificate"]["version"] == (number or certificate.current_version.number)
    assert any("signed by its issuer" in reason for reason in answer["reasons"])
    assert LookupCount.objects.get(certificate=certificate, channel=LookupChannel.FILE).count == 1


def test_a_credential_with_one_field_changed_does_not_verify(client, run_on_commit):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    document = _credential(certificate)
    document["credentialSubject"]["name"] = "Someone Else"
    answer = client.post("/api/verify/file", _upload(document)).json()
    assert answer["proof_verified"] is False and answer["state"] == "invalid"
    assert answer["certificate"] is None
    page = client.post("/verify/file/", _upload(document)).content.decode()
    assert "does not verify against our published key" in page and "Not genuine" in page
    assert certificate.display_code not in page and "Someone Else" not in page
    assert not LookupCount.objects.exists()


def test_a_credential_with_its_id_pointed_elsewhere_does_not_verify(client, run_on_commit):
    first, _ = certificate_in_state("revoked", run_on_commit)
    second, _ = certificate_in_state("valid", run_on_commit)
    document = _credential(first)
    document["id"] = _credential(second)["id"]  # dressing a revoked credential up as a valid one
    answer = client.post("/api/verify/file", _upload(document)).json()
    assert answer["state"] == "invalid" and answer["certificate"] is None


def test_an_unreadable_status_list_reads_status_could_not_be_checked_never_valid(
    client, run_on_commit, monkeypatch, caplog
):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    document = _credential(certificate)
    _fail_status_reads(monkeypatch)
    with caplog.at_level(logging.ERROR):
        answer = client.post("/api/verify/file", _upload(document)).json()
    assert answer["proof_verified"] is True
    assert answer["state"] == "status_unknown" and answer["state_label"] == "Status could not be checked"
    assert any("could not be read" in reason for reason in answer["reasons"])
    assert answer["certificate"]["code"] == certificate.display_code
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "status list could not be read" in logged and document["id"] not in logged
    page = client.post("/verify/file/", _upload(document)).content.decode()
    assert '<p class="status-word">Status could not be checked</p>' in page
    assert 'class="status status-unchecked"' in page and '<p class="status-word">Valid</p>' not in page
    assert "holds this certificate" not in page


def test_a_definite_no_wins_over_a_list_that_could_not_be_read(client, run_on_commit, monkeypatch):
    certificate, _ = certificate_in_state("suspended", run_on_commit)
    _fail_status_reads(monkeypatch)
    answer = client.post("/api/verify/file", _upload(_credential(certificate))).json()
    assert answer["state"] == "suspended"  # our records say so, whatever the lists could not say


def test_the_page_shows_a_genuine_credential_with_its_certificate(client, run_on_commit):
    certificate, _ = certificate_in_state("suspended", run_on_commit)
    answer = client.post("/verify/file/", _upload(_credential(certificate)))
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "verifies against our published key: it is version 1 of certificate" in page
    assert '<p class="status-word">Suspended</p>' in page and "Siobhán O&#x27;Brien" in page


@pytest.mark.parametrize("content_type", ["application/json", "application/ld+json", "", "application/octet-stream"])
def test_each_credential_type_is_accepted_with_a_json_name(client, run_on_commit, content_type):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    answer = client.post("/api/verify/file", _upload(_credential(certificate), content_type=content_type))
    assert answer.status_code == 200 and answer.json()["state"] == "valid"


@pytest.mark.parametrize(
    ("data", "name", "content_type", "error"),
    [
        (b'{"type": ["VerifiableCredential"]}', "credential.txt", "text/plain", "not_pdf"),
        (b'{"type": ["VerifiableCredential"]}', "credential.json", "text/html", "not_pdf"),
        (b"not json at all", "credential.json", "application/json", "not_json"),
        (b"[1, 2, 3]", "credential.json", "application/json", "not_json"),
        (b"[" * 50_000, "credential.json", "application/json", "not_json"),
    ],
    ids=["not named .json", "another type", "not JSON", "not an object", "nested too deep"],
)
def test_a_file_that_is_not_a_credential_is_refused(client, db, data, name, content_type, error):
    answer = client.post("/api/verify/file", {"file": SimpleUploadedFile(name, data, content_type=content_type)})
    assert answer.status_code == 415 and answer.json()["error"] == error


def test_a_verifiable_credential_of_another_issuer_does_not_verify_and_nothing_is_fetched(client, db, monkeypatch):
    import urllib.request

    def no_fetch(*args, **kwargs):
        raise AssertionError("the file check fetched a URL")

    monkeypatch.setattr(urllib.request, "urlopen", no_fetch)
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:web:elsewhere.example",
        "credentialSubject": {"name": "X"},
        "proof": {"type": "DataIntegrityProof", "verificationMethod": "did:web:elsewhere.example#key-1"},
    }
    answer = client.post("/api/verify/file", _upload(document)).json()
    assert answer["state"] == "invalid" and any("could not be read" in reason for reason in answer["reasons"])


def test_nothing_of_an_uploaded_credential_is_logged(client, run_on_commit, caplog):
    certificate, _ = certificate_in_state("valid", run_on_commit)
    document = _credential(certificate)
    with caplog.at_level(logging.DEBUG):
        assert client.post("/api/verify/file", _upload(document)).status_code == 200
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert document["credentialSubject"]["identifier"][0]["salt"] not in logged and "credential.json" not in logged


@pytest.mark.parametrize(
    "document",
    [
        {"type": ["VerifiableCredential"], "evidence": [{"name": "e"} for _ in range(200)]},
        {"type": ["VerifiableCredential"], "description": "x" * (70 * 1024)},
        {"type": ["VerifiableCredential"], "credentialSubject": {"id": "_:b0", "knows": {"id": "_:b0"}}},
    ],
    ids=["too many objects", "too large", "a named blank node"],
)
def test_a_credential_too_costly_to_canonicalise_is_refused_before_it_is_checked(client, db, monkeypatch, document):
    from certificates.credentials import proof

    def no_canonicalising(*args, **kwargs):
        raise AssertionError("the refused upload was canonicalised")

    monkeypatch.setattr(proof, "canonicalize", no_canonicalising)
    answer = client.post("/api/verify/file", _upload(document))
    assert answer.status_code == 413 and answer.json()["error"] == "too_complex"
    assert "more complex than any we issue" in answer.json()["message"]


def test_a_status_read_failing_in_the_database_leaves_the_answer_and_the_request_whole(
    client, run_on_commit, monkeypatch
):
    """A real failed statement (on PostgreSQL it aborts the transaction): the counting and the facts
    that follow it must still work, so the failure is contained in a savepoint."""
    from django.db import connection

    certificate, _ = certificate_in_state("valid", run_on_commit)

    def broken_read(status_list, purpose):
        with connection.cursor() as cursor:
            cursor.execute("SELECT bit FROM no_such_status_table")

    monkeypatch.setattr(credential_services, "_set_bits", broken_read)
    answer = client.post("/api/verify/file", _upload(_credential(certificate))).json()
    assert answer["state"] == "status_unknown" and answer["certificate"]["code"] == certificate.display_code
    assert Certificate.objects.filter(pk=certificate.pk).exists()  # the connection is still usable
