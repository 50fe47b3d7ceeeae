"""The public verify pages in a real browser (Debian's Chromium), judged by axe-core.

Each state a certificate can be in, the not-found answer, the lookup form and the file check: at
375 px (a phone) and 1280 px. A person must read the state as a word beside an icon, never from a
colour alone; the page must not scroll sideways; axe-core must find nothing serious or critical.
Screenshots go to var/test-artifacts/verify-<page>-<width>.png for a person to look at.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from certificates import codes
from certificates.tests.test_browser import check_layout

from .states import STATES, certificate_in_state, scored_certificate

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {375: 812, 1280: 800}  # width: height, a phone and a laptop


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh tab of its own (no cookies from another test) in the module's one browser."""
    context = browser.new_context(viewport={"width": 375, "height": WIDTHS[375]})
    try:
        yield context.new_page()
    finally:
        context.close()


def off_the_loop(make, *args):
    """Make test data on another thread: Playwright's event loop runs on this one, and the PDF signer
    (pyHanko) starts one of its own, which asyncio refuses inside a running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(make, *args).result()


def open_at(page, url: str, width: int, *, status: int = 200) -> None:
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    response = page.goto(url)
    assert response.status == status, url


def state_shown(page) -> str:
    """The state word a person reads, checked to stand beside its icon (the colour only repeats them)."""
    status = page.get_by_role("status")
    assert status.locator("svg.status-icon").is_visible()
    word = status.locator(".status-word")
    assert word.is_visible()
    return word.inner_text()


@pytest.mark.parametrize("state", STATES)
def test_each_state_is_one_word_and_an_icon_that_fits_and_passes_axe(page, live_server, run_on_commit, state):
    _, path = off_the_loop(certificate_in_state, state, run_on_commit)
    for width in WIDTHS:
        open_at(page, f"{live_server.url}{path}", width)
        assert state_shown(page) == state.capitalize()
        check_layout(page, width, f"verify-{state}")


def test_not_found_lookup_and_file_check_pages_fit_and_pass_axe(page, live_server):
    unknown = f"{live_server.url}/verify/{codes.display(codes.new_code())}/"
    for width in WIDTHS:
        open_at(page, unknown, width, status=404)
        assert state_shown(page) == "Not found"
        assert page.get_by_role("heading", name="Not found", level=1).is_visible()  # a heading to land on
        assert page.get_by_label("Certificate ID").is_visible()  # to try again at once
        check_layout(page, width, "verify-not-found")

        open_at(page, f"{live_server.url}/verify/", width)
        assert page.get_by_role("heading", name="Verify a certificate").is_visible()
        check_layout(page, width, "verify-lookup")

        open_at(page, f"{live_server.url}/verify/file/", width)
        assert page.get_by_role("heading", name="Check a certificate file").is_visible()
        check_layout(page, width, "verify-file-check")


def test_an_employer_types_a_code_loosely_then_uploads_the_pdf_and_both_find_it(page, live_server, run_on_commit):
    certificate = off_the_loop(scored_certificate, run_on_commit)
    code = certificate.display_code
    page.goto(f"{live_server.url}/verify/")
    page.get_by_label("Certificate ID").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/verify/{code}/")
    assert state_shown(page) == "Valid"
    assert page.get_by_role("heading", name="Siobhán O'Brien").is_visible()

    page.get_by_role("link", name="Check a file").click()
    page.get_by_label("Certificate PDF").set_input_files(
        {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": certificate.current_version.pdf.read()}
    )
    page.get_by_role("button", name="Check the file").click()
    page.get_by_text("This file is exactly the PDF we issued as version 1").wait_for()
    assert state_shown(page) == "Valid"
    check_layout(page, 375, "verify-file-matched")


@pytest.mark.parametrize("outcome", ["status_unknown", "tampered", "valid"])
def test_an_uploaded_credential_shows_its_outcome_in_words_and_an_icon_and_passes_axe(
    page, live_server, run_on_commit, monkeypatch, outcome
):
    import json

    from django.db import DatabaseError

    from certificates.models import VersionCredential
    from certificates.services import credentials

    certificate = off_the_loop(scored_certificate, run_on_commit)
    document = VersionCredential.objects.get(version=certificate.current_version).document
    if outcome == "tampered":
        document["credentialSubject"]["name"] = "Someone Else"
    if outcome == "status_unknown":

        def unreadable(**kwargs):
            raise DatabaseError("status list row unreadable")

        monkeypatch.setattr(credentials, "status_list_credential", unreadable)
    expected = {"status_unknown": "Status could not be checked", "tampered": "Not genuine", "valid": "Valid"}
    for width in WIDTHS:
        open_at(page, f"{live_server.url}/verify/file/", width)
        page.get_by_label("Certificate PDF or credential JSON").set_input_files(
            {"name": "credential.json", "mimeType": "application/json", "buffer": json.dumps(document).encode()}
        )
        page.get_by_role("button", name="Check the file").click()
        page.get_by_role("link", name="Check another file").wait_for()
        assert state_shown(page) == expected[outcome]
        check_layout(page, width, f"verify-credential-{outcome}")
