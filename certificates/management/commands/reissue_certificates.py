from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from certificates import codes
from certificates.models import VersionReason
from certificates.selectors import certificate_ids_for_reissue
from certificates.services.lifecycle import certificates_reissue_in_background, certificates_reissue_plan
from courses.selectors import course_by_key


class Command(BaseCommand):
    help = (
        "Reissue certificates from current data under the same codes (after a course rename, a name or date "
        "correction): queues the work and prints how many will change. Unchanged ones get no new version."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--course", help="Every issued certificate of this course (slug).")
        which.add_argument("--code", nargs="+", help="These certificates, by code as printed.")
        parser.add_argument("--reason", required=True, help="Why, in words staff and learners understand.")
        parser.add_argument(
            "--kind",
            default=VersionReason.BULK_REISSUE,
            choices=[r for r in VersionReason.values if r != VersionReason.FIRST_ISSUE],
            help="What kind of correction this is (default: bulk_reissue).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count what would change.")

    def handle(self, *args, course, code, reason, kind, dry_run, **options):
        if not reason.strip():
            raise CommandError("--reason must say why")
        course_slug = None
        if course:
            found = course_by_key(course)
            if found is None:
                raise CommandError(f"unknown course {course!r}")
            course_slug = found.slug
        wanted = None
        if code:
            wanted = [codes.normalize(typed) for typed in code]
            bad = [typed for typed, canonical in zip(code, wanted, strict=True) if canonical is None]
            if bad:
                raise CommandError(f"not a certificate code: {', '.join(bad)}")
        ids, missing = certificate_ids_for_reissue(course_slug=course_slug, wanted_codes=wanted)
        for canonical in missing:
            self.stderr.write(f"{codes.display(canonical)}: no issued certificate with this code")
        plan = certificates_reissue_plan(certificate_ids=ids)
        changing = plan.changing
        for canonical, why in plan.refused:
            self.stderr.write(f"{codes.display(canonical)}: cannot be reissued: {why}")
        verb = "would get" if dry_run else "will get"
        self.stdout.write(
            f"{len(ids)} certificates checked: {len(changing)} {verb} a new version, {plan.unchanged} unchanged"
            + (f", {len(plan.refused)} cannot be reissued." if plan.refused else ".")
        )
        if not dry_run and changing:
            with transaction.atomic():
                certificates_reissue_in_background(certificate_ids=changing, reason=kind, note=reason.strip())
            self.stdout.write(f"Queued {len(changing)} reissues; the worker renders and emails them.")
        if missing:
            raise CommandError(f"{len(missing)} codes not found", returncode=1)
