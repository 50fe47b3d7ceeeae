"""Sign the Open Badges credential of every current rendered version that has none (certificates
rendered before credentials existed): in batches, idempotently, with a summary."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from certificates.services.credentials import BACKFILL_BATCH, BackfillSummary, credentials_backfill
from courses.selectors import course_by_key


class Command(BaseCommand):
    help = "Sign a credential for every current rendered certificate version without one. Safe to run again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--course", help="Only this course's certificates (slug or the LMS's course id).")
        parser.add_argument("--dry-run", action="store_true", help="Only count the versions that would be signed.")
        parser.add_argument("--batch-size", type=int, default=BACKFILL_BATCH, help=f"default {BACKFILL_BATCH}")

    def handle(self, *args, course: str | None, dry_run: bool, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        course_slug = None
        if course:
            found = course_by_key(course)
            if found is None:
                raise CommandError(f"unknown course {course!r}")
            course_slug = found.slug
        summary = BackfillSummary()
        for summary in credentials_backfill(course_slug=course_slug, dry_run=dry_run, batch_size=batch_size):
            if not dry_run:
                self.stdout.write(f"  {summary.signed} signed, {len(summary.failed)} failed so far")
        if dry_run:
            self.stdout.write(f"{summary.found} versions have no credential; none signed (dry run).")
            return
        self.stdout.write(
            f"{summary.found} versions had no credential: {summary.signed} signed, {len(summary.failed)} failed."
        )
        for version_id, why in summary.failed:
            self.stderr.write(f"  version {version_id}: {why}")
        if summary.failed:
            raise SystemExit(1)
