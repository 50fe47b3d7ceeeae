# ruff: noqa: E501, E402
"""Verify page benchmark: /verify/<code>/ against a bare one-query view, side by side, under wrk.

    apt-get install wrk
    .venv/bin/python bench/verify.py [--database sqlite|postgres] [--duration 10] [--rounds 2]
        [--database-name laurel_bench_verify] [--port N] [--variant NAME=VALUE ...]

gunicorn with 2 sync workers serves a database set up the way `make run` sets it up (migrate +
seed_demo; SQLite in WAL mode by default, or PostgreSQL on 127.0.0.1). wrk opens 50 connections.
Each round measures the floor (a bare view making one query through the same middleware) and then
the pages; the figure that matters is each page's requests/s as a ratio to the floor of its round.
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


def wrk(url: str, duration: int, connections: int) -> tuple[float, float]:
    """(requests per second, p99 latency in ms) for one wrk run; fails on any non-2xx/3xx answer."""
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx or 3xx responses" in output:
        raise SystemExit(f"{url} answered errors under load:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rate, p99


def main() -> None:
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
    }
    if args.variant:
        # The same code with other settings, served beside it and measured in the same rounds, its
        # floor included: an option is judged against the current code under the same load.
        variant_port = free_port()
        servers.append(serve(variant_port, dict(setting.split("=", 1) for setting in args.variant)))
        pages["floor, variant"] = (f"http://127.0.0.1:{variant_port}", "/bench/bare/", "floor, variant")
        pages["verify, variant"] = (f"http://127.0.0.1:{variant_port}", f"/verify/{code}/", "floor, variant")
    try:
        for base, path, _ in pages.values():
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + path, timeout=5)  # up, and both workers' code paths warm
                    break
                except OSError:
                    time.sleep(0.2)
        print(
            f"database: {args.database}; gunicorn 2 workers; wrk {args.connections} connections, {args.duration} s per run"
        )
        if args.variant:
            print(f"variant: {' '.join(args.variant)}")
        print(f"{'round':>5}  {'page':<20} {'req/s':>8} {'p99 ms':>8} {'x floor':>8}")
        ratios: dict[str, list[float]] = {label: [] for label in pages}
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
                rate, p99 = measured[label]
                floor = measured[pages[label][2]][0]
                ratios[label].append(rate / floor)
                print(f"{round_number:>5}  {label:<20} {rate:>8.0f} {p99:>8.1f} {rate / floor:>8.2f}", flush=True)
        for label, values in ratios.items():
            print(
                f"median {label:<20} {'':>17} {statistics.median(values):>8.2f}   range {min(values):.2f}-{max(values):.2f}"
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
        if args.database == "postgres":
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database_name])


if __name__ == "__main__":
    sys.exit(main())
