import csv

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certificates.models import Status
from certificates.selectors import certificates_for_export
from courses.models import Course

COLUMNS = [
    "code",
    "status",
    "version",
    "holder_name",
    "learner_external_id",
    "email",
    "course_slug",
    "course_title",
    "issued_at",
    "verify_url",
    "pdf_sha256",
    "pdf_path",
    "delivery_status",
]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """Keep spreadsheets from running a cell as a formula (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def delivery_status(certificate) -> str:
    if certificate.emailed_at:
        return "sent"
    if certificate.status in (Status.DELIVERY_FAILED, Status.SENDING):
        return {Status.DELIVERY_FAILED: "failed", Status.SENDING: "sending"}[certificate.status]
    if certificate.status in (Status.ISSUED, Status.RENDERED):
        return "pending"
    return "not sent"  # held, or revoked/superseded before any email


class Command(BaseCommand):
    help = "Write one CSV row per certificate version, for staff and other tools."

    def add_arguments(self, parser):
        parser.add_argument("--course", help="Only this course's slug.")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, course=None, output=None, **options):
        if course and not Course.objects.filter(slug=course).exists():
            raise CommandError(f"unknown course {course!r}")
        handle = open(output, "w", newline="", encoding="utf-8") if output else self.stdout
        try:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            rows = 0
            for certificate in certificates_for_export(course_slug=course):
                learner, course_row = certificate.enrollment.learner, certificate.enrollment.course
                writer.writerow(
                    neutralise(v)
                    for v in [
                        certificate.display_code,
                        certificate.status,
                        certificate.version,
                        certificate.holder_name,
                        learner.external_id,
                        certificate.recipient_email,
                        course_row.slug,
                        certificate.course_title,
                        certificate.issued_at.isoformat() if certificate.issued_at else "",
                        certificate.verify_url,
                        certificate.pdf_sha256,
                        certificate.pdf.name or "",
                        delivery_status(certificate),
                    ]
                )
                rows += 1
        finally:
            if output:
                handle.close()
        if output:
            self.stderr.write(f"Wrote {rows} certificates to {output} (PDF paths relative to {settings.MEDIA_ROOT}).")
