"""What bench/burst.py and bench/drill.py share: a counting SMTP server, signed LMS webhooks from many
clients, the web and worker processes, a PostgreSQL cluster of our own, and /proc readings.

Imported as ``bench.harness`` with the project root on ``sys.path`` (bench/email.py must not shadow the
standard library's email package, so the bench directory itself is kept off it).
"""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
SECRET = "whsec_" + base64.b64encode(b"burst-benchmark-secret-32-bytes!").decode()
COURSE = "friday-cohort"
NAMES = ["Zoë Ångström", "Иван Петров", "محمد عبد الله", "李小龙", "José Niño", "Ngozi Adichie", "अनुष्का शर्मा"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def wait_for_port(port: int, *, attempts: int = 100) -> None:
    for _ in range(attempts):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)


class Inbox:
    """An SMTP server that records when each message arrived and for whom.

    ``refuse()`` closes the port (connections are refused, as from a server that is down) and
    ``accept()`` opens it again on the same port.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.arrivals: list[tuple[float, str]] = []  # (monotonic time, learner id from the To address)
        self.begun: Counter = Counter()  # learner ids named in RCPT TO: a send that started, whether or not it ended
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        envelope.rcpt_tos.append(address)
        with self.lock:
            self.begun[address.split("@")[0]] += 1
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)  # an ESP that takes its time per message
        message = email.message_from_bytes(envelope.content)
        if message.get_content_type() == "multipart/mixed" or message.is_multipart():
            for recipient in envelope.rcpt_tos:
                with self.lock:
                    self.arrivals.append((time.monotonic(), recipient.split("@")[0]))
        return "250 OK"

    def accept(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def refuse(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def received(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def per_learner(self) -> Counter:
        with self.lock:
            return Counter(learner for _, learner in self.arrivals)


def sign(body: str, msg_id: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def learner_id(index: int, prefix: str = "burst") -> str:
    return f"{prefix}{index:05d}"


def post_all(
    port: int,
    count: int,
    clients: int,
    run: str,
    *,
    prefix: str = "burst",
    tries: int = 5,
    name_of: Callable[[int], str] | None = None,
) -> tuple[list[float], dict[str, float], Counter]:
    """Post every webhook; (latencies in ms, sent time per learner id, answer statuses).

    Like an LMS, a 5xx or a network error is retried with the same webhook id, after the answer's
    Retry-After if it has one (at most 5 s), up to ``tries`` times.
    """
    local = threading.local()
    sent: dict[str, float] = {}
    statuses: Counter = Counter()
    completed = datetime.now(UTC).isoformat()

    def post(index: int) -> float:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        learner = learner_id(index, prefix)
        body = json.dumps(
            {
                "learner_id": learner,
                "email": f"{learner}@example.com",
                "name": name_of(index) if name_of else f"{NAMES[index % len(NAMES)]} {index}",
                "course": COURSE,
                "completed_at": completed,
                "score": 80 + index % 20,
            }
        )
        for attempt in range(tries):
            started = time.monotonic()
            try:
                local.connection.request("POST", "/api/lms/completions", body, sign(body, f"msg_{run}_{index}"))
                response = local.connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                statuses["network error"] += 1
                time.sleep(0.2 * (attempt + 1))
                continue
            statuses[response.status] += 1
            if response.status < 500:
                sent[learner] = started
                return (time.monotonic() - started) * 1000
            retry_after = response.getheader("Retry-After")
            time.sleep(min(float(retry_after), 5.0) if retry_after else 0.2 * (attempt + 1))
        raise RuntimeError(f"webhook {index} failed {tries} times")

    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = list(pool.map(post, range(count)))
    return latencies, sent, statuses


def bench_env(*, workdir: Path, web_port: int, smtp_port: int, database_url: str, workers: int) -> dict[str, str]:
    """The environment every process of a run shares (settings as production reads them)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{web_port}",
        "MEDIA_ROOT": str(workdir / "media"),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "DATABASE_URL": database_url,
        "LMS_WEBHOOK_SECRETS": SECRET,
        "Q_WORKERS": str(workers),
        "PDF_SIGNING_KEY": str(workdir / "keys" / "signing.key"),
        "PDF_SIGNING_CERT": str(workdir / "keys" / "signing.crt"),
    }
    env.pop("REDIS_URL", None)
    return env


def manage(env: dict[str, str], *command: str) -> str:
    return subprocess.run(
        [str(PYTHON), "manage.py", *command], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def prepare_database(env: dict[str, str]) -> None:
    """Migrate, make the signing key and the burst's course."""
    manage(env, "migrate", "--noinput")
    manage(env, "prepare_signing")
    manage(
        env,
        "shell",
        "-c",
        "from courses.models import Course, Organisation; "
        "org = Organisation.objects.create(name='Burst Academy', slug='burst'); "
        f"Course.objects.create(organisation=org, slug='{COURSE}', title='Friday Cohort')",
    )


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A process in a session of its own, so that its whole group can be signalled at once."""
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def start_web(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    return start(
        [str(GUNICORN), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "config.wsgi"], env, log
    )


def start_worker(env: dict[str, str], log: Path, *command: str, host: str | None = None) -> subprocess.Popen:
    """``manage.py qcluster`` by default; e.g. ``supervise_workers`` instead.

    With ``host`` (as root only), the process and its children run in a UTS namespace of their own with
    that host name, as on a machine of its own: the watchdog keys its heartbeat by host name."""
    manage_py = [str(PYTHON), "manage.py", *(command or ("qcluster",))]
    if host is None:
        return start(manage_py, env, log)
    # unshare and sh exec in turn: the process started is the one that runs manage.py, same pid.
    return start(["unshare", "--uts", "--", "sh", "-c", 'hostname "$0" && exec "$@"', host, *manage_py], env, log)


def own_host_names() -> bool:
    """Can processes be given host names of their own (``start_worker(host=...)``)?"""
    return os.geteuid() == 0 and shutil.which("unshare") is not None


def stop(processes: Iterable[subprocess.Popen], grace: float = 3.0) -> None:
    """SIGINT to each process group, SIGKILL to whatever is left after ``grace`` seconds."""
    processes = list(processes)
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    time.sleep(grace)
    for process in processes:
        for group in {process.pid, *cluster_groups(process.pid)}:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass


def cluster_groups(pid: int) -> list[int]:
    """Process groups led by children of ``pid`` (the supervisor starts its cluster in a new session)."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in children if _stat(int(child)) and int(_stat(int(child))[2]) == int(child)]


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return bool(fields) and fields[0] not in ("Z", "X")


def process_tree(root: int) -> list[int]:
    children = subprocess.run(["pgrep", "-g", str(os.getpgid(root))], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in children]


def cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    if not fields:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def blocked_reading_a_pipe(pid: int) -> bool:
    """An idle django-q2 worker waits on the cluster's task queue (a pipe); a busy one does not."""
    try:
        return "pipe_read" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in a temporary directory, another port, run as the
    ``postgres`` user), so that it can be stopped and started without touching anyone else's server."""

    def __init__(self) -> None:
        self.bin = Path(
            subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        )
        self.dir = Path(tempfile.mkdtemp(prefix="laurel-drill-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/laurel_drill"

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd=self.dir)

    def start(self) -> None:
        # fsync off: a drill's data need not survive the machine, only the server's restart.
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self) -> None:
        subprocess.run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "laurel_drill"],
            check=True,
        )

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A Redis server of our own (another port, nothing saved to disk), so that a run neither reads nor
    flushes a queue someone else is using on the machine's Redis."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="laurel-drill-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = start([*command, "--dir", str(self.dir)], dict(os.environ), self.dir / "redis.log")
        wait_for_port(self.port)

    def destroy(self) -> None:
        if self.process is not None:
            stop([self.process], grace=1)
        shutil.rmtree(self.dir, ignore_errors=True)


class ObjectStorage:
    """An S3-compatible server of our own (moto's server mode, in its own process, as the storage tests
    start it: conftest.py's ``s3_server``) with one bucket; ``env`` is what every process needs to use it."""

    ACCESS_KEY, SECRET_KEY, REGION = "laurel-drill", "laurel-drill-secret", "us-east-1"

    def __init__(self, bucket: str = "laurel-drill", log: Path | None = None) -> None:
        self.bucket = bucket
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="laurel-drill-s3-"))
        self.log = log or self.dir / "moto.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_STORAGE_BUCKET_NAME": self.bucket,
            "AWS_S3_ENDPOINT_URL": self.url,
            "AWS_S3_REGION_NAME": self.REGION,
            "AWS_ACCESS_KEY_ID": self.ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": self.SECRET_KEY,
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=self.REGION,
            aws_access_key_id=self.ACCESS_KEY,
            aws_secret_access_key=self.SECRET_KEY,
        )

    def start(self) -> None:
        command = [str(PYTHON), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        # A file, not a pipe: the server logs every request, and a full pipe would stop it.
        self.process = start(command, dict(os.environ), self.log)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.client().create_bucket(Bucket=self.bucket)
                return
            except Exception as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.log.read_text()[-500:]
                    raise RuntimeError(f"moto's server did not start: {log}") from exc
                time.sleep(0.2)

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def destroy(self) -> None:
        if self.process is not None:
            stop([self.process], grace=1)
        shutil.rmtree(self.dir, ignore_errors=True)
