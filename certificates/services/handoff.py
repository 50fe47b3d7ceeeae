"""Handing work to the queue: only after commit, and only ids.

A certificate's steps (issue, render, email) are separate tasks, so each can be retried and swept on
its own. Inside one task they may also follow each other in the same worker (``continue_here``):
the next step then runs once this one has committed, without a trip through the queue. Under a
burst that is what gets the first emails out within seconds, instead of after every queued
completion has been issued; and it spares two of the three tasks' queue costs.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from time import monotonic

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from django_q.tasks import async_task

logger = logging.getLogger(__name__)

_here = threading.local()

RENDER_TASK = "certificates.tasks.certificate_render_task"
EMAIL_TASK = "certificates.tasks.certificate_email_task"
CREDENTIAL_TASK = "certificates.tasks.credential_sign_task"


@dataclass
class _Chain:
    tasks: frozenset[str]
    started: float
    pending: deque[tuple[str, tuple]] = field(default_factory=deque)
    open: bool = True

    def take(self, task: str, args: tuple) -> None:
        """After the commit: run it here if the chain still runs, else queue it (the commit came
        after the block, e.g. the block ran inside an outer transaction)."""
        if self.open:
            self.pending.append((task, args))
        else:
            async_task(task, *args)


def enqueue_after_commit(task: str, *args: object, q_options: dict | None = None) -> None:
    """Queue ``task`` once the rows it reads are committed (never before: it would read stale data).

    Inside ``continue_here(task)`` it runs in this process after the commit instead. ``q_options``
    are django-q2's for this task only (e.g. a longer ``timeout``), and always go through the queue."""
    chain: _Chain | None = getattr(_here, "chain", None)
    if chain is not None and task in chain.tasks and not q_options:
        transaction.on_commit(partial(chain.take, task, args))  # a rollback drops it
    elif q_options:
        transaction.on_commit(partial(async_task, task, *args, q_options=q_options))
    else:
        transaction.on_commit(partial(async_task, task, *args))


@contextmanager
def continue_here(*tasks: str) -> Iterator[None]:
    """Within the block, the named tasks are not queued but run here, in order, after the block.

    A step that raises is logged and ends its certificate's chain (its next step is queued only when
    it commits): the certificate's state says where it stopped, and the sweep nudges it again, as it
    would a task the queue lost."""
    outer = getattr(_here, "chain", None)
    # A chain inside a chain (a continued task opens its own) counts from the task's start.
    chain = _Chain(tasks=frozenset(tasks), started=outer.started if outer else monotonic())
    _here.chain = chain
    try:
        yield
        while chain.pending:
            task, args = chain.pending.popleft()
            if monotonic() - chain.started > continuation_budget():
                async_task(task, *args)  # too late in this task for a send: its own task, its own timeout
                continue
            try:
                import_string(task)(*args)
            except Exception:  # its own next steps were never queued; other certificates' go on
                logger.exception("%s%r, continued in this worker, failed", task, args)
    finally:
        chain.open = False
        _here.chain = outer


def continuation_budget() -> float:
    """Seconds into a task after which a next step is queued rather than started here, so that a
    send (EMAIL_TIMEOUT a socket operation; normally well under a second in all) and recording it
    through an outage (DELIVERY_DATABASE_PATIENCE) still fit in the task's timeout. A heuristic: a
    send whose every operation takes its whole timeout can still outlast it."""
    timeout = settings.Q_CLUSTER.get("timeout") or 60
    return max(0.0, timeout - settings.EMAIL_TIMEOUT - settings.DELIVERY_DATABASE_PATIENCE)


def chunks(ids: list[int], size: int) -> list[list[int]]:
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]
