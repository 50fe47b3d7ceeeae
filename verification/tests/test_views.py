import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from certificates import codes
from certificates.models import Certificate, Pipeline
from certificates.services.erasure import learner_erase
from certificates.tests.factories import issued_certificate
from courses.tests.factories import CourseFactory
from learners.services import enrollment_record_completion
from learners.tests.factories import LearnerFactory

from .states import STATES, certificate_in_state, scored_certificate

pytestmark = pytest.mark.django_db

HEADLINES = {
    "valid": "This certificate is genuine and in force",
    "suspended": "Under review by the issuer since",
    "revoked": "Revoked by the issuer on",
    "expired": "expired on",
    "superseded": "was replaced by a corrected version on",
    "withdrawn": "the holder's personal data was erased",
}


def _text(response) -> str:
    return response.content.decode()


def _status_word(page: str) -> str:
    return re.search(r'<p class="status-word">([^<]+)</p>', page).group(1)


@pytest.mark.parametrize("state", STATES)
def test_each_state_is_one_unmistakable_word_with_its_sentence(client, run_on_commit, state):
    certificate, path = certificate_in_state(state, run_on_commit)
    response = client.get(path)
    assert response.status_code == 200
    page = _text(response)
    assert _status_word(page) == state.capitalize()
    assert f'class="status status-{state}"' in page and "status-icon" in page  # words + icon + colour
    assert HEADLINES[state] in page
    others = [other.capitalize() for other in STATES if other != state]
    assert not any(f'<p class="status-word">{word}' in page for word in others)


def _english(day) -> str:
    """An English certificate's date as its PDF prints it (Babel's long English format)."""
    return f'<time datetime="{day.isoformat()}">{day:%B} {day.day}, {day.year}</time>'


def test_dates_and_reasons_are_stated(client, run_on_commit):
    revoked, path = certificate_in_state("revoked", run_on_commit)
    page = _text(client.get(path))
    assert (
        f"Revoked by the issuer on {_english(timezone.localdate(revoked.revoked_at))}: <bdi>Academic misconduct</bdi>"
        in page
    )
    suspended, path = certificate_in_state("suspended", run_on_commit)
    assert f"since {_english(timezone.localdate(suspended.suspended_at))}" in _text(client.get(path))
    expired, path = certificate_in_state("expired", run_on_commit)
    assert f"expired on {_english(expired.valid_until)}" in _text(client.get(path))


def test_valid_page_shows_what_the_certificate_prints_and_nothing_private(client, run_on_commit):
    certificate = scored_certificate(run_on_commit)
    version = certificate.current_version
    page = _text(client.get(certificate.verify_url.removeprefix("https://certs.example.test")))
    for text in (
        "Siobhán O&#x27;Brien",
        "Clinical Data Analysis",
        version.organisation_name,
        "Dr. Ada Okafor",
        "Lead Instructor",
        f"<dt>Date of issue</dt><dd>{_english(version.issued_on)}</dd>",
        "92.5%",
        "Spring 2026",
        "Credits",
        "6 ECTS",
        "Grade",
        "Distinction",
        certificate.display_code,
        version.pdf_sha256,
        reverse("verification:preview", args=[certificate.display_code]),  # the image of the certificate
        reverse("verification:pdf", args=[certificate.display_code]),
    ):
        assert text in page, text
    learner = certificate.enrollment.learner
    assert learner.email not in page and learner.external_id not in page
    assert f">{certificate.pk}<" not in page and f"/{version.pk}/" not in page


def test_a_completion_certificate_does_not_show_a_score_it_does_not_print(client, run_on_commit):
    learner, course = LearnerFactory(), CourseFactory()
    with run_on_commit():
        enrollment = enrollment_record_completion(
            learner_id=learner.pk, course_id=course.pk, completed_at=timezone.now(), score=88
        )
    certificate = Certificate.objects.get(enrollment=enrollment)
    page = _text(client.get(f"/verify/{certificate.display_code}/"))
    # "88" alone could appear inside a SHA-256 shown on the page; the printed form is "88%"
    assert "<dt>Score</dt>" not in page and "88%" not in page


@pytest.mark.parametrize("state", ["suspended", "revoked", "expired", "superseded", "withdrawn"])
def test_only_a_valid_certificate_offers_its_pdf_and_image(client, run_on_commit, state):
    certificate, path = certificate_in_state(state, run_on_commit)
    page = _text(client.get(path))
    assert "View the PDF" not in page and "preview.png" not in page and "og:image" not in page
    if state != "superseded":  # the current version of a superseded one is valid, and offers its own
        assert client.get(reverse("verification:pdf", args=[certificate.display_code])).status_code == 404
        assert client.get(reverse("verification:preview", args=[certificate.display_code])).status_code == 404


def test_the_issuers_logo_is_shown_not_ours(client, run_on_commit):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save("branding/logo.png", ContentFile(_tiny_png()))
    certificate = scored_certificate(run_on_commit)
    certificate.versions.update(logo_path=name)
    page = _text(client.get(f"/verify/{certificate.display_code}/"))
    logo_url = reverse("verification:logo", args=[certificate.display_code, 1])
    assert f'src="{logo_url}"' in page
    response = client.get(logo_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == _tiny_png()


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "#123456").save(out, "PNG")
    return out.getvalue()


def test_superseded_version_links_the_current_one_and_shows_what_it_printed(client, run_on_commit):
    certificate, path = certificate_in_state("superseded", run_on_commit)
    page = _text(client.get(path))
    assert "Siobhán O&#x27;Brien" in page and "Ní Bhriain" not in page  # v1 printed the old name
    assert f'href="{reverse("verification:detail", args=[certificate.display_code])}"' in page
    current = _text(client.get(f"/verify/{certificate.display_code}/"))
    assert _status_word(current) == "Valid" and "Siobhán Ní Bhriain" in current and "(version 2)" in current


def test_the_current_version_by_number_redirects_to_the_certificate(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    response = client.get(reverse("verification:version", args=[certificate.display_code, 1]))
    assert response.status_code == 302 and response["Location"] == f"/verify/{certificate.display_code}/"


def test_withdrawn_shows_no_personal_data(client, run_on_commit):
    certificate = scored_certificate(run_on_commit, name="Zoë Q. Erasable")
    learner = certificate.enrollment.learner
    email = learner.email
    learner_erase(learner_id=learner.pk, by=None, reason="asked on 1 Dec")
    for path in (f"/verify/{certificate.display_code}/", f"/api/verify/{certificate.display_code}"):
        body = _text(client.get(path))
        for private in ("Zoë", "Erasable", email, "92.5", "Distinction", "Spring 2026"):
            assert private not in body, (path, private)
    page = _text(client.get(f"/verify/{certificate.display_code}/"))
    assert "Certificate withdrawn" in page and "Clinical Data Analysis" in page


# -- one not-found answer -------------------------------------------------------------------------


def _held_code(run_on_commit) -> str:
    learner = LearnerFactory(email="broken")
    with run_on_commit():
        enrollment = enrollment_record_completion(
            learner_id=learner.pk, course_id=CourseFactory().pk, completed_at=timezone.now()
        )
    held = Certificate.objects.get(enrollment=enrollment)
    assert held.pipeline_state == Pipeline.HELD
    return held.display_code


def _rejected_code(run_on_commit) -> str:
    from certificates.services import issuance

    learner = LearnerFactory()
    with run_on_commit():
        enrollment = enrollment_record_completion(
            learner_id=learner.pk, course_id=CourseFactory(manual_review=True).pk, completed_at=timezone.now()
        )
    certificate = Certificate.objects.get(enrollment=enrollment)
    issuance.certificate_reject(certificate_id=certificate.pk, by=None, reason="not eligible")
    certificate.refresh_from_db()
    assert certificate.pipeline_state == Pipeline.REJECTED
    return certificate.display_code


def _withdrawn_before_issue_code(run_on_commit) -> str:
    code = _held_code(run_on_commit)
    certificate = Certificate.objects.get(code=codes.normalize(code))
    learner_erase(learner_id=certificate.enrollment.learner_id, by=None, reason="asked")
    return code


def test_unknown_malformed_held_rejected_and_withdrawn_unissued_codes_get_one_identical_answer(client, run_on_commit):
    codes_to_try = {
        "unknown": codes.display(codes.new_code()),
        "malformed": "not-a-code",
        "bad check symbol": codes.display(codes.new_code())[:-1] + "0",
        "held": _held_code(run_on_commit),
        "rejected": _rejected_code(run_on_commit),
        "withdrawn before issue": _withdrawn_before_issue_code(run_on_commit),
    }
    answers = {kind: client.get(f"/verify/{code}/") for kind, code in codes_to_try.items()}
    assert {answer.status_code for answer in answers.values()} == {404}
    assert len({answer.content for answer in answers.values()}) == 1  # byte for byte
    assert len({tuple(sorted(a.headers.items())) for a in answers.values()}) == 1
    api = {kind: client.get(f"/api/verify/{code}") for kind, code in codes_to_try.items()}
    assert {answer.status_code for answer in api.values()} == {404}
    assert len({answer.content for answer in api.values()}) == 1


def test_old_versions_of_a_never_issued_code_are_not_found_either(client, run_on_commit):
    code = _held_code(run_on_commit)
    unknown = client.get(f"/verify/{codes.display(codes.new_code())}/v1/")
    held = client.get(f"/verify/{code}/v1/")
    assert held.status_code == unknown.status_code == 404 and held.content == unknown.content


# -- loose typing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        str.lower,
        lambda c: c.replace("-", " "),
        lambda c: c.replace("-", ""),
        lambda c: c.replace("-", "\u2013"),  # en-dash, as a word processor writes it
        lambda c: c.replace("-", "\u2014 "),
        lambda c: f"  {c}\u200b",  # a zero-width space pasted along
        lambda c: f"\ufeff{c}\u200e",  # a BOM and a left-to-right mark
        lambda c: c.replace("-", "\u00a0"),
        lambda c: c.replace("0", "O").replace("1", "I"),
        lambda c: c.replace("1", "l"),
        lambda c: "".join(chr(ord(ch) + 0xFEE0) if ch.isalnum() else ch for ch in c),  # full-width
    ],
)
def test_lookup_accepts_a_code_however_it_was_typed(client, run_on_commit, typed):
    certificate = issued_certificate(run_on_commit)
    response = client.get(reverse("verification:lookup"), {"code": typed(certificate.display_code)}, follow=True)
    assert response.status_code == 200
    assert certificate.current_version.holder_name in _text(response)
    assert response.redirect_chain[-1][0] == reverse("verification:detail", args=[certificate.display_code])


def test_a_non_canonical_code_in_the_address_redirects_to_the_canonical_one(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    response = client.get(f"/verify/{certificate.display_code.lower()}/")
    assert response.status_code == 301 and response["Location"] == f"/verify/{certificate.display_code}/"


def test_a_mistyped_character_is_caught_by_the_check_symbol(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    code = certificate.code
    wrong = codes.ALPHABET[(codes.ALPHABET.index(code[5]) + 1) % 32]
    typo = codes.display(code[:5] + wrong + code[6:])
    response = client.get(reverse("verification:lookup"), {"code": typo})
    page = _text(response)
    assert response.status_code == 200 and "One character looks mistyped" in page
    assert f'value="{typo}"' in page  # kept in the box to correct


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("K7QM-3XWD-9PHT", "A certificate ID has 16 letters and digits; this has 12."),
        ("K7QM-3XWD-9PHT-R2VA-XX", "this has 18"),
        ("K7QM#3XWD-9PHT-R2VA", "A certificate ID never has #"),
        ("   ", "Type the certificate ID"),
    ],
)
def test_a_badly_typed_code_says_what_is_wrong(client, db, typed, message):
    page = _text(client.get(reverse("verification:lookup"), {"code": typed}))
    assert message in page and 'aria-invalid="true"' in page


def test_lookup_page_renders_form(client, db):
    response = client.get(reverse("verification:lookup"))
    assert response.status_code == 200 and b'name="code"' in response.content


# -- files and link previews ----------------------------------------------------------------------


def test_public_pdf_download_is_the_stored_file(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    response = client.get(reverse("verification:pdf", args=[certificate.display_code]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == certificate.current_version.pdf.read()


def test_link_preview_tags_are_absolute_from_site_url_even_with_a_forged_host(client, run_on_commit, settings):
    settings.ALLOWED_HOSTS = ["*"]
    certificate = scored_certificate(run_on_commit)
    page = _text(client.get(f"/verify/{certificate.display_code}/", HTTP_HOST="evil.example"))
    assert "evil.example" not in page
    base = f"https://certs.example.test/verify/{certificate.display_code}/"
    tags = dict(re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z:]+)" content="([^"]*)"', page))
    assert tags["og:title"] == tags["twitter:title"] == "Siobhán O&#x27;Brien earned Clinical Data Analysis"
    assert tags["og:url"] == base and f'<link rel="canonical" href="{base}">' in page
    assert tags["og:image"] == tags["twitter:image"] == base + "preview.png"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "627")
    assert tags["twitter:card"] == "summary_large_image" and "Certificate issued by" in tags["og:description"]
    for name, value in tags.items():
        if value.startswith("http") or name in ("og:url", "og:image"):
            assert value.startswith("https://certs.example.test/"), name
    response = client.get(f"/verify/{certificate.display_code}/preview.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == (1200, 627)


def test_a_revoked_certificate_has_no_share_card_naming_the_holder(client, run_on_commit):
    certificate, path = certificate_in_state("revoked", run_on_commit)
    page = _text(client.get(path))
    head = page.split("</head>")[0]
    assert "O&#x27;Brien" not in head and "earned" not in head


def test_public_pages_send_security_headers(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    for path in (f"/verify/{certificate.display_code}/", "/verify/", "/verify/file/", "/verify/nothing/"):
        response = client.get(path)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert "<script>" not in _text(response) and "style=" not in _text(response)


def test_the_verify_page_reads_in_one_query_and_counts_in_one_statement(client, run_on_commit):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from certificates.models import LookupCount

    certificate = scored_certificate(run_on_commit)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/verify/{certificate.display_code}/").status_code == 200
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert (
        len(statements) == 2 and statements[0].startswith("SELECT") and "INSERT INTO" in statements[1]
    )  # the version with its certificate; the count, flushed at once here
    assert LookupCount.objects.get(certificate=certificate).count == 1


def test_the_verify_page_makes_one_query_when_counts_are_batched(
    client, run_on_commit, settings, django_assert_num_queries
):
    settings.LOOKUP_COUNT_FLUSH_SECONDS = 3600
    certificate, path = certificate_in_state("superseded", run_on_commit)
    for page in (path, f"/verify/{certificate.display_code}/"):
        with django_assert_num_queries(1):
            assert client.get(page).status_code == 200


def test_every_public_answer_reads_one_query_with_nothing_loaded_later(
    client, run_on_commit, settings, django_assert_num_queries
):
    """The public reads load only the columns they need: a field read later would be a second query."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.LOOKUP_COUNT_FLUSH_SECONDS = 3600
    certificate = scored_certificate(run_on_commit)
    code = certificate.display_code
    with certificate.current_version.pdf.open("rb") as stored:
        pdf = stored.read()
    client.get(f"/verify/{code}/preview.png")  # made and stored on the first request, then only read
    for path in (
        f"/verify/{code}/pdf/",
        f"/verify/{code}/preview.png",
        f"/verify/{code}/linkedin/add/",
        f"/verify/{code}/linkedin/share/",
        f"/api/verify/{code}",
    ):
        with django_assert_num_queries(1):
            assert client.get(path).status_code in (200, 302), path
    with django_assert_num_queries(1):
        client.post("/api/verify/file", {"file": SimpleUploadedFile("c.pdf", pdf, "application/pdf")})


def test_a_page_seen_before_a_revocation_is_never_shown_after_it(client, run_on_commit):
    """The page is rendered once per distinct facts: a change of state is new facts, not a stale page."""
    from certificates.services import lifecycle

    certificate, path = certificate_in_state("valid", run_on_commit)
    assert _status_word(_text(client.get(path))) == "Valid"
    lifecycle.certificate_suspend(certificate_id=certificate.pk, by=None, reason="complaint")
    assert _status_word(_text(client.get(path))) == "Suspended"
    lifecycle.certificate_reinstate(certificate_id=certificate.pk, by=None)
    assert _status_word(_text(client.get(path))) == "Valid"
    lifecycle.certificate_revoke(certificate_id=certificate.pk, by=None, reason="Issued in error")
    page = _text(client.get(path))
    assert _status_word(page) == "Revoked" and "Issued in error" in page


def test_the_page_is_the_same_for_a_signed_in_visitor(client, run_on_commit):
    from learners.services import learner_user

    certificate, path = certificate_in_state("valid", run_on_commit)
    anonymous = client.get(path)
    client.force_login(learner_user(learner_id=certificate.enrollment.learner_id))
    signed_in = client.get(path)
    assert signed_in.content == anonymous.content and "Cookie" not in signed_in.get("Vary", "")


def test_expiry_is_judged_on_the_day(client, run_on_commit):
    certificate = issued_certificate(run_on_commit)
    Certificate.objects.filter(pk=certificate.pk).update(valid_until=timezone.localdate())
    page = _text(client.get(f"/verify/{certificate.display_code}/"))
    assert _status_word(page) == "Valid" and "in force until" in page
    Certificate.objects.filter(pk=certificate.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
    assert _status_word(_text(client.get(f"/verify/{certificate.display_code}/"))) == "Expired"
