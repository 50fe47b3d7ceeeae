from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.html import format_html_join

from courses.models import Course

from . import selectors
from .errors import CertificateError
from .models import Certificate, CertificateEvent, CertificateVersion, Pipeline
from .services import emailing, issuance, lifecycle, rendering


class VersionInline(admin.TabularInline):
    model = CertificateVersion
    extra = 0
    can_delete = False
    fields = readonly_fields = [
        "number",
        "is_current",
        "reason",
        "note",
        "holder_name",
        "course_title",
        "issued_at",
        "superseded_at",
        "pdf",
        "pdf_sha256",
    ]

    def has_add_permission(self, request, obj=None):
        return False


class CertificateEventInline(admin.TabularInline):
    model = CertificateEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ["created_at", "kind", "from_state", "to_state", "message", "actor_label"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = [
        "display_code",
        "learner",
        "course",
        "pipeline_state",
        "credential_state",
        "state_reason",
        "issued_at",
        "updated_at",
    ]
    list_filter = ["pipeline_state", "credential_state", "enrollment__course"]
    search_fields = [
        "code",
        "versions__holder_name",
        "enrollment__learner__full_name",
        "enrollment__learner__email",
        "enrollment__learner__external_id",
    ]
    list_select_related = ["enrollment__learner", "enrollment__course"]
    date_hierarchy = "created_at"
    inlines = [VersionInline, CertificateEventInline]
    actions = ["approve", "resend", "revoke", "retry", "retry_render"]
    readonly_fields = [f.name for f in Certificate._meta.fields] + ["deliveries"]

    def has_add_permission(self, request):
        return False  # certificates are issued by the pipeline, never typed in

    def has_delete_permission(self, request, obj=None):
        return False  # nothing issued is ever lost

    @admin.display(description="Learner")
    def learner(self, certificate):
        return certificate.enrollment.learner

    @admin.display(description="Course")
    def course(self, certificate):
        return certificate.enrollment.course

    @admin.display(description="Emails")
    def deliveries(self, certificate):
        rows = selectors.certificate_deliveries(certificate)
        return (
            format_html_join(
                "",
                "<div>{} · {} to {}: {} {}</div>",
                (
                    (d.created_at.strftime("%Y-%m-%d %H:%M"), d.purpose, d.recipient, d.status, d.last_error)
                    for d in rows
                ),
            )
            or "none yet"
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "title": self._health_title()}
        return super().changelist_view(request, extra_context)

    @staticmethod
    def _health_title() -> str:
        counts = selectors.pipeline_counts()
        waiting = {k: v for k, v in counts.items() if v and k not in (Pipeline.EMAILED, Pipeline.REJECTED)}
        summary = ", ".join(f"{Pipeline(k).label.lower()}: {v}" for k, v in waiting.items()) or "nothing waiting"
        return f"Certificates — {summary}"

    def _each(self, request, queryset, verb: str, step) -> None:
        done = 0
        for certificate in queryset:
            try:
                step(certificate)
                done += 1
            except CertificateError as exc:
                self.message_user(request, f"{certificate.display_code}: {exc}", messages.WARNING)
        if done:
            self.message_user(request, f"{verb} {done} certificate{'s' if done != 1 else ''}.", messages.SUCCESS)

    @admin.action(description="Approve held certificates (manual review)")
    def approve(self, request, queryset):
        self._each(
            request,
            queryset,
            "Approved",
            lambda c: issuance.certificate_approve(certificate_id=c.pk, by=request.user),
        )

    @admin.action(description="Resend certificate email")
    def resend(self, request, queryset):
        count = emailing.certificate_email_resend(
            certificate_ids=list(queryset.values_list("pk", flat=True)), by=request.user
        )
        level = messages.SUCCESS if count else messages.WARNING
        self.message_user(request, f"Queued {count} emails." if count else "Nothing to resend.", level)

    @admin.action(description="Revoke certificates")
    def revoke(self, request, queryset):
        self._each(
            request,
            queryset,
            "Revoked",
            lambda c: lifecycle.certificate_revoke(certificate_id=c.pk, by=request.user, reason="revoked by staff"),
        )

    @admin.action(description="Re-check held certificates (after fixing the learner's data)")
    def retry(self, request, queryset):
        enrollment_ids = list(queryset.filter(pipeline_state=Pipeline.HELD).values_list("enrollment_id", flat=True))
        issuance.certificates_issue_for_enrollments(enrollment_ids=enrollment_ids, by=request.user)
        self.message_user(request, f"Re-checked {len(enrollment_ids)} held certificates.", messages.SUCCESS)

    @admin.action(description="Try rendering again (after it gave up)")
    def retry_render(self, request, queryset):
        self._each(
            request,
            queryset.filter(pipeline_state=Pipeline.ISSUED),
            "Queued rendering of",
            lambda c: rendering.certificate_render_retry(certificate_id=c.pk, by=request.user),
        )

    def get_urls(self):
        preview = self.admin_site.admin_view(self.course_preview)
        return [
            path("preview/<int:course_id>.<str:kind>", preview, name="certificates_course_preview"),
            *super().get_urls(),
        ]

    def course_preview(self, request, course_id: int, kind: str):
        """A sample certificate of a course (linked from the course's admin page)."""
        course = get_object_or_404(Course, pk=course_id)
        pdf_bytes, png_bytes = rendering.certificate_preview(
            course_id=course.pk, holder_name=request.GET.get("name", "")
        )
        if kind == "png":
            return HttpResponse(png_bytes, content_type="image/png")
        return HttpResponse(pdf_bytes, content_type="application/pdf")


@admin.register(CertificateEvent)
class CertificateEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "certificate", "kind", "from_state", "to_state", "message", "actor_label"]
    list_filter = ["kind"]
    search_fields = ["certificate__code", "message", "actor_label"]
    list_select_related = ["certificate"]
    readonly_fields = [f.name for f in CertificateEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Learners' requests and the watchdog's pages live in modules of their own.
from . import admin_cases, admin_watchdog  # noqa: E402, F401
