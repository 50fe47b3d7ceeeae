"""The learner's way through the site in a real browser (Debian's Chromium), judged by axe-core.

Ask for a link, read it from the email, open it, press the button, see the certificate, download the
PDF, ask for a name correction: at 375 px (a phone) and 1280 px. Screenshots go to
var/test-artifacts/ for a person to look at; axe-core (rules we did not write) must find nothing
serious or critical on any page.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from certificates.models import Case, CaseKind
from certificates.tests.factories import issued_certificate
from courses.tests.factories import CourseFactory
from learners.tests.factories import LearnerFactory

pytestmark = pytest.mark.django_db(transaction=True)

ARTIFACTS = Path(django_settings.BASE_DIR) / "var" / "test-artifacts"


def serious_findings(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {[n['target'] for n in violation['nodes']]}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def check_layout(page, width: int, name: str) -> None:
    """No sideways scrolling, readable text, tap targets of 44 px at least, no axe findings."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    small = page.eval_on_selector_all(
        "main a.button, main button, header a",
        """els => els.filter(e => e.offsetParent !== null)
                    .map(e => [e.textContent.trim(), e.getBoundingClientRect().height])
                    .filter(([, h]) => h < 44)""",
    )
    assert small == [], (name, small)
    assert serious_findings(page) == [], name


@pytest.mark.parametrize("width,height", [(375, 812), (1280, 800)])
def test_a_learner_signs_in_from_the_email_downloads_and_asks_for_a_correction(
    browser, live_server, settings, mailoutbox, run_on_commit, width, height
):
    settings.SITE_URL = live_server.url  # links in emails point at the server under test
    ada = LearnerFactory(email="ada@example.com", full_name="Ada Lovelace Smiht")
    course = CourseFactory(title="Data Analysis with Python", organisation__name="Northwind Academy")
    certificate = issued_certificate(run_on_commit, learner=ada, course=course)
    mailoutbox.clear()

    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/dashboard/")
        check_layout(page, width, "1-sign-in")
        page.get_by_label("Your email address").fill("ada@example.com")
        page.get_by_role("button", name="Email me a sign-in link").click()
        page.get_by_role("heading", name="Check your email").wait_for()
        check_layout(page, width, "2-check-your-email")

        [message] = mailoutbox
        [link] = re.findall(r"https?://\S+/accounts/link/\?\S+", message.body)
        page.goto(link)
        check_layout(page, width, "3-press-to-sign-in")
        page.get_by_role("button", name="Continue to my certificates").click()
        page.get_by_role("heading", name="My certificates").wait_for()
        assert page.get_by_role("heading", name="Data Analysis with Python").is_visible()
        assert "Valid" in page.locator(".badge.valid").inner_text()
        check_layout(page, width, "4-dashboard")

        with page.expect_download() as download:
            page.get_by_role("link", name="Download PDF").click()
        assert Path(download.value.path()).read_bytes() == certificate.current_version.pdf.read()

        page.get_by_role("link", name="Name wrong? Ask to correct it").click()
        check_layout(page, width, "5-name-correction")
        page.get_by_label("Your name as it should be printed").fill("Ada Lovelace Smith")
        page.get_by_role("button", name="Ask for the correction").click()
        page.get_by_text("staff will check the new name").wait_for()
        assert page.get_by_text("Name correction").first.is_visible()
        check_layout(page, width, "6-after-the-request")
    finally:
        context.close()
    case = Case.objects.get()
    assert (case.kind, case.requested_name, case.learner_id) == (CaseKind.NAME_CORRECTION, "Ada Lovelace Smith", ada.pk)


def test_the_dashboard_works_without_javascript(browser, live_server, run_on_commit):
    ada = LearnerFactory(email="ada@example.com")
    issued_certificate(run_on_commit, learner=ada)
    context = browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=False)
    page = context.new_page()
    try:
        from learners.services.accounts import sign_in_url

        link = sign_in_url(learner_id=ada.pk).replace(django_settings.SITE_URL, live_server.url)
        page.goto(link)
        page.get_by_role("button", name="Continue to my certificates").click()
        page.get_by_role("heading", name="My certificates").wait_for()
        # The copy button needs JavaScript and stays hidden; the link itself is there to select.
        assert not page.get_by_role("button", name="Copy").is_visible()
        assert page.locator("input[readonly]").first.input_value().startswith(django_settings.SITE_URL)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-no-javascript-375.png"), full_page=True)
    finally:
        context.close()
