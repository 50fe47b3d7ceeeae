"""What the supervisor does next, from what it can see now. Pure: no ORM, settings, processes or clocks."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

#: Each cluster process writes its heartbeat at most this often, in seconds, so the recorded
#: "last task finished" time may lag the real one by up to this much.
HEARTBEAT_EVERY = 2.0
#: django-q2 lets a task run this many seconds past its timeout before its guard kills the worker.
TIMEOUT_GRACE = 3.0


class Action(StrEnum):
    WAIT = "wait"
    RESTART_EXITED = "restart_exited"
    RESTART_STALLED = "restart_stalled"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str


def decide(
    *,
    child_alive: bool,
    queued: int | None,
    queued_since: datetime | None,
    last_task_at: datetime | None,
    started_at: datetime,
    now: datetime,
    stall_after: float,
) -> Decision:
    """Restart a cluster that exited, or one that has queued work but has finished nothing for `stall_after` s.

    `queued` is None when the broker could not be asked; `queued_since` is when the queue was first seen
    non-empty (None: not yet); `last_task_at` is None when the cluster has never finished a task. The quiet
    time counts from the latest of the three moments a healthy cluster could not be blamed before: its start,
    its last finished task, and the queue becoming non-empty (an idle cluster finishes nothing, rightly).
    """
    if not child_alive:
        return Decision(Action.RESTART_EXITED, "the cluster process exited")
    if queued is None:
        # Restarting cannot help while the broker (or database) is unreachable: the new cluster could not
        # reach it either.
        return Decision(Action.WAIT, "queue size unknown")
    if queued <= 0:
        return Decision(Action.WAIT, "nothing queued")
    last_progress = max(moment for moment in (started_at, last_task_at, queued_since) if moment is not None)
    quiet = (now - last_progress).total_seconds()
    if quiet < stall_after:
        return Decision(Action.WAIT, f"{queued} queued, last progress {quiet:.0f}s ago")
    return Decision(
        Action.RESTART_STALLED,
        f"{queued} queued and no task finished for {quiet:.0f}s (limit {stall_after:g}s)",
    )


def stall_resolved(*, detected_at: datetime, last_task_at: datetime | None) -> bool:
    """A stall is over once a task has finished after it was detected."""
    return last_task_at is not None and last_task_at > detected_at


def minimum_stall_after(*, task_timeout: float) -> float:
    """The shortest stall limit at which one slow task (killed at its timeout) is never taken for a stall."""
    return task_timeout + TIMEOUT_GRACE + HEARTBEAT_EVERY


class Throttle:
    """True at most once every `every` seconds (per instance, so per process)."""

    def __init__(self, every: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self._last: float | None = None

    def ready(self) -> bool:
        now = self.clock()
        if self._last is not None and now - self._last < self.every:
            return False
        self._last = now
        return True

    def reset(self) -> None:
        self._last = None
