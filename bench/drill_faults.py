"""The drills' fault injector (installed only by bench/drill_settings.py): rendering a certificate whose
holder's name starts with ``POISON`` kills the worker doing it, as the OOM killer would, every time."""

from __future__ import annotations

import os
import signal

from django.apps import AppConfig

POISON = "POISON"


class DrillFaultsConfig(AppConfig):
    name = "bench.drill_faults"
    label = "drill_faults"

    def ready(self) -> None:
        from certificates import pdf

        render_pdf = pdf.render_pdf

        def render_or_die(content, *args, **kwargs):
            if content.holder_name.upper().startswith(POISON):
                os.kill(os.getpid(), signal.SIGKILL)
            return render_pdf(content, *args, **kwargs)

        pdf.render_pdf = render_or_die
