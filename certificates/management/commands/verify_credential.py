"""Verify a certificate PDF or an Open Badges credential JSON and print a verdict with its reasons."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certificates.credentials.checking import Outcome
from certificates.services.file_checks import file_check


class Command(BaseCommand):
    help = "Verify a certificate PDF or credential JSON: signature or proof, status, dates. Exit 1 unless valid."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--fetch",
            action="store_true",
            help="read another issuer's keys (did:web) and status lists over HTTPS; ours come from our records",
        )

    def handle(self, *args, file: Path, fetch: bool, **options) -> None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        verdict = file_check(data=data, fetch=fetch)
        self.stdout.write(f"{file}: {verdict.outcome.value.upper()}")
        for reason in verdict.reasons:
            self.stdout.write(f"  - {reason}")
        if verdict.outcome not in (Outcome.VALID,):
            raise SystemExit(1)
