# ruff: noqa: E402
"""Where a burst's worker CPU goes: the whole pipeline of N completions in one process, under cProfile.

    .venv/bin/python bench/burst_profile.py [--count 200] [--database-name laurel_bench_profile]
        [--sql | --plain] [--dump FILE]

Each completion goes in as the webhook's service takes it; the cluster runs inline (Q_SYNC), so issue,
render and email follow in the same process, and the email goes to a real SMTP server on loopback
(in this process, another thread). What is missing beside bench/burst.py is the queue itself: the
broker, the pusher and monitor processes, pickling and signing each task. Prints CPU per certificate
and the functions that take the most of it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import subprocess
import tempfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.harness import PYTHON, ROOT, bench_env, prepare_database

PROGRAM = """
import contextlib, cProfile, io, json, os, pstats, resource, sys, time
from collections import Counter
from datetime import UTC, datetime
sys.path.insert(0, {root!r})
from bench.harness import COURSE, NAMES, Inbox
inbox = Inbox()
inbox.accept()
os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{{inbox.port}}"
import django
django.setup()
from learners import services
from learners.ingest import record_from_json

def completion(index):
    payload = {{"learner_id": f"p{{index:05d}}", "email": f"p{{index:05d}}@example.com",
               "name": f"{{NAMES[index % len(NAMES)]}} {{index}}", "course": COURSE,
               "completed_at": datetime.now(UTC).isoformat(), "score": 90}}
    services.webhook_completion_receive(webhook_id=f"msg_p{{index}}", payload=payload, record=record_from_json(payload))

for index in range(20):  # warm: fonts, templates, connections
    completion(index)
count = {count}
profile = cProfile.Profile()
statements = Counter()

def count_statement(execute, sql, params, many, context):
    # Name the statement by the innermost frame of ours and the verb, so a step's statements add up.
    frame = sys._getframe(1)
    while frame and not frame.f_code.co_filename.startswith({apps!r}):
        frame = frame.f_back
    where = f"{{frame.f_code.co_filename.removeprefix({root!r} + '/')}}:{{frame.f_code.co_name}}" if frame else "?"
    statements[(where, sql.split(None, 1)[0].upper())] += 1
    return execute(sql, params, many, context)

before = resource.getrusage(resource.RUSAGE_SELF)
started = time.monotonic()
with contextlib.ExitStack() as stack:
    if {sql}:
        from django.db import connection
        stack.enter_context(connection.execute_wrapper(count_statement))
    elif not {plain}:
        profile.enable()
    for index in range(20, 20 + count):
        completion(index)
    profile.disable()
after = resource.getrusage(resource.RUSAGE_SELF)
wall = time.monotonic() - started
cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
while inbox.received() < 20 + count and time.monotonic() - started < wall + 30:
    time.sleep(0.1)
print(f"{{count}} completions inline: {{cpu / count * 1000:.1f}} ms CPU and {{wall / count * 1000:.1f}} ms wall each"
      f" ({{'SQL counted' if {sql} else 'not profiled' if {plain} else 'profiled'}},"
      f" the SMTP server's thread included);"
      f" {{inbox.received()}} emails")
if {plain}:
    raise SystemExit
if {sql}:
    print(f"{{sum(statements.values()) / count:.1f}} SQL statements per completion, by where they were issued:")
    for (where, verb), n in statements.most_common():
        print(f"{{n / count:6.2f}}  {{verb:<9}} {{where}}")
    raise SystemExit
if {dump!r}:
    profile.dump_stats({dump!r})
out = io.StringIO()
stats = pstats.Stats(profile, stream=out)
stats.sort_stats("cumulative").print_stats(45)
stats.sort_stats("tottime").print_stats(25)
print(out.getvalue())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--database-name", default="laurel_bench_profile")
    parser.add_argument(
        "--sql", action="store_true", help="no profiler: count SQL statements by the function of ours that issued them"
    )
    parser.add_argument("--plain", action="store_true", help="no profiler, no counting: CPU per completion (py-spy)")
    parser.add_argument("--dump", default="", help="also write the profile to this file (for pstats or snakeviz)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="laurel-bench-profile-"))
    env = bench_env(
        workdir=workdir,
        web_port=8000,
        smtp_port=25,
        database_url=f"postgres://postgres@127.0.0.1:5432/{args.database_name}",
        workers=1,
    )
    env["Q_SYNC"] = "true"
    for command in (["dropdb", "--if-exists"], ["createdb"]):
        subprocess.run([*command, "-h", "127.0.0.1", "-U", "postgres", args.database_name], check=True)
    prepare_database(env)
    apps = tuple(str(ROOT / app) for app in ("courses", "learners", "certificates", "delivery", "verification"))
    program = PROGRAM.format(
        root=str(ROOT), count=args.count, sql=args.sql, apps=apps, dump=args.dump, plain=args.plain
    )
    subprocess.run([str(PYTHON), "-c", program], env=env, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
