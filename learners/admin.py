from django.contrib import admin
from django.utils.text import Truncator

from . import services
from .models import CompletionSource, Enrollment, Learner, LearnerEmailChange, SignInEvent, WebhookEvent
from .selectors import learner_search_filter


class LearnerEmailChangeInline(admin.TabularInline):
    model = LearnerEmailChange
    extra = 0
    can_delete = False
    fields = readonly_fields = ["changed_at", "old_email", "new_email", "source"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Learner)
class LearnerAdmin(admin.ModelAdmin):
    list_display = ["name_column", "email", "external_id", "lms", "updated_at"]
    list_filter = ["lms"]
    search_fields = ["external_id"]  # shows the box; the search itself is get_search_results
    search_help_text = "Name, email or LMS id: accents and case do not matter."
    raw_id_fields = ["user"]
    readonly_fields = ["approved_name", "email_replaced"]
    fields = ["lms", "external_id", "full_name", "preferred_name", "approved_name", "email", "email_replaced", "user"]
    inlines = [LearnerEmailChangeInline]
    list_per_page = 50

    def get_search_results(self, request, queryset, search_term):
        matches = learner_search_filter(search_term)
        return (queryset if matches is None else queryset.filter(matches)), False

    @admin.display(description="Name", ordering="full_name")
    def name_column(self, learner):
        return Truncator(learner.certificate_name or "(no name)").chars(40)

    def get_readonly_fields(self, request, obj=None):
        # The LMS's id is the learner's identity: changing it would make them someone else.
        return [*self.readonly_fields, "lms", "external_id"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Through the services only: they keep the email history and re-evaluate held certificates.
        if change:
            learner = services.learner_update_details(
                learner_id=obj.pk,
                email=obj.email,
                full_name=obj.full_name,
                preferred_name=obj.preferred_name,
                source=CompletionSource.ADMIN,
            )
        else:
            learner = services.learner_upsert(
                external_id=obj.external_id,
                lms=obj.lms,
                email=obj.email,
                full_name=obj.full_name,
                preferred_name=obj.preferred_name,
                source=CompletionSource.ADMIN,
            )
        if "user" in form.changed_data:
            services.learner_link_user(learner_id=learner.pk, user_id=obj.user_id)
        obj.pk = learner.pk


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["learner", "course", "completed_at", "score", "attendance", "decision", "reason_column"]
    list_filter = ["decision", "source", "course"]
    search_fields = ["course__slug", "course__title"]
    search_help_text = "Learner's name, email or LMS id (accents and case do not matter), or the course."
    list_select_related = ["learner", "course"]
    raw_id_fields = ["learner"]
    readonly_fields = ["decision", "decision_reason", "decided_at", "source"]

    def get_search_results(self, request, queryset, search_term):
        by_course, _ = super().get_search_results(request, queryset, search_term)
        matches = learner_search_filter(search_term, learner_path="learner__")
        return (by_course if matches is None else by_course | queryset.filter(matches)), False

    @admin.display(description="Why")
    def reason_column(self, enrollment):
        return Truncator(enrollment.decision_reason).chars(50)

    def get_readonly_fields(self, request, obj=None):
        # A completion belongs to one learner on one course; moving it would orphan its certificate.
        return [*self.readonly_fields, "learner", "course"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Every completion goes through the service, so the issuance rule runs after commit.
        enrollment = services.enrollment_record_completion(
            learner_id=obj.learner_id,
            course_id=obj.course_id,
            completed_at=obj.completed_at,
            score=obj.score,
            attendance=obj.attendance,
            cohort=obj.cohort,
            custom_fields=obj.custom_fields,
            source=obj.source if change else "admin",
        )
        obj.pk = enrollment.pk


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "webhook_id", "outcome", "enrollment"]
    list_filter = ["outcome"]
    search_fields = ["webhook_id", "enrollment__learner__external_id"]
    list_select_related = ["enrollment__learner", "enrollment__course"]
    readonly_fields = ["webhook_id", "received_at", "payload", "enrollment", "outcome"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SignInEvent)
class SignInEventAdmin(admin.ModelAdmin):
    """The sign-in audit: read-only (the database refuses changes to it on PostgreSQL)."""

    list_display = ["created_at", "kind", "method", "user", "username", "ip"]
    list_filter = ["kind", "method"]
    search_fields = ["user__username", "user__email", "username", "ip"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
