"""What the worker supervisor remembers (docs/WATCHDOG.md)."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """When a worker cluster last finished a task; written (throttled) by the cluster, read by its supervisor."""

    name = models.CharField(max_length=200, unique=True, help_text="Cluster name @ host name.")
    last_task_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} at {self.last_task_at:%Y-%m-%d %H:%M:%S}"


class StallAction(models.TextChoices):
    RESTARTED_STALLED = "restarted_stalled", "Restarted: queued work stopped moving"
    RESTARTED_EXITED = "restarted_exited", "Restarted: cluster process exited"


class WorkerStall(models.Model):
    """A time the supervisor found its worker cluster stuck or gone and restarted it."""

    cluster = models.CharField(max_length=200)
    detected_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="When tasks finished again.")
    queued = models.PositiveIntegerField(help_text="Tasks waiting in the queue when the stall was detected.")
    last_task_at = models.DateTimeField(null=True, blank=True, help_text="Last finished task seen at detection.")
    action = models.CharField(max_length=30, choices=StallAction.choices)
    restarts = models.PositiveIntegerField(default=1, help_text="Restarts before tasks finished again.")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-detected_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.cluster} stalled at {self.detected_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
