"""The learner's page is a work page: beside their details (edited through the learners' services),
every certificate and version, request, email and certificate event of theirs, in a fixed number of
queries. It lives here, not in ``learners``, because that app cannot see certificates."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from learners.admin import LearnerAdmin
from learners.models import Learner

from .. import selectors
from ..services.erasure import learner_erase
from .common import allowed, audit, require

ERASE = "certificates.erase_personal_data"

admin.site.unregister(Learner)


@admin.register(Learner)
class LearnerWorkAdmin(LearnerAdmin):
    change_form_template = "admin/desk/learner_change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        erase = view(require_POST(self.erase_view))
        return [path("<int:learner_id>/erase/", erase, name="learners_learner_erase"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        if object_id and str(object_id).isdigit():
            extra_context["learner_work"] = selectors.learner_work(int(object_id))
            extra_context["can_erase"] = allowed(request, ERASE)
        return super().change_view(request, object_id, form_url, extra_context)

    def erase_view(self, request, learner_id: int):
        """The right to erasure: names, addresses and LMS id go; certificates answer as withdrawn."""
        require(request, ERASE)
        learner = get_object_or_404(Learner, pk=learner_id)
        back = HttpResponseRedirect(reverse("admin:learners_learner_change", args=[learner_id]))
        reason = request.POST.get("reason", "").strip()
        if not reason or request.POST.get("confirm") != "erase":
            messages.error(request, "Not done: type the reason and tick the box to confirm the erasure.")
            return back
        withdrawn = learner_erase(learner_id=learner_id, by=request.user, reason=reason)
        audit(request, learner, f"Erased personal data: {reason}")
        messages.success(
            request,
            f"Erased the personal data of learner #{learner.pk}; {withdrawn} certificate(s) now verify as withdrawn.",
        )
        return back
