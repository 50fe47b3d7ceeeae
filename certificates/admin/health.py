"""The pipeline health page (linked from the admin's front page): what waits where, for how long,
what failed in the last day, whether the worker cluster is alive, the last nightly import."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from ..selectors.health import HEARTBEAT_STALE_AFTER, pipeline_health


def health_view(request):
    if not request.user.has_perm("certificates.view_certificate"):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": "Pipeline health",
        "health": pipeline_health(),
        "stale_after_minutes": int(HEARTBEAT_STALE_AFTER.total_seconds() // 60),
    }
    return TemplateResponse(request, "admin/desk/health.html", context)
