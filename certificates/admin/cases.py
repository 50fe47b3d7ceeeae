"""Learners' requests in the admin: every case, and a queue each for name corrections and completion
disputes. A case's page is a work page: what was asked beside what is printed (with a preview of the
corrected certificate) or the LMS's record beside the course's rule, the history, and the decision
buttons. Decisions go through the cases service; the learner is emailed the answer."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import Truncator
from django.utils.timesince import timesince

from learners.models import WebhookEvent

from .. import selectors
from ..errors import CertificateError
from ..models import Case, CaseKind, CaseState, Certificate, CompletionDispute, NameCorrection
from ..services import cases, issuance, rendering
from .common import allowed, audit, require, run_each

DECIDE = "certificates.decide_case"


def case_label(case: Case) -> str:
    learner = case.learner
    return f"{case.get_kind_display().lower()} #{case.pk} ({learner.certificate_name or learner.external_id})"


#: The buttons of a case's page: (name, label, needs a note, applies to).
CASE_BUTTONS = {
    "assign": ("Take it (assign to me)", False, lambda case: case.is_live),
    "approve": (
        "Approve",
        False,
        lambda case: case.is_live and case.kind in (CaseKind.NAME_CORRECTION, CaseKind.COMPLETION_DISPUTE),
    ),
    "override": (
        "Issue against the rule",
        True,
        lambda case: case.is_live and case.kind == CaseKind.COMPLETION_DISPUTE,
    ),
    "decline": ("Decline", True, lambda case: case.is_live),
}


def _decide(case: Case, action: str, user, note: str) -> Case:
    if action == "assign":
        return cases.case_assign(case_id=case.pk, assignee=user, by=user)
    if action == "approve":
        return cases.case_approve(case_id=case.pk, by=user, note=note)
    if action == "override":
        return cases.case_override_issue(case_id=case.pk, by=user, note=note)
    return cases.case_decline(case_id=case.pk, by=user, note=note)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["case_column", "learner_column", "state", "asked_column", "assignee"]
    list_filter = ["state", "kind", ("assignee", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["requested_name"]  # shows the box; the search itself is get_search_results
    search_help_text = "Learner's name, email or LMS id (accents and case do not matter), or a certificate code."
    list_select_related = ["learner", "assignee"]
    list_per_page = 50
    actions = ["assign_to_me", "approve"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # decided with the buttons, through the service

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request):
        return allowed(request, DECIDE)

    def get_search_results(self, request, queryset, search_term):
        return selectors.search_by_learner(
            queryset, search_term, learner_path="learner__", code_field="certificate__code"
        ), False

    @admin.display(description="Request", ordering="pk")
    def case_column(self, case):
        words = f"{case.get_kind_display()} #{case.pk}"
        if case.requested_name:
            words += f": “{Truncator(case.requested_name).chars(30)}”"
        return words

    @admin.display(description="Learner", ordering="learner__full_name")
    def learner_column(self, case):
        return Truncator(case.learner.certificate_name or case.learner.external_id).chars(30)

    @admin.display(description="Asked", ordering="created_at")
    def asked_column(self, case):
        return f"{timesince(case.created_at)} ago"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:case_id>/decide/<str:action>/", view(self.decide_view), name="certificates_case_decide"),
            path("<int:case_id>/preview.png", view(self.preview_view), name="certificates_case_preview"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        case = (
            Case.objects.select_related("learner", "certificate", "enrollment__course", "assignee", "decided_by")
            .filter(pk=object_id if str(object_id).isdigit() else 0)
            .first()
        )
        if case is None:
            raise Http404("no such request")
        context = {
            **self.admin_site.each_context(request),
            "opts": Case._meta,
            "title": f"{case.get_kind_display()} #{case.pk}",
            "case": case,
            "events": case.events.order_by("-pk"),
            "buttons": [
                (name, label, needs_note)
                for name, (label, needs_note, applies) in CASE_BUTTONS.items()
                if applies(case) and allowed(request, DECIDE)
            ],
            "learner_url": reverse("admin:learners_learner_change", args=[case.learner_id]),
        }
        if case.kind == CaseKind.NAME_CORRECTION and case.certificate_id:
            context["printed_name"] = (
                case.certificate.current_version.holder_name if case.certificate.current_version else case.current_name
            )
            context["unprintable"] = selectors.unprintable_characters(case.requested_name)
            context["preview"] = case.certificate.is_public and not context["unprintable"]
        if case.kind == CaseKind.COMPLETION_DISPUTE and case.enrollment_id:
            context.update(self._dispute_context(case))
        return TemplateResponse(request, "admin/desk/case.html", context)

    @staticmethod
    def _dispute_context(case: Case) -> dict:
        enrollment, course = case.enrollment, case.enrollment.course
        decision = issuance.rule_decision(enrollment)
        sent = WebhookEvent.objects.filter(enrollment=enrollment).order_by("-received_at").first()
        return {
            "enrollment": enrollment,
            "course": course,
            "rule_now": decision,
            "lms_payload": json.dumps(sent.payload, indent=2, ensure_ascii=False) if sent else "",
            "lms_received": sent.received_at if sent else None,
            "certificate": Certificate.objects.filter(enrollment=enrollment).first(),
        }

    def decide_view(self, request, case_id: int, action: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if action not in CASE_BUTTONS:
            raise Http404("no such decision")
        require(request, DECIDE)
        case = get_object_or_404(Case.objects.select_related("learner"), pk=case_id)
        note = request.POST.get("note", "").strip()
        back = HttpResponseRedirect(reverse("admin:certificates_case_change", args=[case_id]))
        label, needs_note, applies = CASE_BUTTONS[action]
        if needs_note and not note:
            messages.error(request, f"Not done: “{label}” needs a reason (the learner sees it).")
            return back
        if not applies(case):
            messages.error(request, f"Not done for {case_label(case)}: it is {case.get_state_display().lower()}.")
            return back
        done = run_each(
            request,
            [case],
            done={"assign": "Assigned to you", "approve": "Approved", "override": "Issued", "decline": "Declined"}[
                action
            ],
            label=case_label,
            step=lambda c: _decide(c, action, request.user, note),
            errors=(CertificateError,),
        )
        if done:
            audit(request, case, f"{label}" + (f": {note}" if note else ""))
        return back

    def preview_view(self, request, case_id: int):
        """The certificate as it would print with the requested name (nothing is saved)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        case = get_object_or_404(Case, pk=case_id, kind=CaseKind.NAME_CORRECTION)
        if not case.certificate_id or not Certificate.objects.public().filter(pk=case.certificate_id).exists():
            raise Http404("nothing printed yet")
        png = rendering.certificate_preview_with_name(
            certificate_id=case.certificate_id, holder_name=case.requested_name
        )
        return HttpResponse(png, content_type="image/png")

    @admin.action(description="Take them (assign to me)", permissions=["decide"])
    def assign_to_me(self, request, queryset):
        live = queryset.filter(state__in=[CaseState.OPEN, CaseState.WAITING_ON_LEARNER]).select_related("learner")
        run_each(
            request,
            live,
            done="Assigned to you",
            label=case_label,
            step=lambda case: cases.case_assign(case_id=case.pk, assignee=request.user, by=request.user),
        )

    @admin.action(description="Approve (name correction: reissue; dispute: run the rule again)", permissions=["decide"])
    def approve(self, request, queryset):
        run_each(
            request,
            queryset.select_related("learner"),
            done="Approved",
            label=case_label,
            step=lambda case: cases.case_approve(case_id=case.pk, by=request.user),
        )


class NameCorrectionForm(forms.Form):
    certificate = forms.CharField(
        label="Certificate code", help_text="As printed, in any case, with or without dashes."
    )
    requested_name = forms.CharField(label="Correct name", max_length=300)
    message = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


@admin.register(NameCorrection)
class NameCorrectionAdmin(CaseAdmin):
    """Name corrections, asked by learners or entered by staff (a learner who phoned)."""

    list_display = ["case_column", "learner_column", "printed_column", "state", "asked_column", "assignee"]
    list_filter = ["state", ("assignee", admin.RelatedOnlyFieldListFilter)]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("add/", view(self.open_view), name="certificates_namecorrection_add"),
            *admin.ModelAdmin.get_urls(self),
        ]

    def has_add_permission(self, request):
        return allowed(request, DECIDE)

    @admin.display(description="Printed now")
    def printed_column(self, case):
        return Truncator(case.current_name).chars(30)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:certificates_case_change", args=[object_id]))

    def open_view(self, request):
        """Staff enter a name correction for a learner (the same request a learner makes on their page)."""
        require(request, DECIDE)
        form = NameCorrectionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            certificate = selectors.certificate_by_typed_code(form.cleaned_data["certificate"])
            if certificate is None:
                form.add_error("certificate", "No issued certificate has that code.")
            else:
                try:
                    case = cases.case_open_name_correction(
                        learner=certificate.enrollment.learner,
                        certificate_id=certificate.pk,
                        name=form.cleaned_data["requested_name"],
                        message=form.cleaned_data["message"],
                        by=request.user,
                    )
                except CertificateError as exc:
                    form.add_error(None, str(exc))
                else:
                    audit(request, case, "opened a name correction for the learner")
                    messages.success(request, f"Opened {case_label(case)}.")
                    return HttpResponseRedirect(reverse("admin:certificates_case_change", args=[case.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Enter a name correction",
            "form": form,
        }
        return TemplateResponse(request, "admin/desk/open_name_correction.html", context)


@admin.register(CompletionDispute)
class CompletionDisputeAdmin(CaseAdmin):
    """ "I finished but got no certificate": the LMS's record beside the course's rule, on each page."""

    list_display = ["case_column", "learner_column", "course_column", "state", "asked_column", "assignee"]
    list_filter = ["state", ("assignee", admin.RelatedOnlyFieldListFilter), "enrollment__course"]
    list_select_related = ["learner", "assignee", "enrollment__course"]

    def get_urls(self):
        return admin.ModelAdmin.get_urls(self)

    @admin.display(description="Course")
    def course_column(self, case):
        return Truncator(case.enrollment.course.title).chars(30) if case.enrollment_id else "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:certificates_case_change", args=[object_id]))
