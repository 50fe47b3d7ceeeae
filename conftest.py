import shutil

import pytest


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Every test writes PDFs to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run after-commit hand-offs (and django-q2 tasks, which are inline in tests) as they would run."""

    def runner():
        return django_capture_on_commit_callbacks(execute=True)

    return runner


def require_tool(*names: str) -> None:
    """Skip, with the Debian package to install, when an outside judge is missing."""
    packages = {
        "pdftotext": "poppler-utils",
        "pdftoppm": "poppler-utils",
        "pdfinfo": "poppler-utils",
        "zbarimg": "zbar-tools",
    }
    for name in names:
        if shutil.which(name) is None:
            pytest.skip(f"{name} not installed (apt-get install {packages.get(name, name)})")
