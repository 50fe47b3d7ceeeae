import os
import shutil

import pytest


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Every test writes PDFs to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _isolated_credential_keys(settings, tmp_path):
    """Every test signs credentials with keys of its own."""
    settings.CREDENTIAL_KEYS_DIR = tmp_path / "credential-keys"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits count in the cache: each test starts with none spent."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run after-commit hand-offs (and django-q2 tasks, which are inline in tests) as they would run."""

    def runner():
        return django_capture_on_commit_callbacks(execute=True)

    return runner


def missing_judge(reason: str) -> None:
    """An outside judge (poppler, zbar, Chromium, Redis) is not here: skip locally, fail in CI.

    CI (``CI`` set, as .ci/run runs) installs and starts every judge, so a skip there would hide a
    test that never ran.
    """
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"CI must run this test, but {reason}")
    pytest.skip(reason)


def require_tool(*names: str) -> None:
    """Skip (fail in CI), with the Debian package to install, when an outside judge is missing."""
    packages = {
        "pdftotext": "poppler-utils",
        "pdftoppm": "poppler-utils",
        "pdfinfo": "poppler-utils",
        "zbarimg": "zbar-tools",
        "chromium": "chromium",
    }
    for name in names:
        if shutil.which(name) is None:
            missing_judge(f"{name} not installed (apt-get install {packages.get(name, name)}; .ci/run installs it)")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, started once for a module's tests (each opens its own context)."""
    require_tool("chromium")
    from playwright import sync_api

    from certificates.tests.test_email import BROWSER_ARGS

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes between
    # browser steps are still synchronous and safe.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=BROWSER_ARGS)
            try:
                yield launched
            finally:
                launched.close()


@pytest.fixture(autouse=True)
def _no_lookup_counts_left_over():
    """Lookup counts wait in process memory; one test's must not be written during another's."""
    from certificates.services import lookups

    lookups._pending.clear()
    yield
    lookups._pending.clear()
