"""Certificates in the admin: a list that fits a laptop screen, and a work page per certificate with
its actions as buttons (each a service call, allowed by a permission, named by code in its message).

Nothing on a certificate is edited as a field: its states change through the transition table, what
it prints through a new version. The page is read-only where an edit would be a lie.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import Truncator

from courses.models import Course

from .. import selectors
from ..errors import CertificateError
from ..models import (
    Certificate,
    CertificateEvent,
    CertificateVersion,
    Pipeline,
)
from ..services import issuance, rendering
from .actions import (
    FIX_LEARNER,
    PAGE_ACTIONS,
    PAGE_ACTIONS_BY_NAME,
    RESEND,
    REVIEW,
    REVOKE,
    SHORT_REASON,
    state_in_words,
)
from .common import ReadOnlyAdmin, allowed, ask_reason, audit, certificate_label, require, run_each
from .health import health_view
from .jobs import EXPORT, MAX_SELECTED, REISSUE_MANY, export_csv_response, reissue_confirm


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["code_column", "learner_column", "course_column", "state_column", "reason_column", "updated_at"]
    list_filter = ["pipeline_state", "credential_state", "enrollment__course"]
    list_select_related = ["enrollment__learner", "enrollment__course"]
    list_per_page = 50
    date_hierarchy = "created_at"
    search_help_text = "Name, email or LMS id (accents and case do not matter), or a certificate code."
    search_fields = ["code"]  # shows the box; the search itself is get_search_results
    actions = ["recheck", "approve", "reject", "resend", "revoke", "reissue", "export_csv"]

    def has_add_permission(self, request):
        return False  # certificates are issued by the pipeline, never typed in

    def has_change_permission(self, request, obj=None):
        return False  # no field is edited: the page's buttons call services

    def has_delete_permission(self, request, obj=None):
        return False  # nothing issued is ever lost

    def has_review_permission(self, request):
        return allowed(request, REVIEW)

    def has_resend_permission(self, request):
        return allowed(request, RESEND)

    def has_revoke_permission(self, request):
        return allowed(request, REVOKE)

    def has_reissue_many_permission(self, request):
        return allowed(request, REISSUE_MANY)

    def has_export_permission(self, request):
        return allowed(request, EXPORT)

    def get_search_results(self, request, queryset, search_term):
        found = selectors.search_by_learner(
            queryset, search_term, learner_path="enrollment__learner__", code_field="code"
        )
        return found, False

    @admin.display(description="Code", ordering="code")
    def code_column(self, certificate):
        return certificate.display_code

    @admin.display(description="Learner", ordering="enrollment__learner__full_name")
    def learner_column(self, certificate):
        learner = certificate.enrollment.learner
        return Truncator(learner.certificate_name or learner.external_id).chars(32)

    @admin.display(description="Course", ordering="enrollment__course__title")
    def course_column(self, certificate):
        return Truncator(certificate.enrollment.course.title).chars(32)

    @admin.display(description="State", ordering="pipeline_state")
    def state_column(self, certificate):
        return state_in_words(certificate)

    @admin.display(description="Reason")
    def reason_column(self, certificate):
        return Truncator(certificate.credential_reason or certificate.state_reason).chars(SHORT_REASON)

    # -- the work page ---------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:certificate_id>/act/<str:action>/", view(self.act_view), name="certificates_certificate_act"),
            path("<int:certificate_id>/fix/", view(self.fix_view), name="certificates_certificate_fix"),
            path("preview/<int:course_id>.<str:kind>", view(self.course_preview), name="certificates_course_preview"),
            path("health/", view(health_view), name="certificates_health"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            work = selectors.certificate_work(int(object_id))
        except ValueError:
            work = None
        if work is None:
            raise Http404("no such certificate")
        certificate = work.certificate
        buttons = [
            action for action in PAGE_ACTIONS if action.applies(certificate) and allowed(request, action.permission)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": Certificate._meta,
            "title": f"Certificate {certificate.display_code}",
            "work": work,
            "certificate": certificate,
            "state": state_in_words(certificate),
            "buttons": buttons,
            "can_fix": certificate.pipeline_state == Pipeline.HELD and allowed(request, FIX_LEARNER),
            "learner_url": reverse("admin:learners_learner_change", args=[work.learner.pk]),
        }
        return TemplateResponse(request, "admin/desk/certificate.html", context)

    def _back(self, certificate_id: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:certificates_certificate_change", args=[certificate_id]))

    def act_view(self, request, certificate_id: int, action: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        page_action = PAGE_ACTIONS_BY_NAME.get(action)
        if page_action is None:
            raise Http404("no such action")
        require(request, page_action.permission)
        certificate = get_object_or_404(Certificate.objects.select_related("enrollment__learner"), pk=certificate_id)
        reason = request.POST.get("reason", "").strip()
        if page_action.reason and not reason and page_action.name != "reinstate":
            messages.error(request, f"Not done: “{page_action.label}” needs a reason ({page_action.reason.lower()}).")
            return self._back(certificate_id)
        if not page_action.applies(certificate):
            messages.error(
                request, f"Not done for {certificate_label(certificate)}: it is {state_in_words(certificate).lower()}."
            )
            return self._back(certificate_id)
        done = run_each(
            request,
            [certificate],
            done=page_action.done,
            label=certificate_label,
            step=lambda c: page_action.run(c, request.user, reason),
            errors=(CertificateError, PermissionError),
        )
        if done:
            audit(request, certificate, f"{page_action.label}" + (f": {reason}" if reason else ""))
        return self._back(certificate_id)

    def fix_view(self, request, certificate_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        require(request, FIX_LEARNER)
        certificate = get_object_or_404(Certificate.objects.select_related("enrollment__learner"), pk=certificate_id)
        try:
            fixed = issuance.certificate_fix_holder(
                certificate_id=certificate.pk,
                full_name=request.POST.get("full_name", ""),
                preferred_name=request.POST.get("preferred_name", ""),
                email=request.POST.get("email", ""),
                by=request.user,
            )
        except CertificateError as exc:
            messages.error(request, f"Not saved for {certificate_label(certificate)}: {exc}")
            return self._back(certificate_id)
        audit(request, fixed, "corrected the holder's details and checked again")
        if fixed.pipeline_state == Pipeline.HELD:
            messages.warning(request, f"Saved. {certificate_label(fixed)} is still held: {fixed.state_reason}")
        else:
            messages.success(request, f"Saved. {certificate_label(fixed)} is issued; its PDF and email follow.")
        return self._back(certificate_id)

    # -- bulk actions on the list ---------------------------------------------------------------------

    def _bulk(self, request, queryset, action_name: str, reason: str = "") -> None:
        page_action = PAGE_ACTIONS_BY_NAME[action_name]
        certificates = list(queryset.select_related("enrollment__learner"))
        applicable = [c for c in certificates if page_action.applies(c)]
        for certificate in certificates:
            if certificate not in applicable:
                messages.error(
                    request,
                    f"Not done for {certificate_label(certificate)}: it is {state_in_words(certificate).lower()}.",
                )
        if not certificates or not applicable:
            return
        done = run_each(
            request,
            applicable,
            done=page_action.done,
            label=certificate_label,
            step=lambda c: page_action.run(c, request.user, reason),
            errors=(CertificateError, PermissionError),
        )
        for certificate in done:
            audit(request, certificate, f"{page_action.label} (bulk)" + (f": {reason}" if reason else ""))

    def _with_reason(self, request, queryset, action_name: str, *, title: str, explanation: str):
        reason = request.POST.get("reason", "").strip()
        if "apply" in request.POST and reason:
            self._bulk(request, queryset, action_name, reason)
            return None
        if "apply" in request.POST:
            messages.error(request, "Say why first: the reason is required.")
        return ask_reason(
            self,
            request,
            queryset.select_related("enrollment__learner"),
            action=action_name,
            title=title,
            explanation=explanation,
            label=certificate_label,
            button=PAGE_ACTIONS_BY_NAME[action_name].label,
        )

    @admin.action(description="Check held certificates again (after fixing the data)", permissions=["review"])
    def recheck(self, request, queryset):
        self._bulk(request, queryset, "recheck")

    @admin.action(description="Approve and issue (manual review)", permissions=["review"])
    def approve(self, request, queryset):
        self._bulk(request, queryset, "approve")

    @admin.action(description="Reject, with a reason the learner sees", permissions=["review"])
    def reject(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "reject",
            title="Reject certificates",
            explanation="The learner sees this reason on their page. Only held certificates can be rejected.",
        )

    @admin.action(description="Send the certificate email again", permissions=["resend"])
    def resend(self, request, queryset):
        self._bulk(request, queryset, "resend")

    @admin.action(description="Revoke, with a reason the verify page shows", permissions=["revoke"])
    def revoke(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "revoke",
            title="Revoke certificates",
            explanation="Anyone checking these certificates will see them as revoked, with this reason.",
        )

    @admin.action(description="Reissue from today's data (confirm first)", permissions=["reissue_many"])
    def reissue(self, request, queryset):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: MAX_SELECTED + 1])
        if len(ids) > MAX_SELECTED:
            messages.error(request, f"Select at most {MAX_SELECTED}; reissue a whole course from its page.")
            return None
        return reissue_confirm(
            request,
            certificate_ids=ids,
            course=None,
            back=reverse("admin:certificates_certificate_changelist"),
            select_across=request.POST.get("select_across") == "1",
        )

    @admin.action(description="Export CSV (every version)", permissions=["export"])
    def export_csv(self, request, queryset):
        return export_csv_response(
            certificate_ids=queryset.values("pk"), name=f"certificates-{timezone.localdate().isoformat()}"
        )

    def course_preview(self, request, course_id: int, kind: str):
        """A sample certificate of a course (linked from the course's admin page)."""
        if not request.user.has_perm("courses.view_course"):
            raise PermissionDenied
        course = get_object_or_404(Course, pk=course_id)
        pdf_bytes, png_bytes = rendering.certificate_preview(
            course_id=course.pk, holder_name=request.GET.get("name", "")
        )
        if kind == "png":
            return HttpResponse(png_bytes, content_type="image/png")
        return HttpResponse(pdf_bytes, content_type="application/pdf")


@admin.register(CertificateEvent)
class CertificateEventAdmin(ReadOnlyAdmin):
    """The certificates' audit log: every change of state, who made it and why."""

    list_display = ["created_at", "certificate", "kind", "to_state", "short_message", "actor_label"]
    list_filter = ["kind"]
    search_fields = ["certificate__code", "message", "actor_label"]
    list_select_related = ["certificate"]

    @admin.display(description="Message")
    def short_message(self, event):
        return Truncator(event.message).chars(SHORT_REASON)


@admin.register(CertificateVersion)
class CertificateVersionAdmin(ReadOnlyAdmin):
    """Versions are frozen printings: looked at, never edited."""

    list_display = ["__str__", "holder_name", "course_title", "reason", "is_current", "issued_at"]
    list_filter = ["reason", "is_current"]
    search_fields = ["certificate__code", "holder_name", "pdf_sha256"]
    list_select_related = ["certificate"]

    def get_model_perms(self, request):
        return {}  # reached from a certificate's page, not the index
