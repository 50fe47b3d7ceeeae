"""The staff desk in a real browser (Debian's Chromium) at 1280 px: a support person signs in, opens
the held queue, fixes a name on the certificate's page, opens a name correction and the health page.
Screenshots go to var/test-artifacts/; nothing may scroll sideways, and axe-core (rules we did not
write) must find nothing serious or critical on the desk's own pages."""

import pytest

from certificates.models import Certificate, Pipeline
from certificates.services.cases import case_open_name_correction
from certificates.tests.factories import issued_certificate, staff_member
from certificates.tests.test_browser import ARTIFACTS, serious_findings

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH = 1280


def _look(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"desk-{name}-{WIDTH}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, name
    findings = serious_findings(page)
    (ARTIFACTS / f"desk-{name}-axe.txt").write_text("\n".join(findings))
    assert findings == [], name


def test_support_works_the_held_queue_and_a_name_correction(browser, live_server, run_on_commit):  # noqa: F811
    staff_member("support", "sam")
    held = issued_certificate(run_on_commit, full_name="Ana \ue000 Lima", email="ana@example.com")
    assert held.pipeline_state == Pipeline.HELD
    certificate = issued_certificate(run_on_commit, full_name="Jon Smtih")
    case = case_open_name_correction(
        learner=certificate.enrollment.learner, certificate_id=certificate.pk, name="Jon Smith", message="a typo"
    )

    context = browser.new_context(viewport={"width": WIDTH, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/")
        page.get_by_label("Username").fill("sam")
        page.get_by_label("Password").fill("pw-for-tests")
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Waiting for you").wait_for()
        _look(page, "1-front-page")

        page.get_by_role("link", name="Held certificates").first.click()
        page.get_by_text("U+E000").wait_for()
        _look(page, "2-held-queue")

        page.get_by_role("link", name=held.display_code).click()
        page.get_by_role("heading", name="Why it is held").wait_for()
        _look(page, "3-held-certificate")
        page.get_by_label("Full name").fill("Ana Lima")
        page.get_by_role("button", name="Save and check again").click()
        page.get_by_text("is issued; its PDF and email follow").wait_for()
        _look(page, "4-certificate-issued")

        page.goto(f"{live_server.url}/admin/certificates/case/{case.pk}/change/")
        page.get_by_role("heading", name="The name").wait_for()
        page.wait_for_function("document.querySelector('img.desk-preview').naturalWidth > 0")
        _look(page, "5-name-correction")

        page.goto(f"{live_server.url}/admin/certificates/certificate/health/")
        page.get_by_role("heading", name="Waiting").wait_for()
        _look(page, "6-health")

        for name, path in [
            ("7-certificates", "certificates/certificate/"),
            ("8-learners", "learners/learner/"),
            ("9-cases", "certificates/case/"),
            ("10-delivery-problems", "certificates/deliveryproblem/"),
        ]:  # every list fits the screen
            page.goto(f"{live_server.url}/admin/{path}")
            page.locator("#changelist").wait_for()
            _look(page, name)
    finally:
        context.close()
    held.refresh_from_db()
    assert held.pipeline_state != Pipeline.HELD and Certificate.objects.get(pk=held.pk).is_public
