"""Runs `manage.py qcluster` as a child and restarts it when it exits or its queued work stops moving.

The cluster runs in its own process group (a new session) so that the whole group can be killed at once:
a wedged cluster does not stop on SIGTERM, and killing only its main process would leave its workers behind.
"""

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import datetime

from django.db import close_old_connections, transaction
from django.utils import timezone

from certificates.models import StallAction

from . import selectors, services
from .decision import Action, Decision, decide, stall_resolved

logger = logging.getLogger(__name__)

_STALL_ACTIONS = {
    Action.RESTART_EXITED: StallAction.RESTARTED_EXITED,
    Action.RESTART_STALLED: StallAction.RESTARTED_STALLED,
}


class Supervisor:
    def __init__(
        self,
        *,
        command: list[str],
        cluster: str,
        interval: float,
        stall_after: float,
        stop_grace: float = 5.0,
        clock: Callable[[], datetime] = timezone.now,
    ) -> None:
        self.command = command
        self.cluster = cluster
        self.interval = interval
        self.stall_after = stall_after
        self.stop_grace = stop_grace
        self.clock = clock
        self.child: subprocess.Popen | None = None
        self.started_at: datetime = clock()
        self.open_stall_detected_at: datetime | None = None
        self.queued_since: datetime | None = None
        self._stopping = threading.Event()
        self._stop_signal: int = signal.SIGTERM

    # --- the loop ---------------------------------------------------------------------------------

    def run(self) -> int:
        """Supervise until SIGINT or SIGTERM; then stop the cluster and return 0."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_stop_signal)
        logger.info(
            "Supervising %s (check every %gs, restart after %gs without progress while work is queued)",
            self.cluster,
            self.interval,
            self.stall_after,
        )
        try:
            stall = selectors.stall_open(cluster=self.cluster)
            self.open_stall_detected_at = stall.detected_at if stall else None
        except Exception:
            logger.warning("Could not read open stalls", exc_info=True)
        self.start_cluster()
        try:
            while not self._stopping.wait(self.interval):
                try:
                    self.tick()
                except Exception:  # keep supervising: a dead supervisor is worse than one bad check
                    logger.exception("Check failed")
            logger.info("Received %s: stopping", signal.Signals(self._stop_signal).name)
        finally:
            self.stop_cluster()  # never leave a cluster behind, whatever ended the loop
        logger.info("Supervisor stopped")
        return 0

    def _on_stop_signal(self, signum, frame) -> None:
        self._stop_signal = signum  # only set flags here; the loop logs and acts
        self._stopping.set()

    def tick(self) -> Decision:
        """One check: resolve a stall that is over, then decide and act."""
        if transaction.get_autocommit():
            close_old_connections()  # a long-running process: retire stale or broken connections
        queued = selectors.queue_size()
        try:
            last_task_at = selectors.heartbeat_last_task_at(name=self.cluster)
        except Exception:
            logger.warning("Could not read the worker heartbeat", exc_info=True)
            last_task_at = None
        if self.open_stall_detected_at and stall_resolved(
            detected_at=self.open_stall_detected_at, last_task_at=last_task_at
        ):
            self._resolve(last_task_at)
        if queued == 0:
            self.queued_since = None
        elif queued and self.queued_since is None:
            self.queued_since = self.clock()
        decision = decide(
            child_alive=self.child_alive(),
            queued=queued,
            queued_since=self.queued_since,
            last_task_at=last_task_at,
            started_at=self.started_at,
            now=self.clock(),
            stall_after=self.stall_after,
        )
        if decision.action is Action.WAIT:
            logger.debug("Wait: %s", decision.reason)
            return decision
        logger.warning("Restarting the cluster: %s", decision.reason)
        self._record(decision, queued=queued, last_task_at=last_task_at)
        self.kill_cluster()
        self.start_cluster()
        return decision

    def _record(self, decision: Decision, *, queued: int | None, last_task_at: datetime | None) -> None:
        detail = decision.reason
        if decision.action is Action.RESTART_EXITED and self.child is not None:
            detail += f" (exit status {self.child.returncode})"
        try:
            stall = services.stall_record(
                cluster=self.cluster,
                action=_STALL_ACTIONS[decision.action],
                queued=queued,
                last_task_at=last_task_at,
                detail=detail,
                at=self.clock(),
            )
        except Exception:
            logger.exception("Could not record the stall; restarting anyway")
            return
        self.open_stall_detected_at = stall.detected_at
        logger.info("Recorded stall %s (restart %d)", stall.pk, stall.restarts)

    def _resolve(self, last_task_at: datetime) -> None:
        try:
            services.stall_resolve(cluster=self.cluster, last_task_at=last_task_at)
        except Exception:
            logger.warning("Could not mark the stall resolved", exc_info=True)
            return
        logger.info("Tasks finish again (last at %s): stall resolved", last_task_at.isoformat())
        self.open_stall_detected_at = None

    # --- the child process group ------------------------------------------------------------------

    def start_cluster(self) -> None:
        self.child = subprocess.Popen(self.command, start_new_session=True, preexec_fn=_default_stop_signals)
        self.started_at = self.clock()
        logger.info("Started the cluster: pid %d (%s)", self.child.pid, " ".join(self.command))

    def child_alive(self) -> bool:
        return self.child is not None and self.child.poll() is None

    def group_alive(self) -> bool:
        if self.child is None:
            return False
        self.child.poll()  # reap the leader so a zombie does not count as running
        try:
            os.killpg(self.child.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover - a foreign process took the id: not ours
            return False
        return True

    def kill_cluster(self) -> None:
        """SIGKILL the cluster's whole process group: a wedged cluster does not stop on SIGTERM."""
        if self.child is None:
            return
        self._signal_group(signal.SIGKILL)
        try:
            self.child.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
            logger.error("Cluster pid %d did not die after SIGKILL", self.child.pid)
        logger.info("Killed the cluster's process group %d", self.child.pid)

    def stop_cluster(self) -> None:
        """Ask the cluster to stop (SIGINT to its group); SIGKILL the group after `stop_grace` seconds."""
        if self.child is None:
            return
        self._signal_group(signal.SIGINT)
        deadline = time.monotonic() + self.stop_grace
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.group_alive():
            logger.warning("The cluster did not stop within %gs: killing it", self.stop_grace)
            self.kill_cluster()
        else:
            logger.info("The cluster stopped")

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.child.pid, signum)
        except ProcessLookupError:
            pass


def _default_stop_signals() -> None:
    """In the cluster's process, before it runs: SIGINT and SIGTERM do what they normally do.

    A supervisor started in the background by a shell without job control (a CI script, ``cmd &``
    in another script) inherits SIGINT ignored, and so would the cluster: Python then installs no
    KeyboardInterrupt handler, and every polite stop ended in SIGKILL after the grace period."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
