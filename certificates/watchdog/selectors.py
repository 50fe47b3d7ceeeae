"""Reads for the watchdog: which cluster this is, its last finished task, and the queue's health."""

import logging
import socket
from datetime import datetime
from typing import TypedDict

from django.db.models import Max
from django_q.brokers import get_broker
from django_q.conf import Conf

from certificates.models import WorkerHeartbeat, WorkerStall

logger = logging.getLogger(__name__)


def cluster_key() -> str:
    """This machine's cluster: the supervisor and the cluster it runs compute the same key.

    The host name is part of it so that, with several worker machines on one queue (Redis), one machine's
    wedged cluster is not hidden by another machine's progress.
    """
    return f"{Conf.CLUSTER_NAME}@{socket.gethostname()}"


def heartbeat_last_task_at(*, name: str) -> datetime | None:
    return WorkerHeartbeat.objects.filter(name=name).values_list("last_task_at", flat=True).first()


def stall_open(*, cluster: str) -> WorkerStall | None:
    return WorkerStall.objects.filter(cluster=cluster, resolved_at__isnull=True).first()


def queue_size() -> int | None:
    """Tasks waiting in the broker (ORM or Redis), or None if the broker cannot be asked."""
    try:
        return get_broker().queue_size()
    except Exception:
        logger.warning("Could not read the queue size", exc_info=True)
        return None


class QueueHealth(TypedDict):
    queued: int | None
    last_task_at: datetime | None
    clusters: list[WorkerHeartbeat]
    open_stall: WorkerStall | None
    recent_stalls: list[WorkerStall]


def queue_health(*, recent: int = 10) -> QueueHealth:
    """What a health page shows: queue length, last finished task (any cluster), an open stall, recent stalls."""
    recent_stalls = list(WorkerStall.objects.all()[:recent])
    return {
        "queued": queue_size(),
        "last_task_at": WorkerHeartbeat.objects.aggregate(last=Max("last_task_at"))["last"],
        "clusters": list(WorkerHeartbeat.objects.all()),
        "open_stall": WorkerStall.objects.filter(resolved_at__isnull=True).first(),
        "recent_stalls": recent_stalls,
    }
