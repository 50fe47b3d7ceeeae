"""The admin site: the staff desk. Its front page shows the work queues with what waits in each,
and the pipeline health page, above the model lists."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class DeskSite(admin.AdminSite):
    site_header = "Laurel staff desk"
    site_title = "Laurel staff desk"
    index_title = "Work queues"
    index_template = "admin/desk/index.html"

    def index(self, request, extra_context=None):
        from certificates.selectors.health import desk_queues

        extra_context = dict(extra_context or {})
        if request.user.has_perm("certificates.view_certificate"):
            extra_context["desk_queues"] = desk_queues()
        return super().index(request, extra_context)


class DeskAdminConfig(AdminConfig):
    default_site = "config.admin_site.DeskSite"
