"""The rejected-rows CSV staff open in a spreadsheet to fix and re-import. Pure."""

from __future__ import annotations

import csv
from pathlib import Path

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> str:
    """Keep spreadsheets from running a cell as a formula (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _FormulaSafeWriter:
    """A ``csv.writer`` whose every cell is neutralised: the rejected rows are opened in a spreadsheet."""

    def __init__(self, handle) -> None:
        self._writer = csv.writer(handle)

    def writerow(self, row) -> None:
        self._writer.writerow([neutralise_cell(cell) for cell in row])


def rejected_rows_writer(path: Path, headers: list[str]):
    """A CSV of rejected rows: line number, reason, then the original cells, safe to open in a spreadsheet."""
    handle = open(path, "w", newline="", encoding="utf-8")
    writer = _FormulaSafeWriter(handle)
    writer.writerow(["line", "reason", *headers])
    return handle, writer
