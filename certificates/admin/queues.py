"""The work queues over certificates and deliveries: held for data, manual review, delivery problems.

Each is a filtered list (a proxy model, so it has its own page and permission) with the actions at
hand; a row opens the certificate's work page, where the fix and every other button are.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timesince import timesince

from delivery.models import DeliveryStatus

from .. import codes, selectors
from ..errors import CertificateError
from ..models import Certificate, DeliveryProblem, HeldCertificate, ReviewCertificate
from ..services import emailing
from .actions import RESEND, SHORT_REASON
from .certificates import CertificateAdmin
from .common import ReadOnlyAdmin, allowed, audit, certificate_label, require, run_each


class _QueueAdmin(CertificateAdmin):
    """A certificate list narrowed to one queue; its rows open the certificate's own page."""

    date_hierarchy = None

    def get_urls(self):
        return admin.ModelAdmin.get_urls(self)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:certificates_certificate_change", args=[object_id]))

    @admin.display(description="Waiting", ordering="updated_at")
    def waiting_column(self, certificate):
        return timesince(certificate.updated_at)


@admin.register(HeldCertificate)
class HeldCertificateAdmin(_QueueAdmin):
    """Held because of the data: the reason in words, the characters that cannot print named."""

    list_display = ["code_column", "learner_column", "course_column", "why_column", "waiting_column"]
    list_filter = ["enrollment__course"]
    actions = ["recheck", "reject"]
    ordering = ["updated_at", "pk"]  # oldest first: a queue is worked from the front

    @admin.display(description="Why it is held")
    def why_column(self, certificate):
        why = Truncator(certificate.state_reason).chars(SHORT_REASON)
        unprintable = selectors.unprintable_characters(certificate.enrollment.learner.certificate_name)
        if unprintable:
            why = f"{why} [{' '.join(c.code_point for c in unprintable)}]"
        return why


@admin.register(ReviewCertificate)
class ReviewCertificateAdmin(_QueueAdmin):
    """Courses whose rule asks a person: approve in bulk, or reject with a reason the learner sees."""

    list_display = ["code_column", "learner_column", "course_column", "completion_column", "waiting_column"]
    list_filter = ["enrollment__course"]
    actions = ["approve", "reject"]
    ordering = ["updated_at", "pk"]

    @admin.display(description="Completion")
    def completion_column(self, certificate):
        enrollment = certificate.enrollment
        parts = [f"completed {enrollment.completed_at:%Y-%m-%d}" if enrollment.completed_at else "not completed"]
        if enrollment.score is not None:
            parts.append(f"score {enrollment.score:g}%")
        if enrollment.attendance is not None:
            parts.append(f"attendance {enrollment.attendance:g}%")
        return ", ".join(parts)


@admin.register(DeliveryProblem)
class DeliveryProblemAdmin(ReadOnlyAdmin):
    """Certificate emails that bounced, were complained about or failed, and nothing later replaced."""

    list_display = ["created_at", "learner_column", "certificate_column", "recipient", "problem_column"]
    list_filter = ["status", "tracking_status", "purpose"]
    search_fields = ["recipient"]
    search_help_text = "Email address, learner's name, or a certificate code."
    actions = ["resend"]
    list_per_page = 50

    def get_queryset(self, request):
        return selectors.with_certificate_columns(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        certificates = selectors.search_by_learner(
            Certificate.objects.all(), search_term, learner_path="enrollment__learner__", code_field="code"
        )
        by_learner = Exists(certificates.filter(pk=OuterRef("certificate_pk")))
        return queryset.filter(by_learner) | queryset.filter(recipient__icontains=search_term.strip()), False

    def has_resend_permission(self, request):
        return allowed(request, RESEND)

    @admin.display(description="Learner", ordering="learner_name")
    def learner_column(self, delivery):
        if delivery.learner_pk is None:
            return "—"
        url = reverse("admin:learners_learner_change", args=[delivery.learner_pk])
        return format_html('<a href="{}">{}</a>', url, Truncator(delivery.learner_name).chars(30))

    @admin.display(description="Certificate")
    def certificate_column(self, delivery):
        if delivery.certificate_pk is None:
            return "—"
        url = reverse("admin:certificates_certificate_change", args=[delivery.certificate_pk])
        return format_html('<a href="{}">{}</a>', url, codes.display(delivery.certificate_code))

    @admin.display(description="Problem")
    def problem_column(self, delivery):
        what = delivery.tracking_status or ("failed" if delivery.status == DeliveryStatus.FAILED else delivery.status)
        return Truncator(f"{what}: {delivery.last_error}" if delivery.last_error else what).chars(SHORT_REASON)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:delivery_id>/address/", view(self.address_view), name="certificates_deliveryproblem_address"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        delivery = get_object_or_404(self.get_queryset(request), pk=object_id)
        work = selectors.certificate_work(delivery.certificate_pk) if delivery.certificate_pk else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Email to {delivery.recipient}: {self.problem_column(delivery)}",
            "delivery": delivery,
            "work": work,
            "can_fix": work is not None and allowed(request, "learners.change_learner"),
            "can_resend": work is not None and allowed(request, RESEND),
        }
        return TemplateResponse(request, "admin/desk/delivery_problem.html", context)

    def address_view(self, request, delivery_id: int):
        """Correct the address the email bounced from; the certificate is emailed there again."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        require(request, "learners.change_learner")
        delivery = get_object_or_404(self.get_queryset(request), pk=delivery_id)
        back = HttpResponseRedirect(reverse("admin:certificates_deliveryproblem_change", args=[delivery_id]))
        if delivery.certificate_pk is None:
            messages.error(request, "This email was not a certificate's: correct the address on the learner's page.")
            return back
        try:
            certificate, sent = emailing.certificate_correct_address(
                certificate_id=delivery.certificate_pk, email=request.POST.get("email", ""), by=request.user
            )
        except CertificateError as exc:
            messages.error(request, f"Not saved: {exc}")
            return back
        learner = certificate.enrollment.learner
        audit(request, certificate, f"corrected the address to {learner.email}")
        if not sent:
            messages.warning(
                request,
                f"Saved the address of {learner.certificate_name}, but no email went to it: "
                f"{certificate.display_code} {selectors.resend_refusal(certificate)}.",
            )
            return back
        messages.success(
            request, f"Saved. {certificate.display_code} goes to {learner.email} ({learner.certificate_name})."
        )
        return HttpResponseRedirect(reverse("admin:certificates_deliveryproblem_changelist"))

    @admin.action(description="Send the certificate email again", permissions=["resend"])
    def resend(self, request, queryset):
        rows = [d for d in queryset if d.certificate_pk is not None]
        certificates = {
            c.pk: c
            for c in Certificate.objects.filter(pk__in=[d.certificate_pk for d in rows]).select_related(
                "enrollment__learner"
            )
        }

        def step(certificate):
            if emailing.certificate_email_resend(certificate_ids=[certificate.pk], by=request.user):
                audit(request, certificate, "sent the email again (delivery problems)")
                return None
            return f"not sent: {selectors.resend_refusal(certificate)}"

        run_each(request, certificates.values(), done="Queued an email for", label=certificate_label, step=step)
