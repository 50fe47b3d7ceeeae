import csv

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from certificates.exports import COLUMNS, neutralise
from certificates.selectors import certificate_export_rows
from courses.selectors import course_by_key


class Command(BaseCommand):
    help = "Write one CSV row per certificate version (superseded ones too), then held and rejected ones."

    def add_arguments(self, parser):
        parser.add_argument("--course", help="Only this course's slug.")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, course=None, output=None, **options):
        if course:
            found = course_by_key(course)
            if found is None:
                raise CommandError(f"unknown course {course!r}")
            course = found.slug
        handle = open(output, "w", newline="", encoding="utf-8") if output else self.stdout
        try:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            rows = 0
            for row in certificate_export_rows(course_slug=course):
                writer.writerow(neutralise(row[column]) for column in COLUMNS)
                rows += 1
        finally:
            if output:
                handle.close()
        if output:
            self.stderr.write(f"Wrote {rows} rows to {output} (PDF paths are names in {_storage_place()}).")


def _storage_place() -> str:
    bucket = getattr(default_storage, "bucket_name", None)  # object storage has no folder to name
    return f"the bucket {bucket}" if bucket else str(settings.MEDIA_ROOT)
