"""Handing work to the queue: only after commit, and only ids."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django_q.tasks import async_task


def enqueue_after_commit(task: str, *args: object, q_options: dict | None = None) -> None:
    """Queue ``task`` once the rows it reads are committed (never before: it would read stale data).

    ``q_options`` are django-q2's for this task only (e.g. a longer ``timeout``)."""
    if q_options:
        transaction.on_commit(partial(async_task, task, *args, q_options=q_options))
    else:
        transaction.on_commit(partial(async_task, task, *args))


def chunks(ids: list[int], size: int) -> list[list[int]]:
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]
