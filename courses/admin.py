from django.contrib import admin

from .models import Course, Organisation


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "reply_to_email", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "organisation", "issuance_rule", "threshold", "template_family", "instructor_name"]
    list_filter = ["issuance_rule", "template_family", "organisation"]
    search_fields = ["title", "slug", "instructor_name"]
    list_select_related = ["organisation"]
    prepopulated_fields = {"slug": ["title"]}
