"""Bulk work from the desk: reissue a course (or the selected certificates) after a confirmation page
that says what will change, a ZIP of a course's PDFs, a CSV export. The work runs in the background;
the job's page shows it moving and survives a worker restart (the job's rows remember it)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import slugify

from courses.models import Course

from .. import exports, selectors
from ..models.jobs import ItemOutcome, JobKind, JobState, StaffJob
from ..services import jobs
from .common import ReadOnlyAdmin, allowed, audit, require

REISSUE_MANY = "certificates.reissue_course"
EXPORT = "certificates.export_certificates"
#: More than this many selected certificates are reissued by course instead (the page would be huge).
MAX_SELECTED = 5000


def reissue_confirm(
    request,
    *,
    certificate_ids: list[int],
    course: Course | None,
    back: str,
    select_across: bool = False,
    reason: str = "",
    title: str = "",
):
    """The confirmation page (GET-like) and the start of the job (POST with ``confirm``)."""
    require(request, REISSUE_MANY)
    if request.POST.get("confirm"):
        try:
            job = jobs.reissue_job_start(
                certificate_ids=certificate_ids,
                note=request.POST.get("note", ""),
                by=request.user,
                course_id=course.pk if course else None,
                reason=reason,
            )
        except jobs.JobError as exc:
            messages.error(request, f"Not started: {exc}")
        else:
            audit(request, job, f"started reissuing {job.total} certificates: {job.note}")
            messages.success(request, f"Reissuing {job.total} certificates in the background.")
            return HttpResponseRedirect(reverse("admin:certificates_staffjob_change", args=[job.pk]))
    preview = jobs.reissue_preview(certificate_ids=certificate_ids)
    context = {
        **admin.site.each_context(request),
        "title": title or f"Reissue {course.title if course else f'{len(certificate_ids)} certificates'}",
        "preview": preview,
        "course": course,
        # A selection is posted back as the page's ids, or as "all N" with the list's filters (the URL):
        # never thousands of hidden fields.
        "certificate_ids": certificate_ids[:1] if select_across else (certificate_ids if course is None else []),
        "select_across": select_across,
        "post_to": request.get_full_path(),
        "back": back,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/desk/reissue_confirm.html", context)


def reissue_course_view(request, course_id: int):
    course = get_object_or_404(Course, pk=course_id)
    ids = jobs.course_certificate_ids(course_id=course.pk)
    return reissue_confirm(
        request, certificate_ids=ids, course=course, back=reverse("admin:courses_course_change", args=[course.pk])
    )


def export_zip_view(request, course_id: int):
    require(request, EXPORT)
    course = get_object_or_404(Course, pk=course_id)
    if request.method != "POST":  # a link only asks; the button (POST) starts it
        context = {
            **admin.site.each_context(request),
            "title": f"ZIP of {course.title}'s PDFs",
            "course": course,
            "count": jobs.course_zip_count(course_id=course.pk),
        }
        return TemplateResponse(request, "admin/desk/zip_confirm.html", context)
    job = jobs.export_zip_start(course_id=course.pk, by=request.user)
    audit(request, job, f"started a ZIP of {course.title}'s PDFs")
    return HttpResponseRedirect(reverse("admin:certificates_staffjob_change", args=[job.pk]))


def export_csv_response(*, certificate_ids: list[int] | None = None, course_slug: str | None = None, name: str):
    rows = selectors.certificate_export_rows(course_slug=course_slug, certificate_ids=certificate_ids)
    response = StreamingHttpResponse(exports.csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(name) or "certificates"}.csv"'
    return response


def export_csv_view(request, course_id: int):
    require(request, EXPORT)
    course = get_object_or_404(Course, pk=course_id)
    stamp = timezone.localdate().isoformat()
    return export_csv_response(course_slug=course.slug, name=f"{course.slug}-certificates-{stamp}")


@admin.register(StaffJob)
class StaffJobAdmin(ReadOnlyAdmin):
    """Background jobs and their progress; a finished ZIP is downloaded from its page."""

    list_display = ["__str__", "state", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "state"]
    list_select_related = ["course", "created_by"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:job_id>/download/", view(self.download_view), name="certificates_staffjob_download"),
            path("course/<int:course_id>/reissue/", view(reissue_course_view), name="certificates_reissue_course"),
            path("course/<int:course_id>/zip/", view(export_zip_view), name="certificates_export_zip"),
            path("course/<int:course_id>/csv/", view(export_csv_view), name="certificates_export_csv"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(StaffJob.objects.select_related("course", "created_by"), pk=object_id)
        counts = dict(job.items.values_list("outcome").annotate(n=Count("pk")))
        done = sum(
            counts.get(outcome, 0) for outcome in (ItemOutcome.REISSUED, ItemOutcome.UNCHANGED, ItemOutcome.FAILED)
        )
        failures = job.items.filter(outcome=ItemOutcome.FAILED).select_related("certificate")[:50]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(job),
            "job": job,
            "counts": [(ItemOutcome(outcome).label, counts.get(outcome, 0)) for outcome in ItemOutcome.values],
            "done": done,
            "failed": counts.get(ItemOutcome.FAILED, 0),
            "percent": int(100 * done / job.total) if job.total else (100 if job.state != JobState.RUNNING else 0),
            "failures": failures,
            "running": job.state == JobState.RUNNING,
            "can_download": job.kind == JobKind.EXPORT_ZIP and bool(job.file) and allowed(request, EXPORT),
        }
        return TemplateResponse(request, "admin/desk/job.html", context)

    def download_view(self, request, job_id: int):
        require(request, EXPORT)
        job = get_object_or_404(StaffJob, pk=job_id, kind=JobKind.EXPORT_ZIP, state=JobState.FINISHED)
        if not job.file:
            raise Http404("no file")
        return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1])
