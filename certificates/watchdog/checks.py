from django.conf import settings
from django.core.checks import Error, Tags, register

from .decision import minimum_stall_after


@register(Tags.compatibility)
def watchdog_outlasts_slow_tasks(app_configs, **kwargs):
    """A stall limit shorter than a task may legitimately run would restart a healthy, busy cluster."""
    errors = []
    timeout = settings.Q_CLUSTER.get("timeout")
    if timeout is None:
        errors.append(
            Error(
                "Q_CLUSTER has no timeout: the worker watchdog cannot tell a slow task from a stalled cluster.",
                hint="Set Q_TIMEOUT (seconds).",
                id="certificates.E001",
            )
        )
    elif settings.WATCHDOG_STALL_AFTER <= minimum_stall_after(task_timeout=timeout):
        errors.append(
            Error(
                f"WATCHDOG_STALL_AFTER is {settings.WATCHDOG_STALL_AFTER}s but a task may run for "
                f"{minimum_stall_after(task_timeout=timeout):g}s (Q_TIMEOUT {timeout}s plus django-q2's grace "
                "and the heartbeat interval): one slow task would be taken for a stall.",
                hint="Raise WATCHDOG_STALL_AFTER or lower Q_TIMEOUT.",
                id="certificates.E002",
            )
        )
    if timeout is not None and settings.Q_CLUSTER.get("retry", 60) <= timeout:
        errors.append(
            Error(
                f"Q_CLUSTER retry ({settings.Q_CLUSTER.get('retry', 60)}s) is not above timeout ({timeout}s): "
                "the ORM broker would hand a running task to a second worker.",
                hint="Lower Q_TIMEOUT.",
                id="certificates.E003",
            )
        )
    if settings.WATCHDOG_INTERVAL <= 0:
        errors.append(Error("WATCHDOG_INTERVAL must be at least 1 second.", id="certificates.E004"))
    return errors
