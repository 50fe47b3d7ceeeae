"""The worker watchdog: the pure decision, the throttled heartbeat, the records, and a real supervisor.

The end-to-end tests start `manage.py supervise_workers` against the test database, freeze its cluster
(SIGSTOP on the cluster's process group, or SIGKILL of the idle worker that holds the task queue's read
lock: the failure seen in production), enqueue a task and check the supervisor restarts the cluster, the
task runs and the stall is recorded and resolved.
"""

import itertools
import logging
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.checks import Error
from django.db import connection
from django.urls import reverse
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.tasks import async_task

from certificates.models import StallAction, WorkerHeartbeat, WorkerStall
from certificates.watchdog import checks, receivers, selectors, services
from certificates.watchdog.decision import (
    HEARTBEAT_EVERY,
    Action,
    Throttle,
    decide,
    minimum_stall_after,
    stall_resolved,
)
from certificates.watchdog.supervisor import Supervisor
from conftest import missing_judge
from learners.tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
STALL_AFTER = 120


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


# --- decide(): pure ---------------------------------------------------------------------------------


def call_decide(*, child_alive=True, queued=1, queued_since=None, last_task_at=None, started_at=None):
    return decide(
        child_alive=child_alive,
        queued=queued,
        queued_since=queued_since,
        last_task_at=last_task_at,
        started_at=started_at if started_at is not None else ago(1000),
        now=NOW,
        stall_after=STALL_AFTER,
    )


@pytest.mark.parametrize(
    "case, kwargs, expected",
    [
        ("dead child, idle", dict(child_alive=False, queued=0), Action.RESTART_EXITED),
        ("dead child, queue unknown", dict(child_alive=False, queued=None), Action.RESTART_EXITED),
        ("dead child, fresh progress", dict(child_alive=False, last_task_at=ago(1)), Action.RESTART_EXITED),
        ("queue unknown, old progress", dict(queued=None, last_task_at=ago(1000)), Action.WAIT),
        ("nothing queued, no task ever", dict(queued=0), Action.WAIT),
        ("nothing queued, old progress", dict(queued=0, last_task_at=ago(10_000)), Action.WAIT),
        ("queued, recent task", dict(queued=5, queued_since=ago(500), last_task_at=ago(10)), Action.WAIT),
        ("queued, just started", dict(queued=5, queued_since=ago(500), started_at=ago(10)), Action.WAIT),
        ("queued only just now", dict(queued=5, queued_since=ago(1), last_task_at=ago(1000)), Action.WAIT),
        ("queued, quiet just under the limit", dict(queued_since=ago(119.9), last_task_at=ago(500)), Action.WAIT),
        ("queued, quiet exactly the limit", dict(queued_since=ago(120), last_task_at=ago(500)), Action.RESTART_STALLED),
        ("queued, long quiet", dict(queued=2000, queued_since=ago(300), last_task_at=ago(300)), Action.RESTART_STALLED),
        ("queued, never a task", dict(queued_since=ago(200), started_at=ago(200)), Action.RESTART_STALLED),
        ("queued, queued_since unknown", dict(queued_since=None, started_at=ago(200)), Action.RESTART_STALLED),
    ],
)
def test_decide_cases(case, kwargs, expected):
    assert call_decide(**kwargs).action is expected, case


MOMENTS = [None, ago(0), ago(60), ago(119), ago(120), ago(10_000)]


def test_decide_over_every_combination():
    """Dead: restart. Idle or broker unknown: wait. Queued: restart iff every known moment is stall_after old."""
    combinations = itertools.product([True, False], [None, 0, 1, 2000], MOMENTS, MOMENTS, MOMENTS[1:])
    for child_alive, queued, queued_since, last_task_at, started_at in combinations:
        decision = call_decide(
            child_alive=child_alive,
            queued=queued,
            queued_since=queued_since,
            last_task_at=last_task_at,
            started_at=started_at,
        )
        known = [m for m in (queued_since, last_task_at, started_at) if m is not None]
        quiet = min((NOW - m).total_seconds() for m in known)
        if not child_alive:
            expected = Action.RESTART_EXITED
        elif not queued:
            expected = Action.WAIT  # an idle cluster, or a broker we cannot ask: a restart cannot help
        elif quiet >= STALL_AFTER:
            expected = Action.RESTART_STALLED
        else:
            expected = Action.WAIT
        inputs = (child_alive, queued, queued_since, last_task_at, started_at)
        assert decision.action is expected, inputs
        assert decision.reason, inputs


def test_decide_reason_says_what_was_seen():
    decision = call_decide(queued=7, queued_since=ago(300), last_task_at=ago(200))
    assert decision.reason == "7 queued and no task finished for 200s (limit 120s)"


def test_stall_resolved_only_by_a_task_after_detection():
    assert stall_resolved(detected_at=ago(10), last_task_at=ago(5))
    assert not stall_resolved(detected_at=ago(10), last_task_at=ago(10))
    assert not stall_resolved(detected_at=ago(10), last_task_at=ago(60))
    assert not stall_resolved(detected_at=ago(10), last_task_at=None)


def test_minimum_stall_after_covers_a_task_killed_at_its_timeout():
    assert minimum_stall_after(task_timeout=60) == 60 + 3 + HEARTBEAT_EVERY
    assert settings.WATCHDOG_STALL_AFTER > minimum_stall_after(task_timeout=settings.Q_CLUSTER["timeout"])


def test_throttle_allows_once_per_period():
    now = [100.0]
    throttle = Throttle(2.0, clock=lambda: now[0])
    assert throttle.ready()
    assert not throttle.ready()
    now[0] = 101.9
    assert not throttle.ready()
    now[0] = 102.0
    assert throttle.ready()
    throttle.reset()
    assert throttle.ready()


# --- system check ----------------------------------------------------------------------------------


def test_check_passes_with_the_defaults():
    assert checks.watchdog_outlasts_slow_tasks(None) == []


@pytest.mark.parametrize(
    "overrides, error_id",
    [
        (dict(WATCHDOG_STALL_AFTER=60), "certificates.E002"),
        (dict(WATCHDOG_STALL_AFTER=65), "certificates.E002"),
        (dict(Q_CLUSTER={"timeout": None, "retry": 180}), "certificates.E001"),
        (dict(Q_CLUSTER={"timeout": 200, "retry": 180}, WATCHDOG_STALL_AFTER=300), "certificates.E003"),
        (dict(WATCHDOG_INTERVAL=0), "certificates.E004"),
    ],
)
def test_check_errors(settings, overrides, error_id):
    for name, value in overrides.items():
        setattr(settings, name, value)
    errors = checks.watchdog_outlasts_slow_tasks(None)
    assert [e.id for e in errors] == [error_id]
    assert all(isinstance(e, Error) for e in errors)


def test_check_follows_a_lowered_timeout(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 2}
    settings.WATCHDOG_STALL_AFTER = 8
    assert checks.watchdog_outlasts_slow_tasks(None) == []


# --- the heartbeat receiver ------------------------------------------------------------------------


@pytest.fixture
def fresh_throttle(monkeypatch):
    # time-machine freezes time.time() but not time.monotonic(), which the throttle uses for real.
    monkeypatch.setattr(receivers.heartbeat_throttle, "clock", time.time)
    receivers.heartbeat_throttle.reset()
    yield receivers.heartbeat_throttle
    receivers.heartbeat_throttle.reset()


def finished(**extra) -> dict:
    return {"id": "x", "name": "t", "func": "f", "success": True, **extra}


@pytest.mark.django_db
def test_heartbeat_written_then_throttled(fresh_throttle, django_assert_num_queries):
    with time_machine.travel(NOW, tick=False) as traveller:
        receivers.record_heartbeat(sender="django_q", task=finished())
        assert WorkerHeartbeat.objects.get(name=selectors.cluster_key()).last_task_at == NOW

        traveller.shift(HEARTBEAT_EVERY - 0.1)
        with django_assert_num_queries(0):
            receivers.record_heartbeat(sender="django_q", task=finished())

        traveller.shift(0.1)
        with django_assert_num_queries(1):  # one UPDATE once the row exists
            receivers.record_heartbeat(sender="django_q", task=finished())
    assert WorkerHeartbeat.objects.get().last_task_at == NOW + timedelta(seconds=HEARTBEAT_EVERY)


@pytest.mark.django_db
def test_a_burst_of_2000_tasks_costs_a_handful_of_writes(fresh_throttle, monkeypatch):
    writes = []
    monkeypatch.setattr(services, "heartbeat_record", lambda **kwargs: writes.append(kwargs))
    with time_machine.travel(NOW, tick=False) as traveller:
        for _ in range(2000):  # 2,000 tasks in 20 s, the measured pace of a certificate burst
            receivers.record_heartbeat(sender="django_q", task=finished())
            traveller.shift(0.01)
    assert 1 <= len(writes) <= 20 / HEARTBEAT_EVERY + 1


@pytest.mark.django_db
def test_inline_tasks_are_not_the_cluster_s_progress(fresh_throttle):
    receivers.record_heartbeat(sender="django_q", task=finished(sync=True))
    assert not WorkerHeartbeat.objects.exists()


@pytest.mark.django_db
def test_heartbeat_failure_never_breaks_the_monitor(fresh_throttle, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "heartbeat_record", broken)
    with caplog.at_level(logging.WARNING, logger="certificates.watchdog.receivers"):
        receivers.record_heartbeat(sender="django_q", task=finished())
    assert "Could not record the worker heartbeat" in caplog.text


def test_receiver_is_connected_to_post_execute():
    from django_q.signals import post_execute

    assert "certificates.watchdog.record_heartbeat" in [entry[0][0] for entry in post_execute.receivers]


# --- records and selectors -------------------------------------------------------------------------


@pytest.mark.django_db
def test_heartbeat_record_creates_then_updates():
    services.heartbeat_record(name="laurel@a", at=ago(10))
    services.heartbeat_record(name="laurel@a", at=ago(5))
    services.heartbeat_record(name="laurel@b", at=ago(1))
    assert dict(WorkerHeartbeat.objects.values_list("name", "last_task_at")) == {
        "laurel@a": ago(5),
        "laurel@b": ago(1),
    }


@pytest.mark.django_db
def test_restarts_while_a_stall_is_open_count_against_it_until_tasks_finish():
    first = services.stall_record(
        cluster="c", action=StallAction.RESTARTED_STALLED, queued=4, last_task_at=ago(300), detail="a", at=ago(100)
    )
    again = services.stall_record(
        cluster="c", action=StallAction.RESTARTED_EXITED, queued=9, last_task_at=ago(300), detail="b", at=ago(50)
    )
    assert again.pk == first.pk and again.restarts == 2 and again.queued == 4
    assert "Restarted: queued work stopped moving: a" in again.detail and "exited: b" in again.detail

    assert services.stall_resolve(cluster="c", last_task_at=ago(200)) == 0  # older than the detection
    assert services.stall_resolve(cluster="other", last_task_at=ago(1)) == 0
    assert services.stall_resolve(cluster="c", last_task_at=ago(1)) == 1
    assert WorkerStall.objects.get().resolved_at == ago(1)

    later = services.stall_record(
        cluster="c", action=StallAction.RESTARTED_STALLED, queued=1, last_task_at=ago(1), detail="c", at=NOW
    )
    assert later.pk != first.pk and later.restarts == 1


@pytest.mark.django_db
def test_queue_health_on_the_orm_broker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    services.heartbeat_record(name="laurel@a", at=ago(30))
    services.heartbeat_record(name="laurel@b", at=ago(20))
    stall = services.stall_record(
        cluster="laurel@a", action=StallAction.RESTARTED_STALLED, queued=2, last_task_at=ago(30), detail="x"
    )
    async_task("certificates.tests.watchdog_tasks.touch", "/nonexistent/never-run")
    async_task("certificates.tests.watchdog_tasks.touch", "/nonexistent/never-run")

    health = selectors.queue_health()

    assert health["queued"] == 2
    assert health["last_task_at"] == ago(20)
    assert [c.name for c in health["clusters"]] == ["laurel@a", "laurel@b"]
    assert health["open_stall"] == stall
    assert health["recent_stalls"] == [stall]


@pytest.mark.django_db
def test_queue_size_on_the_redis_broker(monkeypatch):
    use_redis_broker(monkeypatch)
    monkeypatch.setattr(Conf, "SYNC", False)
    assert selectors.queue_size() == 0
    async_task("certificates.tests.watchdog_tasks.touch", "/nonexistent/never-run")
    assert selectors.queue_size() == 1
    assert selectors.queue_health()["queued"] == 1
    get_broker().purge_queue()


def test_queue_size_is_none_when_the_broker_is_unreachable(monkeypatch):
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert selectors.queue_size() is None


def test_the_cluster_runs_under_nice_unless_told_otherwise(settings):
    from certificates.management.commands.supervise_workers import cluster_command

    qcluster = [sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"]
    assert settings.WORKER_NICE == 10
    assert cluster_command(10) == ["nice", "-n", "10", *qcluster]
    assert cluster_command(0) == qcluster
    niceness = subprocess.run(["nice", "-n", "10", "nice"], capture_output=True, text=True, check=True).stdout
    assert int(niceness) == min(19, os.nice(0) + 10)  # `nice` is there, and adds to the supervisor's own


@pytest.mark.django_db
def test_admin_pages_are_read_only(client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    services.heartbeat_record(name="laurel@a")
    stall = services.stall_record(
        cluster="laurel@a", action=StallAction.RESTARTED_STALLED, queued=3, last_task_at=None, detail="x"
    )
    for model in ("workerheartbeat", "workerstall"):
        assert client.get(reverse(f"admin:certificates_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:certificates_{model}_add")).status_code == 403
    page = client.get(reverse("admin:certificates_workerstall_change", args=[stall.pk]))
    assert page.status_code == 200 and b'name="queued"' not in page.content


# --- the supervisor with stand-in children ---------------------------------------------------------

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
STUBBORN = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"]


def group_gone(pgid: int, wait: float = 5.0) -> bool:
    """No live process is left in the group (within ``wait`` seconds). Zombies count as gone: a killed
    worker whose parent died is reaped by PID 1 whenever it gets round to it, which in a container
    may be late or never."""
    deadline = time.monotonic() + wait
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        if not _live_members(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def _live_members(pgid: int) -> list[int]:
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            live.append(int(stat.parent.name))
    return live


@pytest.fixture
def supervisors():
    made = []

    def make(command, **kwargs):
        supervisor = Supervisor(command=command, cluster="laurel@test", interval=1, stall_after=8, **kwargs)
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        if supervisor.child is not None:
            supervisor.kill_cluster()


@pytest.mark.django_db
def test_supervisor_restarts_a_cluster_that_exited(supervisors, monkeypatch):
    monkeypatch.setattr(selectors, "queue_size", lambda: 0)
    supervisor = supervisors(SLEEPER)
    supervisor.start_cluster()
    first = supervisor.child
    assert supervisor.tick().action is Action.WAIT

    first.kill()
    first.wait()
    assert supervisor.tick().action is Action.RESTART_EXITED

    assert supervisor.child is not first and supervisor.child_alive()
    stall = WorkerStall.objects.get()
    assert (stall.cluster, stall.action, stall.resolved_at) == ("laurel@test", StallAction.RESTARTED_EXITED, None)
    assert "exit status -9" in stall.detail

    services.heartbeat_record(name="laurel@test")  # the new cluster finishes a task
    assert supervisor.tick().action is Action.WAIT
    stall.refresh_from_db()
    assert stall.resolved_at is not None and supervisor.open_stall_detected_at is None


@pytest.mark.django_db
def test_supervisor_kills_the_whole_group_of_a_stalled_cluster(supervisors, monkeypatch):
    monkeypatch.setattr(selectors, "queue_size", lambda: 3)
    clock = [NOW]
    supervisor = supervisors(STUBBORN, clock=lambda: clock[0])
    supervisor.start_cluster()
    old = supervisor.child
    assert supervisor.tick().action is Action.WAIT  # work has only just been seen

    clock[0] = NOW + timedelta(seconds=8)
    assert supervisor.tick().action is Action.RESTART_STALLED

    assert group_gone(old.pid) and old.returncode == -signal.SIGKILL
    assert supervisor.child is not old and supervisor.started_at == clock[0]
    stall = WorkerStall.objects.get()
    assert (stall.action, stall.queued, stall.detected_at) == (StallAction.RESTARTED_STALLED, 3, clock[0])


def test_supervisor_stop_asks_then_kills(supervisors):
    polite = supervisors(SLEEPER, stop_grace=5)
    polite.start_cluster()
    started = time.monotonic()
    polite.stop_cluster()
    assert polite.child.returncode == -signal.SIGINT or polite.child.returncode == 1
    assert time.monotonic() - started < 2

    stubborn = supervisors(STUBBORN, stop_grace=0.5)
    stubborn.start_cluster()
    time.sleep(0.3)  # let it install its SIG_IGN
    stubborn.stop_cluster()
    assert stubborn.child.returncode == -signal.SIGKILL and group_gone(stubborn.child.pid)


def test_a_supervisor_started_with_sigint_ignored_still_stops_its_cluster_politely(supervisors):
    """As when a script starts it in the background (`cmd &` without job control): its child would
    inherit SIGINT ignored and ignore the polite stop."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        polite = supervisors(SLEEPER, stop_grace=5)
        polite.start_cluster()
    finally:
        signal.signal(signal.SIGINT, previous)
    time.sleep(0.5)  # Python has started and installed its own SIGINT handler
    started = time.monotonic()
    polite.stop_cluster()
    assert polite.child.returncode in (-signal.SIGINT, 1) and time.monotonic() - started < 2


# --- end to end: a real supervisor and cluster -----------------------------------------------------
# The helpers follow certificates/tests/test_end_to_end.py (copied, not imported, so each file stands alone).


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


def wait_for(predicate, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"no {what} after {timeout}s; supervisor log:\n{log.read_text(errors='replace')[-4000:]}")


class Running:
    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log = log

    def cluster_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"Started the cluster: pid (\d+)", self.log.read_text(errors="replace"))]

    def worker_pids(self) -> list[int]:
        """The current cluster's workers, as django-q2 logs them."""
        text = self.log.read_text(errors="replace").rsplit("Started the cluster", 1)[-1]
        return [int(pid) for pid in re.findall(r"ready for work at (\d+)", text)]


@pytest.fixture(params=["orm", "redis"])
def supervisor(request, transactional_db, tmp_path, monkeypatch):
    """`manage.py supervise_workers` on the test database and either broker, with small thresholds."""
    monkeypatch.setattr(Conf, "SYNC", False)  # this process enqueues; the supervised cluster executes
    if request.param == "redis":
        use_redis_broker(monkeypatch)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "Q_SYNC": "0",
        "Q_WORKERS": "2",
        "Q_TIMEOUT": "2",
        "Q_LOG_LEVEL": "INFO",
        "WATCHDOG_INTERVAL": "1",
        "WATCHDOG_STALL_AFTER": "8",
        "LOG_LEVEL": "INFO",
        "DEBUG": "false",
    }
    env.pop("REDIS_URL", None)
    if request.param == "redis":
        env["REDIS_URL"] = REDIS_URL
    log = tmp_path / "supervisor.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "supervise_workers"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Running(process, log)
    yield running
    if process.poll() is None:  # a failed test: make sure nothing is left behind
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    for pid in running.cluster_pids():
        if not group_gone(pid):
            os.killpg(pid, signal.SIGKILL)


def touched(path: Path):
    return lambda: path.exists()


def assert_recovers(supervisor: Running, tmp_path: Path, freeze, *, tasks: int = 1) -> list[Path]:
    """Freeze the cluster, enqueue `tasks` tasks, and check the supervisor recovers; returns the tasks that ran."""
    # A healthy cluster: a task runs, the heartbeat is written.
    async_task("certificates.tests.watchdog_tasks.touch", str(tmp_path / "warm-up"))
    wait_for(touched(tmp_path / "warm-up"), 30, "task run by the first cluster", supervisor.log)
    heartbeat = WorkerHeartbeat.objects.filter(name=selectors.cluster_key())
    wait_for(heartbeat.exists, 10, "heartbeat", supervisor.log)
    [first_cluster] = supervisor.cluster_pids()

    freeze(supervisor)
    time.sleep(1)
    after = [tmp_path / f"after-stall-{n}" for n in range(tasks)]
    for path in after:
        async_task("certificates.tests.watchdog_tasks.touch", str(path))

    stall = wait_for(lambda: WorkerStall.objects.first(), 30, "stall record", supervisor.log)
    assert stall.cluster == selectors.cluster_key()
    assert stall.action == StallAction.RESTARTED_STALLED and stall.queued >= 1
    wait_for(lambda: any(path.exists() for path in after), 30, "task run by the restarted cluster", supervisor.log)
    resolved = WorkerStall.objects.filter(pk=stall.pk, resolved_at__isnull=False)
    wait_for(resolved.exists, 10, "resolved stall", supervisor.log)
    assert group_gone(first_cluster)
    assert len(supervisor.cluster_pids()) == 2

    # Stopping the supervisor stops its cluster, and it exits cleanly.
    os.kill(supervisor.process.pid, signal.SIGINT)
    assert supervisor.process.wait(timeout=15) == 0
    assert all(group_gone(pid) for pid in supervisor.cluster_pids())
    assert "Supervisor stopped" in supervisor.log.read_text()
    return [path for path in after if path.exists()]


@pytest.mark.e2e
def test_supervisor_restarts_a_frozen_cluster(supervisor, tmp_path):
    def freeze(running: Running) -> None:
        os.killpg(running.cluster_pids()[-1], signal.SIGSTOP)  # nothing in the cluster moves: not even SIGTERM

    assert len(assert_recovers(supervisor, tmp_path, freeze)) == 1


def blocked_reading_a_pipe(pid: int) -> bool:
    try:
        return "pipe_read" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


@pytest.mark.e2e
def test_supervisor_recovers_from_an_idle_worker_killed(supervisor, tmp_path):
    """The production failure: an idle worker SIGKILLed (as by the OOM killer) while it holds the read lock of
    the cluster's task queue. Its siblings wait for that lock forever; django-q2 replaces the dead worker, but
    the replacement waits too. (Killing an idle worker that is only waiting for the lock does no harm.)

    The wedged cluster's pusher still takes up to queue_limit (workers squared) tasks off the broker, so the
    queue only shows waiting work once more than that are enqueued: 10 here. The ones it took run again after
    `retry` (ORM broker) or are lost (Redis): the certificate sweep re-enqueues that work.
    """
    if not Path("/proc/self/wchan").exists():
        pytest.skip("needs Linux /proc/<pid>/wchan to find the worker holding the queue's lock")

    def kill_lock_holder(running: Running) -> None:
        holder = wait_for(
            lambda: next((pid for pid in running.worker_pids() if blocked_reading_a_pipe(pid)), None),
            10,
            "idle worker reading the task queue",
            running.log,
        )
        os.kill(holder, signal.SIGKILL)

    ran = assert_recovers(supervisor, tmp_path, kill_lock_holder, tasks=10)
    assert 1 <= len(ran) <= 10
