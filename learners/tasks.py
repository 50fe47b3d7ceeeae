"""django-q2 entry points for learners. Thin."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from . import services


def completions_import_drop_folder_task() -> list[tuple[str, str]]:
    if not settings.COMPLETIONS_IMPORT_DIR:
        return []
    return services.completions_import_drop_folder(directory=Path(settings.COMPLETIONS_IMPORT_DIR))


def sign_in_link_send_task(email: str) -> int:
    return services.sign_in_link_send(email=email)
