"""Open Badges credentials as a holder and a verifier meet them: signed when the PDF is rendered,
identifying the holder without their address, and reporting revocation, suspension and reissue."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certificates.credentials import badge, checking, status
from certificates.credentials.checking import Outcome
from certificates.models import VersionCredential
from certificates.services import credentials, lifecycle
from certificates.tests.factories import rendered_certificate
from courses.tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def _credential(certificate) -> dict:
    return VersionCredential.objects.get(version__certificate=certificate, version__is_current=True).document


def _verdict(document) -> checking.Verdict:
    return credentials.credential_check(document=document)


def test_a_rendered_certificate_has_a_signed_open_badge_that_verifies():
    certificate = rendered_certificate(learner__email="Ada.Lovelace@Example.org", course__title="Analytical Engines")
    document = _credential(certificate)
    organisation = certificate.enrollment.course.organisation
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["issuer"]["id"] == f"did:web:certs.example.test:issuers:{organisation.slug}"
    assert document["issuer"]["name"] == organisation.name
    assert document["credentialSubject"]["achievement"]["name"] == "Analytical Engines"
    assert document["id"] == f"{certificate.verify_url}v1/credential.json"
    assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    verdict = _verdict(document)
    assert verdict.outcome == Outcome.VALID, verdict.reasons


def test_the_holder_is_identified_by_a_salted_hash_never_the_address():
    certificate = rendered_certificate(learner__email="ada@example.org")
    document = _credential(certificate)
    assert "ada@example.org" not in json.dumps(document).lower()
    (identity,) = document["credentialSubject"]["identifier"]
    assert identity["hashed"] is True and identity["identityType"] == "emailAddress"
    assert identity["identityHash"] == badge.identity_hash(" ADA@example.org ", identity["salt"])
    assert identity["identityHash"] != badge.identity_hash("eve@example.org", identity["salt"])
    other = _credential(rendered_certificate(learner__email="ada@example.org"))
    assert other["credentialSubject"]["identifier"][0]["identityHash"] != identity["identityHash"]  # own salt


def test_a_course_with_a_validity_period_gives_valid_until():
    certificate = rendered_certificate(course=CourseFactory(validity_months=12))
    document = _credential(certificate)
    assert document["validUntil"].startswith(str(certificate.valid_until + timedelta(days=1)))
    assert "validUntil" not in _credential(rendered_certificate())


def test_a_changed_credential_is_invalid():
    document = _credential(rendered_certificate())
    document["credentialSubject"]["name"] = "Mallory"
    verdict = _verdict(document)
    assert verdict.outcome == Outcome.INVALID
    assert any("changed after signing" in reason for reason in verdict.reasons)


def test_revoking_and_suspending_set_the_bits_verifiers_read(admin_user):
    revoked, suspended = rendered_certificate(), rendered_certificate()
    lifecycle.certificate_revoke(certificate_id=revoked.pk, by=admin_user, reason="plagiarism")
    lifecycle.certificate_suspend(certificate_id=suspended.pk, by=admin_user, reason="under review")
    assert _verdict(_credential(revoked)).outcome == Outcome.REVOKED
    assert _verdict(_credential(suspended)).outcome == Outcome.SUSPENDED
    lifecycle.certificate_reinstate(certificate_id=suspended.pk, by=admin_user)
    assert _verdict(_credential(suspended)).outcome == Outcome.VALID


def test_a_reissue_marks_the_old_credential_superseded_and_signs_a_new_one(run_on_commit):
    certificate = rendered_certificate()
    old = _credential(certificate)
    learner = certificate.enrollment.learner
    learner.full_name = "Ada King"
    learner.save()
    lifecycle.certificate_reissue(certificate_id=certificate.pk, reason="name_correction")
    from certificates.services import rendering

    with run_on_commit():  # the render queues the new version's credential
        rendering.certificate_render(certificate_id=certificate.pk)
    new = _credential(certificate)
    assert new["credentialSubject"]["name"] == "Ada King"
    assert _verdict(old).outcome == Outcome.SUPERSEDED
    assert _verdict(new).outcome == Outcome.VALID


def test_status_entries_use_one_random_index_in_lists_of_at_least_131072():
    certificate = rendered_certificate()
    entry = VersionCredential.objects.get(version__certificate=certificate)
    assert entry.status_list.size >= 131_072
    purposes = {item["statusPurpose"]: item for item in _credential(certificate)["credentialStatus"]}
    assert set(purposes) == {"revocation", "suspension", "refresh"}
    assert {item["statusListIndex"] for item in purposes.values()} == {str(entry.status_index)}


def test_a_status_list_counts_its_entries_and_a_new_one_starts_when_it_is_half_full(monkeypatch):
    from certificates.models import StatusList

    course = CourseFactory()
    monkeypatch.setattr(credentials, "FILL_LIMIT", 2 / 131_072)  # two entries fill a list
    for _ in range(5):
        rendered_certificate(course=course)
    lists = list(StatusList.objects.filter(organisation=course.organisation).order_by("number"))
    assert [status_list.used for status_list in lists] == [2, 2, 1]
    assert [status_list.entries.count() for status_list in lists] == [2, 2, 1]  # the counter is the count


def test_a_status_list_that_cannot_be_read_is_reported_not_passed_as_valid():
    document = _credential(rendered_certificate())
    verdict = checking.check_credential(
        document,
        resolve_did=credentials._local_did,
        fetch_status_list=lambda url: None,
        now=credentials.timezone.now(),
    )
    assert verdict.outcome == Outcome.STATUS_UNKNOWN
    assert any("could not be read" in reason for reason in verdict.reasons)


def test_rotating_the_key_keeps_old_credentials_verifying():
    before = _credential(rendered_certificate())
    old_key = before["proof"]["verificationMethod"].split("#")[1]
    new_key = credentials.key_store().rotate()
    after = _credential(rendered_certificate())
    assert after["proof"]["verificationMethod"].endswith(f"#{new_key}")
    assert _verdict(before).outcome == Outcome.VALID
    assert _verdict(after).outcome == Outcome.VALID
    published = [method["id"].split("#")[1] for method in credentials.did_document()["verificationMethod"]]
    assert old_key in published and new_key in published
    assert not (credentials.key_store().directory / f"{old_key}.key").exists()  # it can sign no more


def test_an_unpublished_key_makes_the_credential_invalid():
    document = _credential(rendered_certificate())
    key_id = document["proof"]["verificationMethod"].split("#")[1]
    (credentials.key_store().directory / f"{key_id}.pub").unlink()
    verdict = _verdict(document)
    assert verdict.outcome == Outcome.INVALID


def test_the_status_list_is_served_with_a_cache_lifetime_matching_its_ttl(client, settings, admin_user):
    settings.CREDENTIAL_STATUS_TTL = 120
    certificate = rendered_certificate()
    lifecycle.certificate_revoke(certificate_id=certificate.pk, by=admin_user, reason="fraud")
    entry = {item["statusPurpose"]: item for item in _credential(certificate)["credentialStatus"]}["revocation"]
    response = client.get(entry["statusListCredential"].removeprefix(settings.SITE_URL))
    assert response.status_code == 200
    assert "max-age=120" in response["Cache-Control"]
    listed = response.json()
    assert listed["credentialSubject"]["ttl"] == 120_000
    bits = status.decode_list(listed["credentialSubject"]["encodedList"])
    assert status.bit(bits, int(entry["statusListIndex"])) is True
    assert sum(bin(byte).count("1") for byte in bits) == 1


def test_unknown_status_lists_and_issuers_are_not_found(client):
    certificate = rendered_certificate()
    slug = certificate.enrollment.course.organisation.slug
    assert client.get(f"/issuers/{slug}/status/1/colour").status_code == 404
    assert client.get(f"/issuers/{slug}/status/99/revocation").status_code == 404
    assert client.get("/issuers/nobody/did.json").status_code == 404


def test_did_web_documents_publish_every_key_for_assertions(client):
    certificate = rendered_certificate()
    credentials.key_store().rotate()
    slug = certificate.enrollment.course.organisation.slug
    site = client.get("/.well-known/did.json").json()
    organisation = client.get(f"/issuers/{slug}/did.json").json()
    assert site["id"] == "did:web:certs.example.test"
    assert organisation["id"] == f"did:web:certs.example.test:issuers:{slug}"
    assert len(organisation["verificationMethod"]) == 2
    assert organisation["assertionMethod"] == [method["id"] for method in organisation["verificationMethod"]]


def test_the_public_credential_url_serves_the_signed_document(client):
    certificate = rendered_certificate()
    document = _credential(certificate)
    response = client.get(document["id"].removeprefix("https://certs.example.test"))
    assert response.status_code == 200
    assert response.json() == document


def test_erasing_the_learner_removes_the_credential_and_revokes_it(admin_user, client):
    from certificates.services.erasure import learner_erase

    certificate = rendered_certificate()
    document = _credential(certificate)
    learner_erase(learner_id=certificate.enrollment.learner_id, by=admin_user, reason="request")
    assert _credential(certificate) is None
    assert client.get(document["id"].removeprefix("https://certs.example.test")).status_code == 404
    assert _verdict(document).outcome == Outcome.REVOKED


def test_credential_keys_command_makes_rotates_and_lists(capsys):
    call_command("credential_keys", "make")
    with pytest.raises(CommandError):
        call_command("credential_keys", "make")
    call_command("credential_keys", "rotate")
    call_command("credential_keys", "list")
    out = capsys.readouterr().out
    assert out.count("published only") >= 1 and "signs" in out
    assert len(credentials.key_store().published()) == 2


def test_without_auto_create_signing_needs_a_made_key(settings):
    settings.CREDENTIAL_KEYS_AUTO_CREATE = False
    from certificates.credentials.errors import KeyNotFound

    with pytest.raises(KeyNotFound):
        credentials.signing_key()


def _verify_file(tmp_path, data: bytes, name: str) -> tuple[int, str]:
    import io

    path = tmp_path / name
    path.write_bytes(data)
    out = io.StringIO()
    try:
        call_command("verify_credential", str(path), stdout=out)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue()


def test_verify_credential_command_gives_a_verdict_with_reasons(tmp_path, admin_user):
    certificate = rendered_certificate()
    data = json.dumps(_credential(certificate)).encode()
    code, out = _verify_file(tmp_path, data, "credential.json")
    assert code == 0 and "VALID" in out and "signed by its issuer" in out
    lifecycle.certificate_revoke(certificate_id=certificate.pk, by=admin_user, reason="fraud")
    code, out = _verify_file(tmp_path, data, "credential.json")
    assert code == 1 and "REVOKED" in out


def test_verify_credential_command_checks_a_pdf_signature_and_our_records(tmp_path):
    certificate = rendered_certificate()
    pdf = certificate.current_version.pdf.read()
    code, out = _verify_file(tmp_path, pdf, "certificate.pdf")
    assert code == 0, out
    assert "covers the whole file" in out and "(our signing certificate)" in out and certificate.display_code in out
    start = pdf.index(b"/Producer")
    tampered = pdf[:start] + b"/Produced" + pdf[start + 9 :]
    code, out = _verify_file(tmp_path, tampered, "certificate.pdf")
    assert code == 1 and "INVALID" in out, out


def test_verify_credential_command_refuses_other_files(tmp_path):
    code, out = _verify_file(tmp_path, b"hello", "notes.txt")
    assert code == 1 and "neither a PDF nor a credential" in out


def test_the_learner_downloads_their_credential_from_the_dashboard_and_nobody_else_does(client):
    from django.urls import reverse

    from learners.tests.factories import UserFactory

    me, someone = UserFactory(), UserFactory()
    mine = rendered_certificate(learner__user=me)
    theirs = rendered_certificate(learner__user=someone)
    client.force_login(me)
    url = reverse("dashboard:download_credential", args=[mine.pk, 1])
    assert url in client.get(reverse("dashboard:home")).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content) == _credential(mine)
    assert client.get(reverse("dashboard:download_credential", args=[theirs.pk, 1])).status_code == 404


def test_the_verify_page_links_the_current_credential(client):
    certificate = rendered_certificate()
    page = client.get(certificate.verify_url.removeprefix("https://certs.example.test")).content.decode()
    link = f"/verify/{certificate.display_code}/credential.json"
    assert link in page
    assert client.get(link).json() == _credential(certificate)
