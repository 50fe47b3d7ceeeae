"""Django's log of staff actions, read-only for everyone: every desk action writes a line here
beside the certificate's or case's own history."""

from django.contrib import admin
from django.contrib.admin.models import LogEntry

from .common import ReadOnlyAdmin


@admin.register(LogEntry)
class StaffActionAdmin(ReadOnlyAdmin):
    list_display = ["action_time", "user", "content_type", "object_repr", "change_message"]
    list_filter = ["content_type"]
    search_fields = ["object_repr", "change_message", "user__username"]
    list_select_related = ["user", "content_type"]
    date_hierarchy = "action_time"
