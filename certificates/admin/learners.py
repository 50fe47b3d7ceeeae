"""The learner's page is a work page: beside their details (edited through the learners' services),
every certificate and version, request, email and certificate event of theirs, in a fixed number of
queries. It lives here, not in ``learners``, because that app cannot see certificates."""

from __future__ import annotations

from django.contrib import admin

from learners.admin import LearnerAdmin
from learners.models import Learner

from .. import selectors

admin.site.unregister(Learner)


@admin.register(Learner)
class LearnerWorkAdmin(LearnerAdmin):
    change_form_template = "admin/desk/learner_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        if object_id and str(object_id).isdigit():
            extra_context["learner_work"] = selectors.learner_work(int(object_id))
        return super().change_view(request, object_id, form_url, extra_context)
