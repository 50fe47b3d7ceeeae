# ruff: noqa: E402
"""Friday at 5 pm: N signed completion webhooks at once, until every certificate email has arrived.

    .venv/bin/python bench/burst.py [--count 2000] [--clients 16] [--workers CORES] [--broker orm|redis]
        [--smtp-delay-ms 0] [--database-name laurel_bench_burst]

Everything is real and on this machine: PostgreSQL (127.0.0.1:5432, user postgres; the database is
dropped and made again), a django-q2 cluster (`manage.py qcluster`, ORM or Redis broker) with N
workers, gunicorn with 2 workers, and an SMTP server on 127.0.0.1 (aiosmtpd, in this process) that
counts what it receives. `--clients` threads post the webhooks (Standard Webhooks signatures, as an
LMS would), each with its own keep-alive connection.

The floor, measured in the same run: the CPU time to render the same N PDFs in one process, divided
by the number of cores (what the machine cannot go below however the work is queued).

Reported: time from the first webhook to the last email and its ratio to the floor; webhook answers
per second and p50/p99 while the burst is processed; webhook-to-email latency p50/p99; worker CPU
seconds per certificate; peak RSS per worker process; emails lost and doubled (both must be 0).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/email.py must not shadow the standard library's email package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import base64
import email
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

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


class Inbox:
    """An SMTP server that records when each message arrived and for whom."""

    def __init__(self, delay: float) -> None:
        from aiosmtpd.controller import Controller

        self.delay = delay
        self.arrivals: list[tuple[float, str]] = []  # (monotonic time, learner id from the To address)
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

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

    def received(self) -> int:
        with self.lock:
            return len(self.arrivals)


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


def post_all(port: int, count: int, clients: int, run: str) -> tuple[list[float], dict[str, float], Counter]:
    """Post every webhook; (latencies in ms, sent time per learner id, answer statuses)."""
    local = threading.local()
    sent: dict[str, float] = {}
    statuses: Counter = Counter()
    completed = datetime.now(UTC).isoformat()

    def post(index: int) -> float:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        learner = f"burst{index:05d}"
        body = json.dumps(
            {
                "learner_id": learner,
                "email": f"{learner}@example.com",
                "name": f"{NAMES[index % len(NAMES)]} {index}",
                "course": COURSE,
                "completed_at": completed,
                "score": 80 + index % 20,
            }
        )
        for attempt in range(5):  # retry on 5xx and network errors with the same id, as an LMS does
            started = time.monotonic()
            try:
                local.connection.request("POST", "/api/lms/completions", body, sign(body, f"msg_{run}_{index}"))
                response = local.connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            statuses[response.status] += 1
            if response.status < 500:
                sent[learner] = started
                return (time.monotonic() - started) * 1000
            time.sleep(0.2 * (attempt + 1))
        raise RuntimeError(f"webhook {index} failed five times")

    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = list(pool.map(post, range(count)))
    return latencies, sent, statuses


FLOOR = """
import os, resource, sys, time
import django
django.setup()
from dataclasses import replace
from datetime import date
from certificates import pdf
names = {names!r}
content = pdf.CertificateContent(holder_name="", course_title="Friday Cohort", organisation_name="Burst Academy",
    issued_on=date.today(), code="ABCD-EFGH-JKMN-PQRS", verify_url="http://127.0.0.1/verify/ABCD-EFGH-JKMN-PQRS/")
pdf.render_pdf(replace(content, holder_name=" ".join(names)))  # every face loaded, as a busy worker has
before = resource.getrusage(resource.RUSAGE_SELF)
for index in range({count}):
    pdf.render_pdf(replace(content, holder_name=f"{{names[index % len(names)]}} {{index}}"))
after = resource.getrusage(resource.RUSAGE_SELF)
print(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
"""


def floor_seconds(env: dict[str, str], count: int) -> float:
    program = FLOOR.format(names=NAMES, count=count)
    cpu = subprocess.run(
        [str(PYTHON), "-c", program], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    return float(cpu) / os.cpu_count()


def process_tree(root: int) -> list[int]:
    children = subprocess.run(["pgrep", "-g", str(os.getpgid(root))], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in children]


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--broker", choices=["orm", "redis"], default="orm")
    parser.add_argument("--smtp-delay-ms", type=float, default=0, help="time the SMTP server takes per message")
    parser.add_argument("--database-name", default="laurel_bench_burst")
    parser.add_argument("--timeout", type=float, default=900, help="give up waiting for emails after this many s")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="laurel-bench-burst-"))
    inbox = Inbox(args.smtp_delay_ms / 1000)
    inbox.controller.start()
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "MEDIA_ROOT": str(workdir / "media"),
        "EMAIL_URL": f"smtp://127.0.0.1:{inbox.port}",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database_name}",
        "LMS_WEBHOOK_SECRETS": SECRET,
        "Q_WORKERS": str(args.workers),
        "PDF_SIGNING_KEY": str(workdir / "keys" / "signing.key"),
        "PDF_SIGNING_CERT": str(workdir / "keys" / "signing.crt"),
    }
    env.pop("REDIS_URL", None)
    if args.broker == "redis":
        env["REDIS_URL"] = "redis://127.0.0.1:6379/14"
        subprocess.run(["redis-cli", "-n", "14", "flushdb"], check=True, capture_output=True)
    for command in (["dropdb", "--if-exists"], ["createdb"]):
        subprocess.run([*command, "-h", "127.0.0.1", "-U", "postgres", args.database_name], check=True)

    def manage(*command: str) -> str:
        return subprocess.run(
            [str(PYTHON), "manage.py", *command], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout

    manage("migrate", "--noinput")
    manage("prepare_signing")
    manage(
        "shell",
        "-c",
        "from courses.models import Course, Organisation; "
        "org = Organisation.objects.create(name='Burst Academy', slug='burst'); "
        f"Course.objects.create(organisation=org, slug='{COURSE}', title='Friday Cohort')",
    )
    print(f"floor: rendering {args.count} PDFs in one process...", flush=True)
    floor = floor_seconds(env, args.count)

    logs = workdir / "logs"
    logs.mkdir()
    web = subprocess.Popen(
        [str(GUNICORN), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "config.wsgi"],
        env=env,
        cwd=ROOT,
        stdout=open(logs / "web.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [str(PYTHON), "manage.py", "qcluster"],
        env=env,
        cwd=ROOT,
        stdout=open(logs / "worker.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(3)  # the cluster's workers start
        cpu_before = sum(cpu_seconds(pid) for pid in process_tree(worker.pid))
        print(f"posting {args.count} webhooks from {args.clients} clients...", flush=True)
        started = time.monotonic()
        latencies, sent, statuses = post_all(port, args.count, args.clients, run=str(int(time.time())))
        posted = time.monotonic() - started
        peaks: dict[int, float] = {}
        deadline = time.monotonic() + args.timeout
        while inbox.received() < args.count and time.monotonic() < deadline:
            for pid in process_tree(worker.pid):
                peaks[pid] = max(peaks.get(pid, 0.0), peak_rss_mb(pid))
            time.sleep(0.5)
        time.sleep(2)  # anything sent twice arrives now
        worker_cpu = sum(cpu_seconds(pid) for pid in process_tree(worker.pid)) - cpu_before
    finally:
        for process in (web, worker):
            os.killpg(process.pid, signal.SIGINT)
        time.sleep(3)
        for process in (web, worker):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        inbox.controller.stop()

    arrivals = list(inbox.arrivals)
    per_learner = Counter(learner for _, learner in arrivals)
    first_arrival = {}
    for at, learner in sorted(arrivals):
        first_arrival.setdefault(learner, at)
    last = max(at for at, _ in arrivals) - started if arrivals else float("inf")
    lost = args.count - len(per_learner)
    doubled = sum(count - 1 for count in per_learner.values() if count > 1)
    end_to_end = [(first_arrival[learner] - sent[learner]) * 1000 for learner in first_arrival if learner in sent]
    rss = [mb for mb in peaks.values() if mb > 0]
    print(
        f"\n{args.count} completions, {args.workers} workers ({args.broker} broker), {os.cpu_count()} cores,"
        f" SMTP {args.smtp_delay_ms:.0f} ms per message"
    )
    print(f"  floor (render CPU / cores): {floor:.1f} s")
    print(f"  last email after {last:.1f} s: {last / floor:.2f}x the floor")
    print(
        f"  webhooks: {args.count / posted:.0f}/s accepted, p50 {percentile(latencies, 0.5):.0f} ms,"
        f" p99 {percentile(latencies, 0.99):.0f} ms; answers {dict(statuses)}"
    )
    if end_to_end:
        print(
            f"  webhook to email: p50 {percentile(end_to_end, 0.5) / 1000:.1f} s,"
            f" p99 {percentile(end_to_end, 0.99) / 1000:.1f} s"
        )
    print(f"  worker CPU per certificate: {worker_cpu / args.count * 1000:.0f} ms")
    if rss:
        print(f"  peak RSS per worker process: median {statistics.median(rss):.0f} MB, max {max(rss):.0f} MB")
    print(f"  emails lost: {lost}, doubled: {doubled}")
    print(f"  logs: {logs}")


if __name__ == "__main__":
    main()
