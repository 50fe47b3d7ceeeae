"""The drop folder the nightly schedule imports completion exports from: each file once."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from django.utils import timezone

from ..csv_import import FileError
from .imports import completions_import

logger = logging.getLogger(__name__)

DROP_FOLDER_SETTLE_SECONDS = 120  # a file still being written is left for the next run
DROP_FOLDER_STALE_SECONDS = 3600  # a claimed file with no report by then was interrupted


def completions_import_drop_folder(*, directory: Path) -> list[tuple[str, str]]:
    """Import every CSV waiting in the drop folder, once each; returns (file, summary) pairs.

    A file is claimed by renaming it into ``processing/`` (atomic on one filesystem, so two workers
    never take the same file) and ends in ``processed/`` (or ``failed/``) with its report and rejected
    rows beside it, so the schedule never imports it twice. A claim left behind by a worker that died
    is put back after an hour and imported again, which the import's idempotence makes safe.
    """
    processing, processed, failed = directory / "processing", directory / "processed", directory / "failed"
    for folder in (processing, processed, failed):
        folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for stale in processing.iterdir():
        if stale.is_file() and now - stale.stat().st_mtime > DROP_FOLDER_STALE_SECONDS:
            stale.rename(directory / stale.name.split("-", 1)[-1])
    results = []
    waiting = sorted(
        path
        for path in directory.iterdir()
        if path.is_file()
        and path.suffix.lower() in {".csv", ".txt", ".tsv"}
        and now - path.stat().st_mtime >= DROP_FOLDER_SETTLE_SECONDS
    )
    for path in waiting:
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
        claimed = processing / f"{stamp}-{path.name}"
        try:
            path.rename(claimed)
        except FileNotFoundError:
            continue  # another worker took it
        os.utime(claimed)  # the claim's age, for the stale check
        errors_path = processed / f"{claimed.name}.errors.csv"
        destination = processed
        try:
            with open(claimed, "rb") as handle:
                summary = completions_import(handle=handle, errors_path=errors_path).summary()
        except FileError as exc:
            summary, destination = f"file not imported: {exc}", failed
        except Exception as exc:  # the report must say why; the file must not vanish
            logger.exception("importing %s failed", claimed)
            summary, destination = f"import failed: {type(exc).__name__}: {exc}", failed
        (destination / f"{claimed.name}.report.txt").write_text(summary + "\n", encoding="utf-8")
        claimed.rename(destination / claimed.name)
        results.append((path.name, summary))
    return results
