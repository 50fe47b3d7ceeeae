"""The progress marker: the cluster records, a few times a minute at most, that its tasks finish.

django-q2 sends `post_execute` from the cluster's monitor process once a task's result is saved and
acknowledged (the same for every broker); inline (sync) tasks send it in the caller, and say nothing about
the cluster, so they are skipped.
"""

import logging

from django.db import close_old_connections, transaction
from django.dispatch import receiver
from django_q.signals import post_execute

from . import services
from .decision import HEARTBEAT_EVERY, Throttle
from .selectors import cluster_key

logger = logging.getLogger(__name__)

#: In-process: a 2,000-task burst costs a handful of writes, not 2,000.
heartbeat_throttle = Throttle(HEARTBEAT_EVERY)


@receiver(post_execute, dispatch_uid="certificates.watchdog.record_heartbeat")
def record_heartbeat(sender, *, task: dict, **kwargs) -> None:
    if task.get("sync") or not heartbeat_throttle.ready():
        return
    # The monitor has no request cycle to retire stale connections; never drop one inside a transaction.
    if transaction.get_autocommit():
        close_old_connections()
    try:
        services.heartbeat_record(name=cluster_key())
    except Exception:
        # An exception here would kill the monitor process: log it and let the next task try again.
        logger.warning("Could not record the worker heartbeat", exc_info=True)
