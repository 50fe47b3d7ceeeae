# ruff: noqa: E501, E402
"""Verify benchmark: the page /verify/<code>/ and the API /api/verify/<code> against a bare
one-query view, side by side, under wrk.

    apt-get install wrk
    .venv/bin/python bench/verify.py [--database sqlite|postgres] [--duration 10] [--rounds 2]
        [--database-name laurel_bench_verify] [--port N] [--variant NAME=VALUE ...]
    # issue 15's load test: 60 s per target, 50 clients
    .venv/bin/python bench/verify.py --duration 60 --rounds 2 [--database postgres]

gunicorn with 2 sync workers serves a database set up the way `make run` sets it up (migrate +
seed_demo; SQLite in WAL mode by default, or PostgreSQL on 127.0.0.1). wrk opens 50 connections.
Each round measures the floor (a bare view making one query through the same middleware), the page
and the API, one after the other. For each: requests/s, p50 and p99 latency, errors (non-2xx/3xx
answers and socket errors), and as ratios to the floor of its round requests/s and p99. The target
(issue 15): at least 0.8x the floor's requests/s, p99 within 1.5x the floor's, no errors; the exit
status is 1 when a median misses it or any run had an error.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/email.py must not shadow the standard library's email package (urllib needs it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass

#: Issue 15's target for each page against the floor of its round.
TARGET_RATE = 0.8
TARGET_P99 = 1.5

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [str(PYTHON), str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


@dataclass(frozen=True)
class Run:
    rate: float  # requests per second
    p50: float  # ms
    p99: float  # ms
    errors: int  # non-2xx/3xx answers and socket errors (connect, read, write, timeout)
    requests: int
    load: float  # the machine's 1-minute load average when the run ended (it is shared)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, duration: int, connections: int) -> Run:
    """One wrk run; errors are counted, not fatal, so a long run still reports what it measured."""
    output = subprocess.run(
        # wrk's default 2 s timeout would count a slow answer as an error and drop it from the latencies.
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    statuses = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(statuses.group(1)) if statuses else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    if errors:
        print(f"{url} had {errors} errors:\n{output}", file=sys.stderr, flush=True)
    return Run(
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50=_ms(re.search(r"\s50%\s+(\S+)", output).group(1)),
        p99=_ms(re.search(r"\s99%\s+(\S+)", output).group(1)),
        errors=errors,
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        load=os.getloadavg()[0],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    # Others may run this bench at the same time on the same server: each run can have its own database.
    parser.add_argument("--database-name", default="laurel_bench_verify", help="PostgreSQL database (dropped after)")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    parser.add_argument(
        "--variant",
        action="append",
        metavar="NAME=VALUE",
        help="also serve with this environment setting beside the current one, measured in the same rounds",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    workdir = Path(tempfile.mkdtemp(prefix="laurel-bench-verify-"))
    port = args.port or free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "bench.verify_settings",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "MEDIA_ROOT": str(workdir / "media"),
        "EMAIL_URL": f"filemail:////{workdir / 'mail'}",
        # The per-client limit still runs (its cache work is measured); wrk is one client asking a lot.
        "VERIFY_LOOKUPS_PER_IP": "100000000/m",
    }
    env.pop("REDIS_URL", None)
    database_name = args.database_name
    if args.database == "postgres":
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database_name}"
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database_name], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database_name], check=True)
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    code = manage(
        env,
        "shell",
        "-c",
        "from certificates.models import Certificate; print(Certificate.objects.public().first().display_code)",
    ).split()[-1]

    def serve(port: int, extra: dict[str, str]) -> subprocess.Popen:
        return subprocess.Popen(
            [str(GUNICORN), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "config.wsgi"],
            env={**env, **extra},
            cwd=ROOT,
        )

    # label -> (server's address, path, the label of the floor it is measured against)
    servers = [serve(port, {})]
    pages = {
        "floor": (f"http://127.0.0.1:{port}", "/bench/bare/", "floor"),
        "verify page": (f"http://127.0.0.1:{port}", f"/verify/{code}/", "floor"),
        "verify API": (f"http://127.0.0.1:{port}", f"/api/verify/{code}", "floor"),
    }
    if args.variant:
        # The same code with other settings, served beside it and measured in the same rounds, its
        # floor included: an option is judged against the current code under the same load.
        variant_port = free_port()
        servers.append(serve(variant_port, dict(setting.split("=", 1) for setting in args.variant)))
        pages["floor, variant"] = (f"http://127.0.0.1:{variant_port}", "/bench/bare/", "floor, variant")
        pages["verify, variant"] = (f"http://127.0.0.1:{variant_port}", f"/verify/{code}/", "floor, variant")
        pages["API, variant"] = (f"http://127.0.0.1:{variant_port}", f"/api/verify/{code}", "floor, variant")
    try:
        for base, path, _ in pages.values():
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + path, timeout=5)  # up
                    break
                except OSError:
                    time.sleep(0.2)
        for base, path, _ in pages.values():
            # Warm every worker (its first page renders the template and compiles the query), not
            # just the one the probe reached: otherwise round 1's p99 measures start-up.
            wrk(base + path, 2, args.connections)
        print(
            f"database: {args.database}; gunicorn 2 workers; wrk {args.connections} connections, {args.duration} s per run"
        )
        if args.variant:
            print(f"variant: {' '.join(args.variant)}")
        header = f"{'round':>5}  {'page':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'x floor':>8} {'p99 x floor':>12} {'load':>5}"
        print(header)
        runs: dict[str, list[tuple[Run, Run]]] = {label: [] for label in pages}  # (the run, its floor)
        labels = list(pages)
        for round_number in range(1, args.rounds + 1):
            # Rotate and alternate the order: a shared machine drifts, and no page is always first.
            shift = (round_number - 1) % len(labels)
            order = labels[shift:] + labels[:shift]
            order = order if round_number % 2 else order[::-1]
            measured = {
                label: wrk(pages[label][0] + pages[label][1], args.duration, args.connections) for label in order
            }
            for label in labels:
                run, floor = measured[label], measured[pages[label][2]]
                runs[label].append((run, floor))
                print(
                    f"{round_number:>5}  {label:<16} {run.rate:>8.0f} {run.p50:>8.1f} {run.p99:>8.1f} {run.errors:>7}"
                    f" {run.rate / floor.rate:>8.2f} {run.p99 / floor.p99:>12.2f} {run.load:>5.2f}",
                    flush=True,
                )
        missed = False
        for label, pairs in runs.items():
            rates = [run.rate / floor.rate for run, floor in pairs]
            p99s = [run.p99 / floor.p99 for run, floor in pairs]
            errors = sum(run.errors for run, _ in pairs)
            verdict = ""
            if not label.startswith("floor"):
                met = statistics.median(rates) >= TARGET_RATE and statistics.median(p99s) <= TARGET_P99 and not errors
                missed = missed or not met
                verdict = "meets the target" if met else "MISSES the target"
            print(
                f"median {label:<16} x floor {statistics.median(rates):.2f} ({min(rates):.2f}-{max(rates):.2f}),"
                f" p99 x floor {statistics.median(p99s):.2f} ({min(p99s):.2f}-{max(p99s):.2f}),"
                f" errors {errors} of {sum(run.requests for run, _ in pairs)}  {verdict}"
            )
        print(f"target: req/s >= {TARGET_RATE}x the floor's, p99 <= {TARGET_P99}x the floor's, no errors")
        return 1 if missed or any(run.errors for pairs in runs.values() for run, _ in pairs) else 0
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
        if args.database == "postgres":
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database_name])


if __name__ == "__main__":
    sys.exit(main())
