# ruff: noqa: E501
"""Import benchmark: a 50,000-row generic export into a fresh database, on SQLite and PostgreSQL.

    .venv/bin/python bench/import.py [--rows 50000] [--only sqlite|postgres] [--pg-database NAME] [--profile FILE]

Each run migrates a throw-away database, creates the courses, then times `import_completions` in a
child process and reports rows per second and that process's peak RSS. PostgreSQL: the server on
127.0.0.1:5432 (user postgres), database laurel_bench (or --pg-database / BENCH_PG_DATABASE, so two
people can run it at once), dropped and recreated. ``--profile FILE`` writes a cProfile of the first
import's child (one file per database: FILE.sqlite, FILE.postgres); read it with ``python -m pstats``.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
COURSES = ["intro-django", "data-analysis", "clinical-ethics", "sql-basics", "ml-101"]
NAMES = ["Zoë Ångström", "Иван Петров", "محمد عبد الله", "李小龙", "José Niño", "Ngozi Adichie", "Søren Hansen"]

CHILD = """
import cProfile, resource, sys, time
import django
django.setup()
from django.core.management import call_command
profile = cProfile.Profile() if len(sys.argv) > 2 else None
started, cpu = time.perf_counter(), time.process_time()
if profile:
    profile.enable()
try:
    call_command("import_completions", sys.argv[1])
except SystemExit:
    pass
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
if profile:
    profile.disable()
    profile.dump_stats(sys.argv[2])
print(f"ELAPSED {elapsed:.3f} RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} CPU {cpu:.3f}", file=sys.stderr)
"""


#: The floor: what any importer must do, in plain Python: read the CSV, validate each field, and
#: insert every row into SQLite in one transaction (no ORM, no learners, no certificates).
FLOOR = """
import csv, re, sqlite3, sys, time
from datetime import datetime
from decimal import Decimal
email = re.compile(r"^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$")
started, cpu = time.perf_counter(), time.process_time()
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE completion (learner_id TEXT PRIMARY KEY, email TEXT, name TEXT, course TEXT, completed_at TEXT, score TEXT, cohort TEXT)")
rows = []
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    reader = csv.reader(handle)
    next(reader)
    for learner_id, address, name, course, completed, score, cohort, _hours in reader:
        assert learner_id.strip() and email.match(address.strip()) and name.strip()
        when = datetime.fromisoformat(completed)
        points = Decimal(score)
        assert 0 <= points <= 100
        rows.append((learner_id.strip(), address.strip().lower(), " ".join(name.split()), course, when.isoformat(), str(points), cohort))
with db:
    db.executemany("INSERT INTO completion VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
print(f"ELAPSED {time.perf_counter() - started:.3f} CPU {time.process_time() - cpu:.3f}", file=sys.stderr)
"""


def floor_seconds(export: Path, tmp: str) -> tuple[float, float]:
    """The floor's best of three (wall seconds, CPU seconds), run just before what it is compared with:
    the machine is shared, and its speed drifts over a run."""
    runs = []
    for _ in range(3):
        child = subprocess.run(
            [PYTHON, "-c", FLOOR, str(export), f"{tmp}/floor-{time.monotonic_ns()}.sqlite3"],
            check=True,
            capture_output=True,
            text=True,
        )
        words = child.stderr.split()
        runs.append((float(words[1]), float(words[3])))
    return min(wall for wall, _ in runs), min(cpu for _, cpu in runs)


def write_export(path: Path, rows: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learner_id", "email", "full_name", "course", "completed_at", "score", "cohort", "Hours"])
        for i in range(rows):
            writer.writerow(
                [
                    f"bench-{i:06d}",
                    f"learner{i}@example.org",
                    f"{NAMES[i % len(NAMES)]} {i}",
                    COURSES[i % len(COURSES)],
                    f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:15:00+00:00",
                    50 + i % 51,
                    "Autumn 2026",
                    12,
                ]
            )


def run(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True, **kwargs)


def bench(label: str, database_url: str, export: Path, rows: int, tmp: str, profile: str = "") -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "LOG_LEVEL": "WARNING",
        "Q_LOG_LEVEL": "WARNING",
        "DEBUG": "false",
    }
    run(env, "manage.py", "migrate", "--noinput")
    run(
        env,
        "manage.py",
        "shell",
        "-c",
        (
            "from courses.models import Course, Organisation\n"
            "org, _ = Organisation.objects.get_or_create(slug='bench', defaults={'name': 'Bench Academy'})\n"
            f"[Course.objects.get_or_create(slug=s, defaults={{'title': s, 'organisation': org}}) for s in {COURSES!r}]"
        ),
    )
    for run_label in ("first import", "same file again"):
        floor, floor_cpu = floor_seconds(export, tmp)
        profiling = [profile] if profile and run_label == "first import" else []
        started = time.perf_counter()
        child = run(env, "-c", CHILD, str(export), *profiling)
        wall = time.perf_counter() - started
        stats = child.stderr.strip().splitlines()[-1].split()
        elapsed, rss, cpu = float(stats[1]), stats[3], float(stats[5])
        summary = child.stdout.strip().splitlines()[-1]
        print(
            f"{label}, {run_label}: {rows} rows in {elapsed:.2f} s ({rows / elapsed:,.0f} rows/s; {wall:.1f} s with start-up), "
            f"floor {floor:.2f} s: {elapsed / floor:.1f}x the floor; CPU {cpu:.2f} s against {floor_cpu:.2f} s: "
            f"{cpu / floor_cpu:.1f}x; peak RSS {rss} MB"
        )
        print(f"  {summary}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--pg-database", default=os.environ.get("BENCH_PG_DATABASE", "laurel_bench"))
    parser.add_argument("--profile", default="", help="cProfile the first import into FILE.sqlite / FILE.postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "completions.csv"
        write_export(export, args.rows)
        print(f"export: {export.stat().st_size / 1e6:.1f} MB, {args.rows} rows")
        print("floor: csv + validation + one sqlite3 executemany, best of 3 just before each import")
        if args.only in (None, "sqlite"):
            profile = f"{args.profile}.sqlite" if args.profile else ""
            bench("SQLite", f"sqlite:///{tmp}/bench.sqlite3", export, args.rows, tmp, profile)
        if args.only in (None, "postgres"):
            admin = ["-h", "127.0.0.1", "-U", "postgres"]
            name = args.pg_database
            subprocess.run(["dropdb", *admin, "--if-exists", name], check=True)
            subprocess.run(["createdb", *admin, name], check=True)
            profile = f"{args.profile}.postgres" if args.profile else ""
            bench("PostgreSQL", f"postgres://postgres@127.0.0.1:5432/{name}", export, args.rows, tmp, profile)


if __name__ == "__main__":
    main()
