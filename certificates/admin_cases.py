"""Learners' requests in the admin: a queue per kind and state, decided by actions that call the
cases service (the admin never writes a case's state itself)."""

from django.contrib import admin, messages
from django.db import transaction

from .models import Case, CaseEvent, CaseState
from .services import cases


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ["created_at", "kind", "from_state", "to_state", "note", "actor_label"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "state", "learner", "requested_name", "created_at", "assignee"]
    list_filter = ["state", "kind"]
    search_fields = ["learner__full_name", "learner__email", "learner__external_id", "requested_name", "new_email"]
    list_select_related = ["learner", "assignee"]
    fields = [
        "kind",
        "state",
        "learner",
        "certificate",
        "enrollment",
        "current_name",
        "requested_name",
        "new_email",
        "message",
        "decision_note",
        "assignee",
        "created_at",
        "decided_at",
        "decided_by",
    ]
    readonly_fields = [name for name in fields if name not in ("decision_note", "assignee")]
    inlines = [CaseEventInline]
    actions = ["approve", "decline", "assign_to_me"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "assignee" in form.changed_data:
            cases.case_assign(case_id=obj.pk, assignee=obj.assignee, by=request.user)
        if "decision_note" in form.changed_data:
            with transaction.atomic():
                Case.objects.filter(pk=obj.pk).update(decision_note=obj.decision_note[:500])

    def _each(self, request, queryset, verb: str, step) -> None:
        done, refused = 0, []
        for case in queryset:
            try:
                step(case)
            except cases.CaseError as exc:
                refused.append(f"{case}: {exc}")
            else:
                done += 1
        if done:
            messages.success(request, f"{verb} {done} request{'s' if done != 1 else ''}.")
        for line in refused:
            messages.error(request, line)
        if not done and not refused:
            messages.warning(request, "Nothing was selected.")

    @admin.action(description="Approve (name correction: reissue; dispute: run the course's rule again)")
    def approve(self, request, queryset):
        self._each(request, queryset, "Approved", lambda case: cases.case_approve(case_id=case.pk, by=request.user))

    @admin.action(description="Decline, with the reason written in the request (the learner sees it)")
    def decline(self, request, queryset):
        self._each(
            request,
            queryset,
            "Declined",
            lambda case: cases.case_decline(case_id=case.pk, by=request.user, note=case.decision_note),
        )

    @admin.action(description="Assign to me")
    def assign_to_me(self, request, queryset):
        live = queryset.filter(state__in=[CaseState.OPEN, CaseState.WAITING_ON_LEARNER])
        self._each(
            request,
            live,
            "Assigned",
            lambda case: cases.case_assign(case_id=case.pk, assignee=request.user, by=request.user),
        )
