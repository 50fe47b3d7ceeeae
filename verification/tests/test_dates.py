"""One date for a certificate wherever a learner or an employer reads it: the PDF, the email (text
and HTML), the verify page and the dashboard all write it in the certificate's locale."""

import re
import subprocess
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from certificates.tests.factories import issued_certificate
from conftest import require_tool
from courses.tests.factories import CourseFactory
from learners.tests.factories import LearnerFactory, UserFactory

pytestmark = pytest.mark.django_db

ISSUED = date(2026, 12, 3)
#: The date of issue as each locale's readers write it (CLDR's long format), and the ``lang`` it is
#: marked with on an English page ("" for English). An unknown locale falls back to English.
EXPECTED = {
    "en": ("December 3, 2026", ""),
    "fr": ("3 décembre 2026", "fr"),
    "de": ("3. Dezember 2026", "de"),
    "ar": ("3 ديسمبر 2026", "ar"),
    "ja": ("2026年12月3日", "ja"),
    "xx": ("December 3, 2026", ""),  # not a locale Babel knows (made before the course validated it)
}
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # poppler wraps RTL lines in these


def _pdf_text(data: bytes, tmp_path) -> str:
    require_tool("pdftotext")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    extracted = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return BIDI_MARKS.sub("", extracted)


def _marked(written: str, lang: str) -> str:
    attributes = f' lang="{lang}"' if lang else ""
    attributes += ' dir="rtl"' if lang == "ar" else ""
    return f'<time datetime="{ISSUED.isoformat()}"{attributes}>{written}</time>'


@pytest.mark.parametrize("locale", EXPECTED)
def test_the_date_of_issue_reads_the_same_in_the_pdf_email_verify_page_and_dashboard(
    locale, client, run_on_commit, mailoutbox, tmp_path
):
    written, lang = EXPECTED[locale]
    learner = LearnerFactory(user=UserFactory())
    with time_machine.travel(datetime(2026, 12, 3, 10, 0, tzinfo=UTC)):
        certificate = issued_certificate(run_on_commit, course=CourseFactory(locale=locale), learner=learner)
    version = certificate.current_version
    assert version.issued_on == ISSUED

    assert written in _pdf_text(version.pdf.read(), tmp_path)

    (email,) = mailoutbox
    assert f"Date of issue: {written}\n" in email.body
    (html, _) = email.alternatives[0]
    assert _marked(written, lang) in html

    page = client.get(f"/verify/{certificate.display_code}/").content.decode()
    assert f"<dt>Date of issue</dt><dd>{_marked(written, lang)}</dd>" in page
    assert f'content="Certificate issued by {version.organisation_name} on {written}.' in page  # link previews

    client.force_login(learner.user)
    dashboard = client.get(reverse("dashboard:home")).content.decode()
    assert f"issued {_marked(written, lang)}" in dashboard


def test_the_api_keeps_iso_dates_whatever_the_locale(client, run_on_commit):
    with time_machine.travel(datetime(2026, 12, 3, 10, 0, tzinfo=UTC)):
        certificate = issued_certificate(run_on_commit, course=CourseFactory(locale="fr"))
    facts = client.get(f"/api/verify/{certificate.display_code}").json()
    assert facts["issued_on"] == "2026-12-03"
    assert "décembre" not in str(facts)


def test_a_revoked_certificate_states_its_revocation_in_its_own_locale_too(client, run_on_commit):
    from certificates.services.lifecycle import certificate_revoke
    from certificates.tests.factories import staff_member

    learner = LearnerFactory(user=UserFactory())
    with time_machine.travel(datetime(2026, 12, 3, 10, 0, tzinfo=UTC)):
        certificate = issued_certificate(run_on_commit, course=CourseFactory(locale="de"), learner=learner)
    with time_machine.travel(datetime(2027, 1, 15, 9, 0, tzinfo=UTC)):
        certificate_revoke(certificate_id=certificate.pk, by=staff_member("admin", "ada"), reason="Misconduct")
    revoked_on = '<time datetime="2027-01-15" lang="de">15. Januar 2027</time>'
    page = client.get(f"/verify/{certificate.display_code}/").content.decode()
    assert f"Revoked by the issuer on {revoked_on}" in page
    client.force_login(learner.user)
    assert f"Revoked</span> on {revoked_on}" in client.get(reverse("dashboard:home")).content.decode()
