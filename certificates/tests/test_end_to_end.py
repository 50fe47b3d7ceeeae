"""The real worker path: a completion saved here, a separate `qcluster` process does the rest.

completion saved -> certificate rendered and emailed by the worker -> the QR code in the PDF (read
by zbar) decodes to the verify URL -> that URL, fetched over HTTP, names the holder.
"""

import email
import html
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf

from certificates.models import Certificate, Pipeline
from conftest import missing_judge, require_tool
from courses.tests.factories import CourseFactory
from learners.services import enrollment_record_completion
from learners.tests.factories import LearnerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


REDIS_URL = "redis://127.0.0.1:6379/15"


def use_redis_broker(monkeypatch) -> None:
    import redis

    try:
        client = redis.from_url(REDIS_URL)
        client.ping()
    except redis.RedisError as exc:
        missing_judge(f"Redis not reachable at {REDIS_URL} ({exc}); .ci/run starts it")
    client.delete(f"django_q:{Conf.CLUSTER_NAME}:q")  # nothing left over from another run
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)


@pytest.fixture(params=["orm", "redis"])
def worker(request, live_server, tmp_path, monkeypatch):
    """A real django-q2 cluster in its own process group, on the test database and either broker."""
    monkeypatch.setattr(Conf, "SYNC", False)  # this process enqueues; the worker executes
    if request.param == "redis":
        use_redis_broker(monkeypatch)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SITE_URL": live_server.url,
        "EMAIL_URL": f"filemail:///{tmp_path / 'mail'}",
        "Q_WORKERS": "1",
        "DEBUG": "false",
    }
    env.pop("REDIS_URL", None)
    if request.param == "redis":
        env["REDIS_URL"] = REDIS_URL
    log = open(tmp_path / "qcluster.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield tmp_path
    # qcluster can hang on SIGTERM (docs/WATCHDOG.md): ask, then insist.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    log.close()


def wait_for_status(certificate_filter: dict, status: str, timeout: float, log: Path) -> Certificate:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        certificate = Certificate.objects.filter(**certificate_filter).first()
        if certificate is not None and certificate.pipeline_state == status:
            return certificate
        time.sleep(0.5)
    pytest.fail(f"no {status} certificate after {timeout}s; worker log:\n{log.read_text(errors='replace')[-3000:]}")


def test_completion_to_verified_certificate_through_a_real_worker(worker, live_server, tmp_path):
    require_tool("pdftoppm", "zbarimg")
    learner = LearnerFactory(full_name="Siobhán Ní Bhriain", email="siobhan@example.com")
    course = CourseFactory(title="Clinical Ethics")
    enrollment = enrollment_record_completion(learner_id=learner.pk, course_id=course.pk, completed_at=timezone.now())

    certificate = wait_for_status({"enrollment": enrollment}, Pipeline.EMAILED, 90, worker / "qcluster.log")

    [mail_file] = list((worker / "mail").glob("*.log"))
    message = email.message_from_bytes(mail_file.read_bytes().split(b"\n" + b"-" * 79)[0])
    assert message["To"] == "=?utf-8?q?Siobh=C3=A1n_N=C3=AD_Bhriain?= <siobhan@example.com>"
    attachments = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    pdf_path = Path(settings.MEDIA_ROOT) / certificate.current_version.pdf.name
    assert [part.get_payload(decode=True) for part in attachments] == [pdf_path.read_bytes()]

    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf_path), str(tmp_path / "page")], check=True)
    page_png = next(tmp_path.glob("page*.png"))
    scanned = subprocess.run(["zbarimg", "--raw", "-q", str(page_png)], capture_output=True, text=True, check=True)
    verify_url = scanned.stdout.strip()
    assert verify_url == f"{live_server.url}/verify/{certificate.display_code}/"

    with urllib.request.urlopen(verify_url, timeout=10) as response:
        assert response.status == 200
        page = html.unescape(response.read().decode())
    assert "Siobhán Ní Bhriain" in page and "Valid" in page and "Clinical Ethics" in page
