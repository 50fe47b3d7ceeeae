"""CSV exports of certificates, safe to open in a spreadsheet. Pure: rows in, text out."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

#: The columns of a certificate export, one row per version (superseded ones too).
COLUMNS = [
    "code",
    "status",
    "version",
    "holder_name",
    "learner_external_id",
    "email",
    "course_slug",
    "course_title",
    "issued_at",
    "verify_url",
    "pdf_sha256",
    "pdf_path",
    "delivery_status",
]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """Keep spreadsheets from running a cell as a formula (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_lines(rows: Iterable[dict[str, object]], columns: list[str] = COLUMNS) -> Iterator[str]:
    """The CSV text, a line at a time (for a streaming response), header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for values in ([columns], ([neutralise(row[column]) for column in columns] for row in rows)):
        for line in values:
            writer.writerow(line)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
