from django.contrib import admin, messages

from . import selectors, services
from .errors import CertificateError
from .models import Certificate, CertificateEvent, Delivery, Status, SuppressedAddress, TrackingEvent


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = readonly_fields = [
        "created_at",
        "purpose",
        "recipient",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "tracking_status",
    ]

    def has_add_permission(self, request, obj=None):
        return False


class CertificateEventInline(admin.TabularInline):
    model = CertificateEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "message", "actor_label"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = [
        "display_code",
        "holder_name",
        "course_title",
        "version",
        "status",
        "status_reason",
        "issued_on",
        "updated_at",
    ]
    list_filter = ["status", "template_family", "enrollment__course"]
    search_fields = ["code", "holder_name", "recipient_email", "course_title", "enrollment__learner__external_id"]
    list_select_related = ["enrollment__course"]
    date_hierarchy = "created_at"
    inlines = [DeliveryInline, CertificateEventInline]
    actions = ["approve", "resend", "revoke", "retry"]
    readonly_fields = [f.name for f in Certificate._meta.fields]

    def has_add_permission(self, request):
        return False  # certificates are issued by the pipeline, never typed in

    def has_delete_permission(self, request, obj=None):
        return False  # nothing issued is ever lost

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "title": self._health_title()}
        return super().changelist_view(request, extra_context)

    @staticmethod
    def _health_title() -> str:
        counts = selectors.pipeline_counts()
        waiting = {k: v for k, v in counts.items() if v and k not in (Status.EMAILED, Status.SUPERSEDED)}
        summary = ", ".join(f"{Status(k).label.lower()}: {v}" for k, v in waiting.items()) or "nothing waiting"
        return f"Certificates — {summary}"

    @admin.action(description="Approve held certificates (manual review)")
    def approve(self, request, queryset):
        done = 0
        for certificate_id in queryset.values_list("pk", flat=True):
            try:
                services.certificate_approve(certificate_id=certificate_id, by=request.user)
                done += 1
            except CertificateError as exc:
                self.message_user(request, f"{certificate_id}: {exc}", messages.WARNING)
        self.message_user(request, f"Approved {done} certificates.", messages.SUCCESS)

    @admin.action(description="Resend certificate email")
    def resend(self, request, queryset):
        count = services.certificate_email_resend(
            certificate_ids=list(queryset.values_list("pk", flat=True)), by=request.user
        )
        self.message_user(request, f"Queued {count} emails.", messages.SUCCESS)

    @admin.action(description="Revoke certificates")
    def revoke(self, request, queryset):
        done = 0
        for certificate_id in queryset.values_list("pk", flat=True):
            try:
                services.certificate_revoke(certificate_id=certificate_id, by=request.user, reason="revoked by staff")
                done += 1
            except CertificateError as exc:
                self.message_user(request, f"{certificate_id}: {exc}", messages.WARNING)
        self.message_user(request, f"Revoked {done} certificates.", messages.SUCCESS)

    @admin.action(description="Re-check held certificates (after fixing the learner's data)")
    def retry(self, request, queryset):
        enrollment_ids = list(queryset.filter(status=Status.HELD).values_list("enrollment_id", flat=True))
        for enrollment_id in enrollment_ids:
            services.certificate_issue_for_enrollment(enrollment_id=enrollment_id)
        self.message_user(request, f"Re-checked {len(enrollment_ids)} held certificates.", messages.SUCCESS)


@admin.register(CertificateEvent)
class CertificateEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "certificate", "kind", "message", "actor_label"]
    list_filter = ["kind"]
    search_fields = ["certificate__code", "message", "actor_label"]
    list_select_related = ["certificate"]
    readonly_fields = ["certificate", "kind", "message", "actor", "actor_label", "data", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "certificate",
        "purpose",
        "recipient",
        "status",
        "attempts",
        "tracking_status",
        "last_error",
    ]
    list_filter = ["status", "purpose", "tracking_status"]
    search_fields = ["recipient", "certificate__code", "esp_message_id"]
    list_select_related = ["certificate"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TrackingEvent)
class TrackingEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "event_type", "recipient", "delivery", "description"]
    list_filter = ["event_type"]
    search_fields = ["recipient", "esp_message_id"]
    readonly_fields = [f.name for f in TrackingEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(admin.ModelAdmin):
    """Deleting a row lets the address be mailed again (after checking it really works)."""

    list_display = ["email", "reason", "description", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
    readonly_fields = ["email", "reason", "description", "created_at"]

    def has_add_permission(self, request):
        return False


from . import admin_watchdog  # noqa: E402, F401  (watchdog pages live in their own module)
