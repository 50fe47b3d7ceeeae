"""Reading LMS completion exports: encodings, delimiters, and the layouts of the major LMSs. No ORM.

``read_records`` streams a file (it never loads it whole) and yields, for each data row, its first
physical line number, the original cells, and either a ``CompletionRecord`` or the ``RecordError``
that says why the row cannot be taken. See docs/CSV_IMPORT.md for the layouts.
"""

from .files import CELL_TOO_LONG, MAX_RECORD_LINES, FileError, detect_encoding, open_export
from .layouts import LAYOUT_SPECS, LAYOUTS, OUR_FIELDS, Layout, detect_layout, normalise_header
from .records import ParsedFile, Row, read_records
from .rejected import FORMULA_STARTS, neutralise_cell, rejected_rows_writer

__all__ = [
    "CELL_TOO_LONG",
    "FORMULA_STARTS",
    "LAYOUTS",
    "LAYOUT_SPECS",
    "MAX_RECORD_LINES",
    "OUR_FIELDS",
    "FileError",
    "Layout",
    "ParsedFile",
    "Row",
    "detect_encoding",
    "detect_layout",
    "neutralise_cell",
    "normalise_header",
    "open_export",
    "read_records",
    "rejected_rows_writer",
]
