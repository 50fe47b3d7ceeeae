from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

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
    readonly_fields = ["preview_links", "certificate_links"]
    fieldsets = [
        (None, {"fields": ["organisation", "slug", "title", "preview_links"]}),
        ("Issuance", {"fields": ["issuance_rule", "threshold", "validity_months"]}),
        (
            "Certificate",
            {"fields": ["template_family", "certificate_phrase", "instructor_name", "instructor_title", "signature"]},
        ),
        ("Email", {"fields": ["email_paragraph"]}),
        (
            "Branding (blank: the organisation's)",
            {"fields": ["accent_color", "secondary_color", "page_size", "locale"]},
        ),
        ("Cohort and custom fields", {"fields": ["cohort_name", "cohort_start", "cohort_end", "custom_fields"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and request.user.has_perm("certificates.reissue_course"):
            return [*fieldsets, ("Its certificates", {"fields": ["certificate_links"]})]
        return fieldsets

    @admin.display(description="Bulk work")
    def certificate_links(self, course):
        # Drawn by the certificates app (above this one), linked by URL name; each page asks first.
        links = [
            (reverse("admin:certificates_reissue_course", args=[course.pk]), "Reissue all its certificates…"),
            (reverse("admin:certificates_export_zip", args=[course.pk]), "ZIP of its current PDFs…"),
            (reverse("admin:certificates_export_csv", args=[course.pk]), "CSV of its certificates"),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description="Preview")
    def preview_links(self, course):
        # The preview is drawn by the certificates app, which sits above this one: linked by URL name.
        if not course.pk:
            return "Save the course to preview its certificate."
        pdf_url = reverse("admin:certificates_course_preview", args=[course.pk, "pdf"])
        png_url = reverse("admin:certificates_course_preview", args=[course.pk, "png"])
        return format_html(
            '<a href="{}" target="_blank">Sample PDF</a> · <a href="{}" target="_blank">PNG</a>', pdf_url, png_url
        )
