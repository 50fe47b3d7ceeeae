# ruff: noqa: E402
"""Fault drills for Friday at 5 pm: a smaller burst, a fault in the middle, and exact counts after.

    .venv/bin/python bench/drill.py [--count 300] [--workers 2] [--clients 8] [--only NAME ...]
        [--broker orm|redis] [--storage local|s3]

Everything runs on a PostgreSQL cluster of the drill's own (initdb in a temporary directory, another
port, as the postgres user), so that it can be restarted without touching anyone's server: gunicorn
with 2 workers, `manage.py supervise_workers` (the watchdog, running `qcluster`) and an SMTP server in
this process that counts what it receives. Settings are production's with short clocks
(bench/drill_settings.py and CLOCKS below): task timeout 30 s, django-q2 retry 45 s, stuck after
40 s, stall after 40 s, 3 render attempts, email retries from 5 s.

Each drill posts its own learners and passes only if every learner got exactly one email (counted
by the SMTP server) and every certificate ended emailed, plus the drill's own checks. Exit status 1
if any drill failed. Drills: kill-busy, replay, smtp-down, poison, postgres-restart, idle-kill,
two-clusters.

The broker is the ORM's unless ``--broker redis`` (a Redis server of the drill's own, on another port);
files go to a local media folder unless ``--storage s3`` (moto's S3 server, in its own process, with a
bucket of its own). Both apply to every process of the run: web, workers and this one, which counts.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/email.py must not shadow the standard library's email package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import logging
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.drill_faults import POISON
from bench.harness import (
    Inbox,
    ObjectStorage,
    PrivatePostgres,
    PrivateRedis,
    alive,
    bench_env,
    blocked_reading_a_pipe,
    free_port,
    manage,
    own_host_names,
    post_all,
    prepare_database,
    start_web,
    start_worker,
    stop,
    wait_for_port,
)

CLOCKS = {
    # A task may wait out a 10 s database outage (DELIVERY_DATABASE_PATIENCE) before its timeout.
    "Q_TIMEOUT": "30",
    "EMAIL_TIMEOUT": "5",
    "DELIVERY_DATABASE_PATIENCE": "20",
    "DRILL_Q_RETRY": "45",
    "CERTIFICATE_STUCK_AFTER": "40",
    "CERTIFICATE_MAX_ATTEMPTS": "3",
    "WATCHDOG_INTERVAL": "2",
    "WATCHDOG_STALL_AFTER": "40",
    "EMAIL_RETRY_BASE_SECONDS": "5",
    "EMAIL_MAX_ATTEMPTS": "8",
    "Q_LOG_LEVEL": "INFO",  # django-q2 names its workers' pids at INFO
}


class DrillFailed(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise DrillFailed(message)


@dataclass
class Machine:
    """One worker machine: a `supervise_workers` (and the cluster it runs), its log, host name and media folder."""

    name: str
    log: Path
    supervisor: subprocess.Popen
    media: Path
    host: str | None = None


@dataclass
class Drill:
    """One drill's world: the processes, the inbox, and what it found."""

    env: dict[str, str]
    inbox: Inbox
    web_port: int
    logs: Path
    count: int
    clients: int
    pg: PrivatePostgres
    broker: str = "orm"
    storage: ObjectStorage | None = None
    supervisor: object = None
    machines: list[Machine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def start_workers(self, name: str, *, machines: int = 1) -> None:
        """One supervised cluster, as every drill has; or ``machines`` of them, each as if on a machine of
        its own: its own host name (where this process may give one) and, with S3, its own empty media folder."""
        for index in range(machines):
            env, host, tag = self.env, None, name
            if machines > 1:
                host = f"drill-{'abcdefgh'[index]}"
                tag = f"{name}-{host}"
                media = self.logs.parent / f"media-{host}" if self.storage else Path(self.env["MEDIA_ROOT"])
                env = {**self.env, "MEDIA_ROOT": str(media)}
            log = self.logs / f"{tag}-worker.log"
            supervisor = start_worker(env, log, "supervise_workers", host=host if host and own_host_names() else None)
            self.machines.append(Machine(host or name, log, supervisor, Path(env["MEDIA_ROOT"]), host))
        self.supervisor, self.log = self.machines[0].supervisor, self.machines[0].log
        deadline = time.monotonic() + 30
        for machine in self.machines:
            while len(self.worker_pids(machine.log)) < int(self.env["Q_WORKERS"]) and time.monotonic() < deadline:
                time.sleep(0.5)

    def worker_pids(self, log: Path | None = None) -> list[int]:
        """The current cluster's live workers (the first machine's unless ``log``), as django-q2 logs them."""
        text = (log or self.log).read_text(errors="replace").rsplit("Started the cluster", 1)[-1]
        return [int(pid) for pid in re.findall(r"ready for work at (\d+)", text) if alive(int(pid))]

    def post(self, prefix: str, *, run: str | None = None, name_of: Callable[[int], str] | None = None, tries=60):
        return post_all(
            self.web_port, self.count, self.clients, run or prefix, prefix=prefix, tries=tries, name_of=name_of
        )

    def post_in_background(self, prefix: str, **kwargs) -> threading.Thread:
        def run() -> None:
            self.answers = self.post(prefix, **kwargs)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def emails(self, prefix: str) -> Counter:
        return Counter({k: n for k, n in self.inbox.per_learner().items() if k.startswith(prefix)})

    def settle(self, prefix: str, *, expect: int, timeout: float = 300) -> Counter:
        """Wait for ``expect`` learners' emails and certificates emailed; then a few seconds for doubles."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.emails(prefix)) >= expect and db(lambda: emailed(prefix)) == expect:
                break
            time.sleep(1)
        time.sleep(3)  # anything sent twice arrives now
        return self.emails(prefix)


def db(read: Callable[[], object], default=None):
    """A read from this process, on a fresh connection (the server may have restarted under it)."""
    from django.db import DatabaseError, connection

    try:
        return read()
    except DatabaseError:
        return default
    finally:
        connection.close()


def certificates(prefix: str):
    from certificates.models import Certificate

    return Certificate.objects.filter(enrollment__learner__external_id__startswith=prefix)


def emailed(prefix: str) -> int:
    from certificates.models import Pipeline

    return certificates(prefix).filter(pipeline_state=Pipeline.EMAILED).count()


def what_became_of(drill: Drill, prefix: str, emails: Counter) -> str:
    """For a failure: each delivery that did not end sent, and what the SMTP server saw of its learner
    (RCPT TO: a send that started; a whole message: one that arrived)."""
    from delivery.models import Delivery, DeliveryStatus

    rows = db(
        lambda: list(
            Delivery.objects.filter(recipient__startswith=prefix)
            .exclude(status=DeliveryStatus.SENT)
            .values_list("recipient", "status", "attempts", "last_error")
        ),
        [],
    )
    begun = drill.inbox.begun
    return "".join(
        f"; {recipient} {status} after {tries} tries, SMTP saw {begun[recipient.split('@')[0]]} RCPT and"
        f" {emails[recipient.split('@')[0]]} messages: {error[:70]}"
        for recipient, status, tries, error in rows
    )


def exactly_once(drill: Drill, prefix: str, emails: Counter, *, expect: int) -> str:
    """The burst's promise: every learner one email, none lost, none doubled, every certificate emailed."""
    lost = expect - len(emails)
    doubled = sum(n - 1 for n in emails.values())
    done = db(lambda: emailed(prefix))
    states = db(lambda: dict(Counter(certificates(prefix).values_list("pipeline_state", flat=True))))
    check(lost == 0 and doubled == 0, f"emails lost {lost}, doubled {doubled}{what_became_of(drill, prefix, emails)}")
    check(done == expect, f"{done} of {expect} emailed; states {states}{what_became_of(drill, prefix, emails)}")
    return f"{expect} emailed once each, 0 lost, 0 doubled"


# --- the drills ------------------------------------------------------------------------------------


def kill_busy(drill: Drill) -> str:
    """SIGKILL a busy worker every 3 s while the burst is processed."""
    prefix = "kill"
    posting = drill.post_in_background(prefix)
    kills = 0
    while kills < 8 and len(drill.emails(prefix)) < drill.count:
        time.sleep(3)
        busy = [pid for pid in drill.worker_pids() if not blocked_reading_a_pipe(pid)]
        if busy:
            os.kill(busy[0], signal.SIGKILL)
            kills += 1
    posting.join()
    check(kills >= 3, f"only {kills} busy workers found to kill")
    emails = drill.settle(prefix, expect=drill.count, timeout=240)
    return f"{kills} busy workers killed; " + exactly_once(drill, prefix, emails, expect=drill.count)


def replay(drill: Drill) -> str:
    """The LMS sends kill-busy's whole burst again, same webhook ids."""
    from delivery.models import Delivery

    prefix = "kill"
    before = (db(lambda: certificates(prefix).count()), db(lambda: Delivery.objects.count()), drill.emails(prefix))
    _, _, statuses = drill.post(prefix)
    time.sleep(10)  # anything it queued would be sent by now
    after = (db(lambda: certificates(prefix).count()), db(lambda: Delivery.objects.count()), drill.emails(prefix))
    check(statuses == Counter({200: drill.count}), f"answers {dict(statuses)}")
    check(before == after, f"before {before[:2]}, after {after[:2]}")
    return f"{drill.count} answered 200 duplicate; 0 new certificates, deliveries or emails"


def smtp_down(drill: Drill) -> str:
    """The SMTP server refuses connections for 60 s once a quarter of the emails have arrived."""
    from delivery.models import Delivery

    prefix = "smtp"
    posting = drill.post_in_background(prefix)
    while len(drill.emails(prefix)) < drill.count // 4:
        time.sleep(0.2)
    drill.inbox.refuse()
    time.sleep(60)
    drill.inbox.accept()
    posting.join()
    emails = drill.settle(prefix, expect=drill.count, timeout=300)
    retried = db(lambda: Delivery.objects.filter(recipient__startswith=prefix, attempts__gt=1).count())
    check(retried > 0, "no delivery was retried: the outage missed the burst")
    return f"{retried} deliveries retried; " + exactly_once(drill, prefix, emails, expect=drill.count)


def poison(drill: Drill) -> str:
    """One certificate in the burst kills its worker each time it is rendered."""
    from django.conf import settings

    from certificates.models import Pipeline
    from certificates.selectors.health import pipeline_health
    from certificates.services.rendering import GAVE_UP_PREFIX

    prefix, bad = "poison", 7
    started = time.monotonic()
    drill.post(prefix, name_of=lambda index: f"{POISON} Pill" if index == bad else f"Learner {index}")
    emails = drill.settle(prefix, expect=drill.count - 1, timeout=240)
    rest = time.monotonic() - started
    target = f"{prefix}{bad:05d}"

    def gave_up():
        return (
            certificates(prefix)
            .filter(enrollment__learner__external_id=target)
            .values_list("pipeline_state", "attempts", "state_reason")[0]
        )

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (db(gave_up) or ("", 0, ""))[2].startswith(GAVE_UP_PREFIX):
        time.sleep(2)
    state, attempts, reason = db(gave_up)
    check(state == Pipeline.ISSUED and reason.startswith(GAVE_UP_PREFIX), f"poisoned certificate: {state}, {reason}")
    check(attempts == settings.CERTIFICATE_MAX_ATTEMPTS, f"tried {attempts} times")
    shown = db(lambda: {f.label: f.value for f in pipeline_health().last_day}["PDFs that gave up (any time)"])
    check(shown >= 1, "the health page does not show the PDF that gave up")
    check(target not in emails, "the poisoned certificate was emailed")
    summary = exactly_once(drill, prefix, emails, expect=drill.count - 1)
    return (
        f"gave up after {attempts} tries ({shown} on the health page's PDFs that gave up) in"
        f" {time.monotonic() - started:.0f} s; "
        f"the other {summary}, in {rest:.0f} s"
    )


def postgres_restart(drill: Drill) -> str:
    """PostgreSQL stops (immediate: as a crash) for 10 s twice: once a third of the webhooks are
    recorded (the LMS is still posting), and once a third of the emails have arrived (workers are sending)."""
    from learners.models import Enrollment

    prefix = "pg"
    posting = drill.post_in_background(prefix)
    recorded = Enrollment.objects.filter(learner__external_id__startswith=prefix)
    outages = (
        lambda: (db(recorded.count) or 0) >= drill.count // 3,
        lambda: len(drill.emails(prefix)) >= drill.count // 3,
    )
    emailed_before = []
    for reached in outages:
        while not reached():
            time.sleep(0.05)
        emailed_before.append(str(len(drill.emails(prefix))))
        drill.pg.stop("immediate")
        time.sleep(10)
        drill.pg.start()
    posting.join()
    _, sent, statuses = drill.answers
    emails = drill.settle(prefix, expect=drill.count, timeout=300)
    check(500 not in statuses and 503 in statuses, f"answers {dict(statuses)}")
    check(len(sent) == drill.count, f"{len(sent)} webhooks accepted")
    answers = ", ".join(f"{n} × {status}" for status, n in sorted(statuses.items(), key=str))
    return f"stopped with {' then '.join(emailed_before)} emailed; answers {answers}; " + exactly_once(
        drill, prefix, emails, expect=drill.count
    )


def idle_kill(drill: Drill) -> str:
    """Kill the idle worker holding the cluster's queue lock, then post the burst: the cluster freezes."""
    from certificates.models import WorkerStall
    from certificates.selectors.health import pipeline_health

    prefix = "idle"
    deadline = time.monotonic() + 20
    holder = None
    while holder is None and time.monotonic() < deadline:
        holder = next((pid for pid in drill.worker_pids() if blocked_reading_a_pipe(pid)), None)
        time.sleep(0.2)
    check(holder is not None, "no idle worker reading the queue")
    os.kill(holder, signal.SIGKILL)
    started = time.monotonic()
    posting = drill.post_in_background(prefix)
    shown, stalled_for = False, None
    while time.monotonic() - started < 180 and not db(lambda: WorkerStall.objects.exists()):
        shown = shown or bool(db(lambda: pipeline_health().cluster_stalled))
        time.sleep(1)
    stalled_for = time.monotonic() - started
    check(db(lambda: WorkerStall.objects.exists()), "the watchdog did not restart the cluster")
    posting.join()
    emails = drill.settle(prefix, expect=drill.count, timeout=300)
    stall = db(lambda: WorkerStall.objects.values_list("restarts", "resolved_at").first())
    check(stall[1] is not None, "the stall was never marked resolved")
    drill.notes.append(f"idle-kill: health page showed the stall before the restart: {shown}")
    check(shown, "the health page did not show the stall while it lasted")
    return f"restarted after {stalled_for:.0f} s ({stall[0]} restart), health page showed it; " + exactly_once(
        drill, prefix, emails, expect=drill.count
    )


def committed(log: Path, kind: str, ids: set[int]) -> set[int]:
    """The certificates (of ``ids``) whose ``kind`` event a cluster's processes logged (log_event, at INFO)."""
    found = re.findall(rf"certificates\.transitions: certificate (\d+): {kind}\b", log.read_text(errors="replace"))
    return {int(pk) for pk in found} & ids


def files_in(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def two_clusters(drill: Drill) -> str:
    """Two worker clusters, as on two machines (each its own host name, log and, with S3, an empty media
    folder), share the database, the broker and the storage; busy workers of the first are SIGKILLed."""
    from certificates.models import CertificateVersion, WorkerHeartbeat
    from delivery.models import Delivery, DeliveryStatus

    prefix = "two"
    first, second = drill.machines
    started = time.monotonic()
    posting = drill.post_in_background(prefix)
    kills = 0
    while kills < 4 and len(drill.emails(prefix)) < drill.count:
        time.sleep(3)
        busy = [pid for pid in drill.worker_pids(first.log) if not blocked_reading_a_pipe(pid)]
        if busy:
            os.kill(busy[0], signal.SIGKILL)
            kills += 1
    posting.join()
    check(kills >= 1, f"no busy worker of {first.name} found to kill")
    emails = drill.settle(prefix, expect=drill.count, timeout=300)
    took = time.monotonic() - started
    summary = exactly_once(drill, prefix, emails, expect=drill.count)

    # Nothing doubled or left behind in the database: one certificate, one version, one delivery each.
    ids = set(db(lambda: list(certificates(prefix).values_list("pk", flat=True))))
    versions = db(
        lambda: list(
            CertificateVersion.objects.filter(certificate_id__in=ids).values_list("certificate_id", "pdf", "pdf_sha256")
        )
    )
    per_certificate = Counter(pk for pk, _, _ in versions)
    unrendered = sum(1 for _, name, sha256 in versions if not name or not sha256)
    deliveries = db(
        lambda: dict(Counter(Delivery.objects.filter(recipient__startswith=prefix).values_list("status", flat=True)))
    )
    check(len(ids) == drill.count, f"{len(ids)} certificates for {drill.count} learners")
    check(
        len(versions) == drill.count and max(per_certificate.values()) == 1,
        f"{len(versions)} versions, at most {max(per_certificate.values())} for one certificate",
    )
    check(unrendered == 0, f"{unrendered} versions without their PDF")
    check(deliveries == {DeliveryStatus.SENT: drill.count}, f"deliveries {deliveries}")

    # The files: every PDF once, under its version's own name, and nothing on any machine's disk. A
    # second store of one PDF would show as another name for its code (file_overwrite is off).
    pdfs = sorted(name for _, name, _ in versions)
    codes = db(lambda: tuple(f"certificates/{code}-" for code in certificates(prefix).values_list("code", flat=True)))
    if drill.storage is not None:
        stored = [key for key in drill.storage.keys("certificates/") if key.startswith(codes) and key.endswith(".pdf")]
        check(stored == pdfs, f"{len(stored)} PDFs in the bucket for {len(pdfs)} versions")
        folders = {Path(drill.env["MEDIA_ROOT"]), *(machine.media for machine in drill.machines)}
        on_disk = {str(folder): files_in(folder) for folder in folders}
        check(not any(on_disk.values()), f"files on local disk: {on_disk}")
        where = f"{len(stored)} PDFs in the bucket, 0 files on any machine's disk"
    else:
        stored = [name for name in files_in(first.media) if name.startswith(codes) and name.endswith(".pdf")]
        check(stored == pdfs, f"{len(stored)} PDFs in the media folder for {len(pdfs)} versions")
        where = f"{len(stored)} PDFs in the shared media folder"

    # Both machines worked, and no certificate was rendered or emailed by both.
    work = {m.name: (committed(m.log, "rendered", ids), committed(m.log, "emailed", ids)) for m in drill.machines}
    (rendered_a, emailed_a), (rendered_b, emailed_b) = work[first.name], work[second.name]
    check(rendered_a | rendered_b == ids and emailed_a | emailed_b == ids, "a certificate no machine logged")
    check(
        not rendered_a & rendered_b and not emailed_a & emailed_b,
        f"logged by both: {len(rendered_a & rendered_b)} renders, {len(emailed_a & emailed_b)} emails",
    )
    check(all(r and e for r, e in work.values()), f"one machine did nothing: {work}")
    beats = set(db(lambda: list(WorkerHeartbeat.objects.values_list("name", flat=True))))
    if first.host and own_host_names():
        check({f"laurel@{m.host}" for m in drill.machines} <= beats, f"heartbeats {sorted(beats)}")
    else:
        drill.notes.append(f"two-clusters: one host name for both clusters, so one heartbeat: {sorted(beats)}")
    per_machine = "; ".join(f"{name} rendered {len(r)} and emailed {len(e)}" for name, (r, e) in work.items())
    storage = "S3 (moto)" if drill.storage else "local media folder"
    return (
        f"{drill.broker} broker, {storage}; {kills} busy workers of {first.name} SIGKILLed; {per_machine};"
        f" heartbeats {', '.join(sorted(beats))}; {len(ids)} certificates, {len(versions)} versions, {where},"
        f" {drill.count} deliveries sent; {summary}, all in {took:.0f} s"
    )


#: Drills that run more than one supervised cluster, and how many.
MACHINES = {"two-clusters": 2}

DRILLS: dict[str, Callable[[Drill], str]] = {
    "kill-busy": kill_busy,
    "replay": replay,
    "smtp-down": smtp_down,
    "poison": poison,
    "postgres-restart": postgres_restart,
    "idle-kill": idle_kill,
    "two-clusters": two_clusters,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--only", nargs="*", choices=list(DRILLS), help="run these drills (replay needs kill-busy)")
    parser.add_argument("--broker", choices=["orm", "redis"], default="orm", help="django-q2's broker (and the cache)")
    parser.add_argument("--storage", choices=["local", "s3"], default="local", help="where the PDFs go")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="laurel-drill-"))
    logs = workdir / "logs"
    logs.mkdir()
    pg = PrivatePostgres()
    pg.start()
    pg.create_database()
    inbox = Inbox()
    inbox.accept()
    port = free_port()
    env = bench_env(workdir=workdir, web_port=port, smtp_port=inbox.port, database_url=pg.url, workers=args.workers)
    env.update(CLOCKS, DJANGO_SETTINGS_MODULE="bench.drill_settings")
    # The credential keys in the run's own folder, not the checkout's var/: made once, before any
    # process starts, and never by a process itself, as production distributes them (DEPLOY.md).
    env["CREDENTIAL_KEYS_DIR"] = str(workdir / "keys" / "credentials")
    env["CREDENTIAL_KEYS_AUTO_CREATE"] = "false"
    redis = storage = None
    if args.broker == "redis":
        redis = PrivateRedis()
        redis.start()
        env["REDIS_URL"] = redis.url
    if args.storage == "s3":
        storage = ObjectStorage(log=logs / "s3.log")
        storage.start()
        env.update(storage.env)
    prepare_database(env)
    manage(env, "credential_keys", "make")
    os.environ.update(env)  # this process reads the same database to count
    import django

    django.setup()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line per SMTP command

    web = start_web(env, port, logs / "web.log")
    wait_for_port(port)
    results: list[tuple[str, str, str, float]] = []
    try:
        for name in args.only or list(DRILLS):
            drill = Drill(
                env=env,
                inbox=inbox,
                web_port=port,
                logs=logs,
                count=args.count,
                clients=args.clients,
                pg=pg,
                broker=args.broker,
                storage=storage,
            )
            print(f"{name}: {DRILLS[name].__doc__}", flush=True)
            started = time.monotonic()
            drill.start_workers(name, machines=MACHINES.get(name, 1))
            try:
                outcome, detail = "pass", DRILLS[name](drill)
            except DrillFailed as exc:
                outcome, detail = "FAIL", str(exc)
            finally:
                stop([machine.supervisor for machine in drill.machines], grace=8)
            results.append((name, outcome, detail, time.monotonic() - started))
            print(f"  {outcome}: {detail} ({results[-1][3]:.0f} s)", *drill.notes, sep="\n  ", flush=True)
    finally:
        stop([web])
        inbox.refuse()
        pg.destroy()
        for server in (redis, storage):
            if server is not None:
                server.destroy()

    print(
        f"\n{args.count} completions per drill, {args.workers} workers a cluster, {args.broker} broker,"
        f" {args.storage} storage, {os.cpu_count()} cores; logs: {logs}"
    )
    print("| drill | outcome | time | what was counted |\n|---|---|---|---|")
    for name, outcome, detail, seconds in results:
        print(f"| {name} | {outcome} | {seconds:.0f} s | {detail} |")
    return 0 if all(outcome == "pass" for _, outcome, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
