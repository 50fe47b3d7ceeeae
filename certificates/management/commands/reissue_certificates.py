from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from certificates import codes
from certificates.models import VersionReason
from certificates.selectors import certificate_ids_for_reissue
from certificates.services.jobs import reissue_job_start
from certificates.services.lifecycle import certificates_reissue_plan
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
        parser.add_argument("--by", help="The staff username the job and the new versions are recorded under.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would change.")

    def handle(self, *args, course, code, reason, kind, by, dry_run, **options):
        if not reason.strip():
            raise CommandError("--reason must say why")
        user = None
        if by:
            user = get_user_model().objects.filter(username=by, is_staff=True).first()
            if user is None:
                raise CommandError(f"no staff user {by!r}")
        course_slug, found = None, None
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
            job = reissue_job_start(
                certificate_ids=changing, note=reason, by=user, course_id=found.pk if found else None, reason=kind
            )
            page = settings.SITE_URL + reverse("admin:certificates_staffjob_change", args=[job.pk])
            self.stdout.write(f"Queued {len(changing)} reissues as job #{job.pk}; its progress: {page}")
        if missing:
            raise CommandError(f"{len(missing)} codes not found", returncode=1)
