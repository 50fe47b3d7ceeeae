"""Check the identity that signs certificate PDFs, making the self-signed demo pair if configured to.

Run once per machine (``make run`` does; a deployment should, to fail before the first certificate
rather than on it). It prints whose certificate signs, its SHA-256 fingerprint and until when.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certificates import signing


class Command(BaseCommand):
    help = "Make (self-signed mode) or check the PDF signing key and certificate, and describe them."

    def handle(self, *args, **options) -> None:
        identity = signing.configured_identity()
        if settings.PDF_SIGNING_SELF_SIGNED and signing.make_self_signed(
            identity, settings.PDF_SIGNING_SELF_SIGNED_NAME
        ):
            self.stdout.write(f"made a self-signed key and certificate in {identity.key.parent}")
        try:
            description = signing.describe(identity)
        except (OSError, ValueError) as exc:
            raise CommandError(f"the PDF signing identity cannot be used: {exc}") from exc
        self.stdout.write(description)
