"""Certificate templates in the desk: edit the working copy and its wording per locale, see it printed
for sample learners, publish it (after the checks), and reissue what a new version changes.

Nothing here prints to a learner until it is published; publishing applies to new certificates, and
certificates already issued change only through the reissue page (which counts them first).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from courses import wording

from ..models import CertificateTemplate, CertificateTemplateVersion, CertificateTemplateWording, VersionReason
from ..services import templates
from .common import audit, require
from .jobs import REISSUE_MANY, reissue_confirm

PUBLISH = "certificates.publish_certificatetemplate"


class WordingInline(admin.StackedInline):
    model = CertificateTemplateWording
    extra = 0
    min_num = 1
    fields = [("locale", "position"), "heading", "intro", "phrase", "lines", ("date_label", "id_label")]


class VersionInline(admin.TabularInline):
    model = CertificateTemplateVersion
    extra = 0
    fields = ["number", "published_at", "published_by", "note"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False
    verbose_name_plural = "Published versions (frozen: certificates keep the version that printed them)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CertificateTemplate)
class CertificateTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "family", "is_default", "latest_version", "updated_at"]
    list_filter = ["family", "is_default", "organisation"]
    search_fields = ["name", "slug"]
    list_select_related = ["organisation"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [WordingInline, VersionInline]
    readonly_fields = ["placeholder_help", "checks", "previews", "publishing"]
    fieldsets = [
        (None, {"fields": ["organisation", "family", "name", "slug", "is_default"]}),
        ("Before it goes out", {"fields": ["checks", "previews", "publishing"]}),
        ("Look", {"fields": [("frame", "emblem", "rule"), ("heading_size", "score_prominent"), "page_size"]}),
        ("Fonts by role", {"fields": [("heading_font", "name_font", "body_font")]}),
        ("Colours", {"fields": [("accent_color", "secondary_color", "ink_color", "muted_color")]}),
        ("Images", {"fields": ["logo", "signature", "background"]}),
        ("Wording", {"fields": ["placeholder_help"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("versions")

    @admin.display(description="Published")
    def latest_version(self, template):
        numbers = [version.number for version in template.versions.all()]
        return f"v{max(numbers)}" if numbers else "not yet"

    @admin.display(description="Placeholders")
    def placeholder_help(self, template):
        rows = [("{" + name + "}", meaning) for name, meaning in wording.PLACEHOLDERS.items()]
        return format_html("<ul>{}</ul>", format_html_join("", "<li><code>{}</code>: {}</li>", rows))

    @admin.display(description="Checks")
    def checks(self, template):
        if not template.pk:
            return "Save the template to check it."
        problems = templates.template_problems(template)
        if not problems:
            return (
                "Ready to publish: every placeholder is known, every character printable, and the longest "
                "names and course titles fit."
            )
        return format_html(
            '<ul class="errorlist">{}</ul>', format_html_join("", "<li>{}</li>", ((problem,) for problem in problems))
        )

    @admin.display(description="Preview (working copy, marked SAMPLE)")
    def previews(self, template):
        if not template.pk:
            return "Save the template to preview it."
        cards = []
        for sample in templates.SAMPLES:
            png = reverse("admin:certificates_template_preview", args=[template.pk, sample.key, "png"])
            pdf = reverse("admin:certificates_template_preview", args=[template.pk, sample.key, "pdf"])
            cards.append((pdf, png, sample.label, sample.label, pdf))
        return format_html_join(
            "",
            '<figure style="display:inline-block;margin:0 12px 12px 0;width:300px">'
            '<a href="{}" target="_blank"><img src="{}" alt="{}" width="300" loading="lazy"></a>'
            '<figcaption>{} · <a href="{}" target="_blank">PDF</a></figcaption></figure>',
            cards,
        )

    @admin.display(description="Publish")
    def publishing(self, template):
        if not template.pk:
            return "-"
        latest = template.versions.order_by("-number").first()
        state = f"Published: v{latest.number}." if latest else "Not published yet: nothing prints it."
        publish = reverse("admin:certificates_template_publish", args=[template.pk])
        reissue = reverse("admin:certificates_template_reissue", args=[template.pk])
        return format_html(
            '{} <a href="{}">Publish the saved working copy…</a> (needs the publish permission)'
            '<p class="help">New certificates of {}\'s {} courses print the latest version{}. Certificates '
            'already issued keep theirs: <a href="{}">see how many would change and reissue them…</a></p>',
            state,
            publish,
            template.organisation,
            template.get_family_display().lower(),
            "" if template.is_default else " once it is the default for its family",
            reissue,
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.versions.exists():
            fields += ["organisation", "family"]  # its versions were checked and published for these
        if not request.user.has_perm(PUBLISH):
            fields.append("is_default")  # which template prints is a publishing decision
        return fields

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_default" in form.changed_data:
            verb = "made it the default" if obj.is_default else "stopped it being the default"
            audit(request, obj, f"{verb} for {obj.organisation}'s {obj.get_family_display().lower()} courses")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:template_id>/preview/<slug:sample>.<str:kind>",
                view(self.preview_view),
                name="certificates_template_preview",
            ),
            path("<int:template_id>/publish/", view(self.publish_view), name="certificates_template_publish"),
            path("<int:template_id>/reissue/", view(self.reissue_view), name="certificates_template_reissue"),
            *super().get_urls(),
        ]

    def preview_view(self, request, template_id: int, sample: str, kind: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        get_object_or_404(CertificateTemplate, pk=template_id)
        if sample not in templates.SAMPLES_BY_KEY or kind not in ("pdf", "png"):
            return HttpResponse("no such sample", status=404, content_type="text/plain")
        try:
            pdf_bytes, png_bytes = templates.template_preview(template_id=template_id, sample_key=sample)
        except templates.TemplateNotPublishable as exc:
            return HttpResponse(str(exc), status=409, content_type="text/plain")
        response = HttpResponse(
            png_bytes if kind == "png" else pdf_bytes, content_type="image/png" if kind == "png" else "application/pdf"
        )
        response["Cache-Control"] = "no-store"  # the working copy changes with every save
        return response

    def publish_view(self, request, template_id: int):
        """A page of its own (GET: the checks and the button; POST: publish), never a button inside
        the change form, where Enter in any field would press it and unsaved edits would be lost."""
        require(request, PUBLISH)
        template = get_object_or_404(CertificateTemplate, pk=template_id)
        back = reverse("admin:certificates_certificatetemplate_change", args=[template.pk])
        if request.method == "POST":
            try:
                version = templates.template_publish(
                    template_id=template.pk, by=request.user, note=request.POST.get("note", "")
                )
            except templates.TemplateNotPublishable as exc:
                for problem in exc.problems:
                    messages.error(request, f"Not published: {problem}")
                return HttpResponseRedirect(request.path)
            audit(
                request, template, f"published version {version.number}" + (f": {version.note}" if version.note else "")
            )
            messages.success(request, f"Published {template.name} v{version.number}.")
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Publish {template.name}",
            "template": template,
            "problems": templates.template_problems(template),
            "latest": template.versions.order_by("-number").first(),
            "back": back,
        }
        return TemplateResponse(request, "admin/desk/template_publish.html", context)

    def reissue_view(self, request, template_id: int):
        require(request, REISSUE_MANY)
        template = get_object_or_404(CertificateTemplate, pk=template_id)
        return reissue_confirm(
            request,
            certificate_ids=templates.template_certificate_ids(template_id=template.pk),
            course=None,
            back=reverse("admin:certificates_certificatetemplate_change", args=[template.pk]),
            select_across=True,  # the ids are worked out again from the template on POST, never posted
            reason=VersionReason.TEMPLATE_CHANGE,
            title=f"Reissue certificates printed by {template.organisation}'s {template.get_family_display().lower()} "
            "template",
        )
