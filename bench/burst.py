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
per second and p50/p99 while the burst is processed; webhook-to-email latency p50/p99; CPU seconds
and SQL statements per certificate (workers and web apart); peak RSS per worker process; emails lost
and doubled (both must be 0).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/email.py must not shadow the standard library's email package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections import Counter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.harness import (
    NAMES,
    PYTHON,
    ROOT,
    Inbox,
    bench_env,
    free_port,
    peak_rss_mb,
    percentile,
    post_all,
    prepare_database,
    process_tree,
    start,
    start_web,
    start_worker,
    stop,
    wait_for_port,
)

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

# Loaded by every web and worker process of the run (a sitecustomize on PYTHONPATH): counts the SQL
# statements each process sends through Django and keeps the running total in a file of its own.
COUNT_QUERIES = """
import os, sys
_dir = os.environ.get("BENCH_QUERY_DIR")
if _dir:
    from django.db.backends.signals import connection_created
    _role = "worker" if "qcluster" in " ".join(sys.argv) else "web"
    _state = {"fd": None, "count": 0}

    def _count(execute, sql, params, many, context):
        if _state["fd"] is None or _state.get("pid") != os.getpid():  # forked: a file of its own
            _state.update(pid=os.getpid(), count=0,
                          fd=os.open(os.path.join(_dir, f"{_role}-{os.getpid()}"), os.O_WRONLY | os.O_CREAT, 0o644))
        _state["count"] += 1
        os.pwrite(_state["fd"], b"%20d" % _state["count"], 0)
        return execute(sql, params, many, context)

    def _wrap(sender, connection, **kwargs):
        if _count not in connection.execute_wrappers:
            connection.execute_wrappers.append(_count)

    connection_created.connect(_wrap, weak=False)
"""


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of a process group, with its finished children's (django-q2 recycles a worker after
    500 tasks: its time then moves to the sentinel's children's counts and would be missed)."""
    total = 0.0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def database_backends(name: str) -> list[int]:
    sql = f"select pid from pg_stat_activity where datname = '{name}'"
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", sql],
        capture_output=True,
        text=True,
    ).stdout
    return [int(pid) for pid in out.split()]


def signed_credentials(name: str) -> int:
    sql = "select count(*) from certificates_versioncredential where document is not null"
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", name, "-Atc", sql], capture_output=True, text=True
    ).stdout
    return int(out.strip() or 0)


def own_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def query_counts(directory: Path) -> dict[str, int]:
    """Statements sent so far, summed over the run's web and worker processes."""
    totals = {"web": 0, "worker": 0}
    for file in directory.iterdir():
        text = file.read_text().strip()
        if text:
            totals[file.name.split("-")[0]] += int(text)
    return totals


def floor_seconds(env: dict[str, str], count: int) -> float:
    program = FLOOR.format(names=NAMES, count=count)
    cpu = subprocess.run(
        [str(PYTHON), "-c", program], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    return float(cpu) / os.cpu_count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--broker", choices=["orm", "redis"], default="orm")
    parser.add_argument("--smtp-delay-ms", type=float, default=0, help="time the SMTP server takes per message")
    parser.add_argument("--database-name", default="laurel_bench_burst")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="run the cluster under nice -n this (10: as supervise_workers runs it, WORKER_NICE; 0: not)",
    )
    parser.add_argument("--timeout", type=float, default=900, help="give up waiting for emails after this many s")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="laurel-bench-burst-"))
    inbox = Inbox(args.smtp_delay_ms / 1000)
    inbox.accept()
    port = free_port()
    env = bench_env(
        workdir=workdir,
        web_port=port,
        smtp_port=inbox.port,
        database_url=f"postgres://postgres@127.0.0.1:5432/{args.database_name}",
        workers=args.workers,
    )
    if args.broker == "redis":
        env["REDIS_URL"] = "redis://127.0.0.1:6379/14"
        subprocess.run(["redis-cli", "-n", "14", "flushdb"], check=True, capture_output=True)
    for command in (["dropdb", "--if-exists"], ["createdb"]):
        subprocess.run([*command, "-h", "127.0.0.1", "-U", "postgres", args.database_name], check=True)

    prepare_database(env)
    print(f"floor: rendering {args.count} PDFs in one process...", flush=True)
    floor = floor_seconds(env, args.count)

    logs = workdir / "logs"
    logs.mkdir()
    site = workdir / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(COUNT_QUERIES)
    queries = workdir / "queries"
    queries.mkdir()
    env = {**env, "PYTHONPATH": f"{site}{os.pathsep}{env['PYTHONPATH']}", "BENCH_QUERY_DIR": str(queries)}
    web = start_web(env, port, logs / "web.log")
    if args.worker_nice:
        command = ["nice", "-n", str(args.worker_nice), str(PYTHON), "manage.py", "qcluster"]
        worker = start(command, env, logs / "worker.log")
    else:
        worker = start_worker(env, logs / "worker.log")
    try:
        wait_for_port(port)
        time.sleep(3)  # the cluster's workers start
        cpu_before = tree_cpu_seconds(worker.pid)
        web_cpu_before = tree_cpu_seconds(web.pid)
        queries_before = query_counts(queries)
        # PostgreSQL's backends for this database: the last CPU reading of each, sampled while waiting.
        database_cpu = {pid: own_cpu_seconds(pid) for pid in database_backends(args.database_name)}
        database_before = dict(database_cpu)
        print(f"posting {args.count} webhooks from {args.clients} clients...", flush=True)
        started = time.monotonic()
        latencies, sent, statuses = post_all(port, args.count, args.clients, run=str(int(time.time())))
        posted = time.monotonic() - started
        peaks: dict[int, float] = {}
        deadline = time.monotonic() + args.timeout
        while inbox.received() < args.count and time.monotonic() < deadline:
            for pid in process_tree(worker.pid):
                peaks[pid] = max(peaks.get(pid, 0.0), peak_rss_mb(pid))
            for pid in database_backends(args.database_name):
                database_cpu[pid] = max(database_cpu.get(pid, 0.0), own_cpu_seconds(pid))
            time.sleep(0.5)
        time.sleep(2)  # anything sent twice arrives now
        worker_cpu = tree_cpu_seconds(worker.pid) - cpu_before
        # The Open Badges credentials are queued behind the emails: the burst's work ends with them.
        while signed_credentials(args.database_name) < args.count and time.monotonic() < deadline:
            time.sleep(0.5)
        credentials_done = time.monotonic() - started
        all_worker_cpu = tree_cpu_seconds(worker.pid) - cpu_before
        web_cpu = tree_cpu_seconds(web.pid) - web_cpu_before
        queries_after = query_counts(queries)
        for pid in database_backends(args.database_name):
            database_cpu[pid] = max(database_cpu.get(pid, 0.0), own_cpu_seconds(pid))
        database_seconds = sum(database_cpu.values()) - sum(database_before.values())
    finally:
        stop([web, worker])
        inbox.refuse()

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
        f" SMTP {args.smtp_delay_ms:.0f} ms per message",
        f"workers at nice {args.worker_nice}" if args.worker_nice else "",
    )
    print(f"  floor (render CPU / cores): {floor:.1f} s")
    print(f"  last email after {last:.1f} s: {last / floor:.2f}x the floor")
    print(
        f"  every credential signed after {credentials_done:.1f} s (queued behind the emails);"
        f" worker CPU per certificate with them: {all_worker_cpu / args.count * 1000:.0f} ms"
    )
    print(
        f"  webhooks: {args.count / posted:.0f}/s accepted, p50 {percentile(latencies, 0.5):.0f} ms,"
        f" p99 {percentile(latencies, 0.99):.0f} ms; answers {dict(statuses)}"
    )
    if end_to_end:
        print(
            f"  webhook to email: p50 {percentile(end_to_end, 0.5) / 1000:.1f} s,"
            f" p99 {percentile(end_to_end, 0.99) / 1000:.1f} s"
        )
    print(
        f"  CPU per certificate until the last email: workers {worker_cpu / args.count * 1000:.0f} ms,"
        f" web {web_cpu / args.count * 1000:.0f} ms, PostgreSQL {database_seconds / args.count * 1000:.0f} ms"
        f" (all three against {last * os.cpu_count() / args.count * 1000:.0f} ms of cores per certificate)"
    )
    web_queries, worker_queries = (queries_after[role] - queries_before[role] for role in ("web", "worker"))
    print(
        f"  SQL statements per certificate: workers {worker_queries / args.count:.1f} (broker polling included),"
        f" web {web_queries / args.count:.1f}"
    )
    if rss:
        print(f"  peak RSS per worker process: median {statistics.median(rss):.0f} MB, max {max(rss):.0f} MB")
    print(f"  emails lost: {lost}, doubled: {doubled}")
    print(f"  logs: {logs}")


if __name__ == "__main__":
    main()
