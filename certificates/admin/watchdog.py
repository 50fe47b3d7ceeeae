"""Read-only admin pages for the worker watchdog (docs/WATCHDOG.md): the supervisor writes these, staff read them."""

from django.contrib import admin

from ..models import WorkerHeartbeat, WorkerStall
from .common import ReadOnlyAdmin


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_task_at"]
    readonly_fields = ["name", "last_task_at"]


@admin.register(WorkerStall)
class WorkerStallAdmin(ReadOnlyAdmin):
    list_display = ["detected_at", "cluster", "action", "queued", "restarts", "last_task_at", "resolved_at"]
    list_filter = ["action", ("resolved_at", admin.EmptyFieldListFilter), "cluster"]
    readonly_fields = [f.name for f in WorkerStall._meta.fields]
    date_hierarchy = "detected_at"
