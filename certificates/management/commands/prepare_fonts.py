"""Make the fonts certificates need that are cut from installed ones (a Regular Noto Sans JP).

Run once per machine after installing (``make run`` does; so should a deployment). Without it, the
first certificate that needs such a font makes it, which takes a worker 10-40 s once.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from certificates import fonts, text


class Command(BaseCommand):
    help = "Make the static font cuts certificates print with (once; later runs do nothing)."

    def handle(self, *args, **options) -> None:
        for spec in fonts.all_font_files():
            if spec.instance_of is None:
                continue
            if spec.path.exists():
                self.stdout.write(f"{spec.path.name}: ready")
                continue
            started = time.monotonic()
            text.static_instance(spec)
            self.stdout.write(f"{spec.path.name}: made in {time.monotonic() - started:.0f} s")
