import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from learners.csv_import import LAYOUTS, FileError
from learners.services import completions_import

EXIT_SOME_REJECTED = 1
EXIT_FILE_UNUSABLE = 2


class Command(BaseCommand):
    help = "Import an LMS completion export (CSV). Safe to run again: nothing is imported twice."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV file.")
        parser.add_argument(
            "--format", default="auto", choices=["auto", *LAYOUTS], help="Default: detect from the header."
        )
        parser.add_argument("--course", default="", help="Course slug, for exports that hold one course.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")
        parser.add_argument("--errors", type=Path, help="Write rejected rows (line, reason, original row) to this CSV.")
        parser.add_argument("--create-courses", action="store_true", help="Create courses the file mentions.")
        parser.add_argument("--lms", default="default", help="Which LMS the learner ids belong to.")
        parser.add_argument("--encoding", default="", help="The file's encoding, when detection guesses wrong.")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="OUR_FIELD=Their Header",
            help="Map a column the layout does not recognise, e.g. --map learner_id='Employee No'.",
        )

    def handle(self, *args, path, format, course, dry_run, errors, create_courses, lms, map, encoding, **options):
        mapping = {}
        for item in map:
            ours, sep, theirs = item.partition("=")
            if not sep:
                raise CommandError(f"--map takes our_field=Their Header, not {item!r}", returncode=EXIT_FILE_UNUSABLE)
            mapping[ours.strip()] = theirs.strip()
        try:
            handle = open(path, "rb")
        except OSError as exc:
            raise CommandError(f"cannot open {path}: {exc.strerror}", returncode=EXIT_FILE_UNUSABLE) from exc
        with handle, self._progress(os.fstat(handle.fileno()).st_size) as progress:
            try:
                report = completions_import(
                    handle=handle,
                    layout=format,
                    course=course,
                    mapping=mapping,
                    create_courses=create_courses,
                    dry_run=dry_run,
                    errors_path=errors,
                    lms=lms,
                    progress=progress,
                    encoding=encoding,
                )
            except FileError as exc:
                raise CommandError(f"{path}: {exc}", returncode=EXIT_FILE_UNUSABLE) from exc
        for line, reason in report.rejections:
            self.stderr.write(f"line {line}: {reason}")
        if report.rejected > len(report.rejections):
            self.stderr.write(
                f"... and {report.rejected - len(report.rejections)} more" + (f" (see {errors})" if errors else "")
            )
        for line, reason in report.held_rows:
            self.stderr.write(f"line {line}: imported, held for staff review: {reason}")
        self.stdout.write(("DRY RUN: " if dry_run else "") + report.summary())
        if report.rejected:
            sys.exit(EXIT_SOME_REJECTED)

    def _progress(self, total: int):
        """A progress bar on a terminal; silence in cron and CI."""
        from contextlib import nullcontext

        if not sys.stderr.isatty():
            return nullcontext(None)
        from tqdm import tqdm

        class Bar:
            def __enter__(self_inner):
                self_inner.bar = tqdm(total=total, unit="B", unit_scale=True, desc="importing", file=sys.stderr)
                return lambda position: self_inner.bar.update(position - self_inner.bar.n)

            def __exit__(self_inner, *exc):
                self_inner.bar.close()

        return Bar()
