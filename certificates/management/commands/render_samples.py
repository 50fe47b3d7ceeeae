"""Write a template's previews for the sample learners (PDF and PNG, marked SAMPLE) into a folder,
for review or for CI: ``manage.py render_samples --template SLUG --out DIR [--check]``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certificates.models import CertificateTemplate
from certificates.services import templates


class Command(BaseCommand):
    help = "Render a certificate template's working copy for the sample learners (PDF + PNG each)."

    def add_arguments(self, parser):
        parser.add_argument("--template", required=True, help="the template's slug")
        parser.add_argument("--out", required=True, help="folder to write <sample>.pdf and <sample>.png into")
        parser.add_argument(
            "--check", action="store_true", help="exit with status 1 if the template could not be published"
        )

    def handle(self, *args, template: str, out: str, check: bool, **options):
        found = CertificateTemplate.objects.filter(slug=template).first()
        if found is None:
            known = ", ".join(CertificateTemplate.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"no template {template!r}; templates: {known}")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for sample in templates.SAMPLES:
            try:
                pdf_bytes, png_bytes = templates.template_preview(template_id=found.pk, sample_key=sample.key)
            except templates.TemplateNotPublishable as exc:
                raise CommandError(str(exc)) from exc
            (folder / f"{sample.key}.pdf").write_bytes(pdf_bytes)
            (folder / f"{sample.key}.png").write_bytes(png_bytes)
            self.stdout.write(f"{folder / sample.key}.pdf/.png  {sample.label}")
        problems = templates.template_problems(found)
        for problem in problems:
            self.stderr.write(f"cannot publish: {problem}")
        if not problems:
            self.stdout.write(self.style.SUCCESS(f"{found.name}: ready to publish"))
        elif check:
            raise CommandError(f"{len(problems)} problem(s) would stop {found.name} being published")
