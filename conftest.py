import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass

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


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3-compatible server (moto's server mode, in a process of its own) on a free port: its URL.

    Our code talks to it over HTTP through boto3 exactly as it would to S3; nothing of boto is mocked.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    # A file, not a pipe: the server logs every request, and a full pipe would stop it.
    log = tmp_path_factory.mktemp("s3-server") / "moto.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()  # noqa: S310 (our own server)
            break
        except OSError:
            if server.poll() is not None:
                missing_judge(f"moto's server did not start (pip install moto[server]): {log.read_text()[-500:]}")
            if time.monotonic() > deadline:
                server.kill()
                missing_judge("moto's server did not answer within 30 s")
            time.sleep(0.1)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@dataclass
class Bucket:
    """A bucket of the test's own on the S3 server, read with boto3 directly (not through our code)."""

    client: object
    name: str

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def object_storage(settings, s3_server):
    """``STORAGES["default"]`` is S3Storage on a fresh bucket of the real server, as production configures it."""
    import boto3

    from config.storage import s3_backend

    keys = {"access_key": "laurel-test", "secret_key": "laurel-test-secret"}
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id=keys["access_key"],
        aws_secret_access_key=keys["secret_key"],
    )
    name = f"laurel-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    backend = s3_backend(bucket_name=name, endpoint_url=s3_server, region_name="us-east-1", **keys)
    settings.STORAGES = {**settings.STORAGES, "default": backend}
    bucket = Bucket(client=client, name=name)
    yield bucket
    for key in bucket.keys():
        client.delete_object(Bucket=name, Key=key)
    client.delete_bucket(Bucket=name)


class SmtpInbox:
    """What a real SMTP server on loopback saw: greetings (EHLO), whole messages and envelopes."""

    def __init__(self):
        self.greetings = 0
        self.messages: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content or envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd), and Django's SMTP backend pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()
