"""Reading LMS completion exports: encodings, delimiters, and the layouts of the major LMSs. No ORM.

``read_records`` streams a file (it never loads it whole) and yields, for each data row, its first
physical line number, the original cells, and either a ``CompletionRecord`` or the ``RecordError``
that says why the row cannot be taken. See docs/CSV_IMPORT.md for the layouts.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from charset_normalizer import from_bytes

from .ingest import (
    HAS_NUL,
    MAX_LENGTHS,
    CompletionRecord,
    RecordError,
    check_length,
    clean_email,
    custom_fields_from,
    parse_completed,
    parse_datetime,
    parse_percent,
)
from .text import clean_name

LAYOUTS = ("generic", "moodle", "canvas", "openedx", "learndash")
OUR_FIELDS = (
    "learner_id",
    "email",
    "full_name",
    "first_name",
    "last_name",
    "preferred_name",
    "course",
    "course_title",
    "completed_at",
    "score",
    "attendance",
    "cohort",
    "status",
)
_SAMPLE_BYTES = 64 * 1024


class FileError(Exception):
    """The file itself cannot be read: nothing is imported."""


def normalise_header(value: str) -> str:
    return re.sub(r"[\s_\-]+", " ", (value or "").replace("\ufeff", "")).strip().lower()


# Header names people use, per our field (normalised). Order matters: the first present wins.
GENERIC_ALIASES = {
    "learner_id": ["learner id", "user id", "student id", "userid", "learnerid", "studentid"],
    "email": ["email", "e mail", "email address", "mail"],
    "full_name": ["full name", "name", "fullname", "learner name", "student name"],
    "first_name": ["first name", "firstname", "given name"],
    "last_name": ["last name", "lastname", "surname", "family name"],
    "preferred_name": ["preferred name", "name on certificate", "certificate name"],
    "course": ["course", "course code", "course id", "coursecode"],
    "course_title": ["course title", "course name"],
    "completed_at": ["completed at", "completion date", "completed on", "date completed", "completed"],
    "score": ["score", "grade", "final score", "final grade"],
    "attendance": ["attendance", "attendance %", "attendance percent"],
    "cohort": ["cohort", "batch", "group"],
    "status": ["status", "completion status"],
}


@dataclass(frozen=True)
class Layout:
    name: str
    aliases: dict[str, list[str]]
    ignore: frozenset[str] = frozenset()  # columns that are neither ours nor worth keeping
    skip_row: Callable[[dict[str, str]], bool] = lambda row: False
    score_scale: Decimal = Decimal(1)
    name_last_first: bool = False  # "Lovelace, Ada"
    completed_when: Callable[[dict[str, str]], bool] | None = None  # completion without a date column
    needs_course: bool = False  # single-course exports: --course is required


def _canvas_skip(row: dict[str, str]) -> bool:
    student = (row.get("student") or "").strip()
    # The "Points Possible" (and newer "Manual Posting") rows, and Canvas's built-in test student.
    return student in {"Points Possible", "Student, Test", "Test Student"} or student.startswith("Manual Posting")


LAYOUT_SPECS = {
    "generic": Layout("generic", GENERIC_ALIASES),
    "moodle": Layout(
        "moodle",
        {
            "learner_id": ["id number", "idnumber", "user id"],
            "first_name": ["first name"],
            "last_name": ["surname", "last name"],
            "email": ["email address"],
            "completed_at": ["course complete", "completion date", "date completed", "time completed"],
            # Only the percentage display: "(Real)" is points, out of whatever the course totals.
            "score": ["course total (percentage)"],
            "cohort": ["group", "groups"],
        },
        ignore=frozenset({"institution", "department", "last downloaded from this course", "city/town", "country"}),
        needs_course=True,
    ),
    "canvas": Layout(
        "canvas",
        {
            "full_name": ["student"],
            "learner_id": ["id"],
            "email": ["sis login id", "email"],
            "score": ["final score", "current score", "unposted final score"],
            "cohort": ["section"],
        },
        ignore=frozenset({"sis user id", "integration id", "root account"}),
        skip_row=_canvas_skip,
        name_last_first=True,
        completed_when=lambda row: bool((row.get("final score") or "").strip()),
        needs_course=True,
    ),
    "openedx": Layout(
        "openedx",
        {
            "learner_id": ["id", "user id"],
            "email": ["email"],
            "preferred_name": [],
            "score": ["grade"],
            "cohort": ["cohort name", "enrollment track"],
        },
        ignore=frozenset(
            {
                "username",
                "verification status",
                "certificate delivered",
                "certificate type",
                "certificate eligible",
                "enrollment status",
            }
        ),
        score_scale=Decimal(100),  # grades are fractions 0–1
        completed_when=lambda row: (row.get("certificate eligible") or "").strip().upper() in {"Y", "YES", "TRUE"},
        needs_course=True,
    ),
    "learndash": Layout(
        "learndash",
        {
            "learner_id": ["user id", "userid"],
            "full_name": ["user name", "display name", "name"],
            "email": ["user email", "email"],
            "course": ["course id"],
            "course_title": ["course title"],
            "completed_at": ["course completed on", "completed on"],
            "status": ["course completed"],
        },
        ignore=frozenset(
            {
                "course steps total",
                "course steps completed",
                "course started on",
                "course last step id",
                "course last step title",
                "course last step type",
            }
        ),
    ),
}


def detect_layout(headers: list[str]) -> str:
    names = set(headers)
    if {"student", "id", "sis user id"} <= names or ({"student", "id"} <= names and "section" in names):
        return "canvas"
    if {"id", "email", "username", "grade"} <= names:
        return "openedx"
    if {"user id", "course id"} <= names and ("course completed" in names or "course completed on" in names):
        return "learndash"
    if "email address" in names and "first name" in names and ({"surname", "last name"} & names):
        if not {"learner id", "user id", "student id"} & names:
            return "moodle"
    return "generic"


def detect_encoding(sample: bytes) -> str:
    """BOMs first, then strict UTF-8, then charset-normalizer (Windows-1252, UTF-16 without BOM, …)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if sample.count(b"\x00") > len(sample) // 4:
        best = from_bytes(sample).best()  # UTF-16 without a byte-order mark
    else:
        try:
            sample.decode("cp1252")
            # Excel's "CSV" on Western-locale Windows. Short samples cannot tell it from its
            # neighbours (cp1250, Latin-1) reliably; --encoding overrides.
            return "cp1252"
        except UnicodeDecodeError:
            best = from_bytes(sample).best()
    if best is None:
        raise FileError("cannot tell the file's text encoding (is it a spreadsheet, not a CSV?)")
    return best.encoding


@dataclass
class ParsedFile:
    layout: str
    encoding: str
    delimiter: str
    headers: list[str]  # as in the file
    mapping: dict[str, str] = field(default_factory=dict)  # our field -> their (normalised) header


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    cells: list[str]
    record: CompletionRecord | None
    error: str = ""


MAX_RECORD_LINES = 50  # a quoted cell longer than this is a quote that was never closed
CELL_TOO_LONG = "line {line}: a cell longer than {limit} characters: is a quote never closed?"


def open_export(handle: BinaryIO, encoding: str = "") -> tuple[io.TextIOWrapper, str, str]:
    """Text stream, encoding and delimiter of a CSV export; raises ``FileError`` when unusable.

    The whole file is read once before anything is imported (decoding, and a quote that is never
    closed), so a file that is unusable past its first rows imports nothing rather than half.
    """
    sample = handle.read(_SAMPLE_BYTES)
    if not sample.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise FileError("the file is empty")
    if sample[:4] == b"PK\x03\x04" or sample[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileError("this is a spreadsheet (xlsx/xls), not a CSV: save it as CSV first")
    try:
        encoding = codecs.lookup(encoding).name if encoding else _whole_file_encoding(handle, detect_encoding(sample))
    except LookupError as exc:
        raise FileError(f"unknown encoding {encoding!r}") from exc
    text_sample = sample.decode(encoding, errors="ignore")
    first_lines = "\n".join(text_sample.splitlines()[:20])
    try:
        delimiter = csv.Sniffer().sniff(first_lines, delimiters=",;\t|").delimiter
    except csv.Error:
        header = text_sample.splitlines()[0] if text_sample.splitlines() else ""
        delimiter = max(",;\t", key=header.count) if header else ","
    _check_structure(handle, encoding, delimiter)
    handle.seek(0)
    return io.TextIOWrapper(handle, encoding=encoding, newline="", errors="strict"), encoding, delimiter


def _whole_file_encoding(handle: BinaryIO, guess: str) -> str:
    """Confirm the guess over the whole file; a UTF-8 guess that fails further on is Windows-1252."""
    candidates = [guess, "cp1252"] if guess == "utf-8" else [guess]
    for candidate in candidates:
        handle.seek(0)
        decoder = codecs.getincrementaldecoder(candidate)()
        line = 1
        try:
            while chunk := handle.read(1 << 20):
                line += decoder.decode(chunk).count("\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return candidate
    raise FileError(f"near line {line}: the file is not valid {guess} text (pass --encoding if you know it)")


def _check_structure(handle: BinaryIO, encoding: str, delimiter: str) -> None:
    handle.seek(0)
    stream = io.TextIOWrapper(handle, encoding=encoding, newline="", errors="replace")
    try:
        reader = csv.reader(stream, delimiter=delimiter)
        previous = 0
        for _ in reader:
            if reader.line_num - previous > MAX_RECORD_LINES:
                raise FileError(
                    f"line {previous + 1}: a quoted cell runs over {MAX_RECORD_LINES} lines: is a quote never closed?"
                )
            previous = reader.line_num
    except csv.Error as exc:
        if "field limit" in str(exc):  # no row is that long; a cell that is was never closed
            raise FileError(CELL_TOO_LONG.format(line=reader.line_num, limit=csv.field_size_limit())) from exc
        raise FileError(f"line {reader.line_num}: {exc}") from exc
    finally:
        stream.detach()  # leave the file open for the real read


def _field_mapping(layout: Layout, headers: list[str], overrides: dict[str, str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    present = set(headers)
    for ours, theirs in overrides.items():
        if ours not in OUR_FIELDS:
            raise FileError(f"--map: unknown field {ours!r} (one of: {', '.join(OUR_FIELDS)})")
        if normalise_header(theirs) not in present:
            raise FileError(f"--map: the file has no column {theirs!r}")
        mapping[ours] = normalise_header(theirs)
    for ours, aliases in layout.aliases.items():
        if ours in mapping:
            continue
        for alias in aliases:
            if alias in present and alias not in mapping.values():
                mapping[ours] = alias
                break
    return mapping


def read_records(
    handle: BinaryIO,
    *,
    layout: str = "auto",
    course: str = "",
    mapping: dict[str, str] | None = None,
    encoding: str = "",
    default_tz: tzinfo,
    now: datetime,
    lms: str = "default",
) -> tuple[ParsedFile, Iterator[Row]]:
    """Parse the header (raising ``FileError`` if the file is unusable) and return a row iterator."""
    if len(lms) > MAX_LENGTHS["lms"]:
        raise FileError(f"--lms longer than {MAX_LENGTHS['lms']} characters")
    stream, encoding, delimiter = open_export(handle, encoding)
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        raw_headers = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FileError(f"cannot read the header: {exc}") from exc
    if not raw_headers or not any(cell.strip() for cell in raw_headers):
        raise FileError("the file has no header row")
    headers = [normalise_header(cell) for cell in raw_headers]
    chosen = detect_layout(headers) if layout == "auto" else layout
    if chosen not in LAYOUT_SPECS:
        raise FileError(f"unknown format {layout!r} (one of: auto, {', '.join(LAYOUTS)})")
    spec = LAYOUT_SPECS[chosen]
    if spec.needs_course and not course:
        raise FileError(f"a {chosen} export holds one course: say which with --course SLUG")
    fields = _field_mapping(spec, headers, mapping or {})
    if "learner_id" not in fields:
        raise FileError("no learner id column (learner_id, user_id or student_id; or --map learner_id=...)")
    if "course" not in fields and not course:
        raise FileError("no course column (course, course_code or course_id; or --course SLUG)")
    parsed = ParsedFile(chosen, encoding, delimiter, raw_headers, fields)
    known = set(fields.values()) | spec.ignore | {h for h in headers if not h}
    extra = [(index, raw_headers[index].strip()) for index, h in enumerate(headers) if h not in known]

    def rows() -> Iterator[Row]:
        line = 2
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise FileError(f"line {line}: the file is not valid {encoding}: {exc.reason}") from exc
            except csv.Error as exc:
                yield Row(line, [], None, f"unreadable CSV: {exc}")
                line = reader.line_num + 1
                continue
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            values = {headers[i]: cells[i] for i in range(min(len(headers), len(cells)))}
            if spec.skip_row(values):
                continue
            try:
                record = _record(spec, fields, values, cells, extra, course=course, tz=default_tz, now=now, lms=lms)
            except RecordError as exc:
                yield Row(start, cells, None, str(exc))
            else:
                yield Row(start, cells, record)

    return parsed, rows()


def _record(spec: Layout, fields, values, cells, extra, *, course, tz, now, lms) -> CompletionRecord:
    def get(ours: str) -> str:
        return (values.get(fields[ours], "") if ours in fields else "").strip()

    if len(cells) > len(values) and any(cell.strip() for cell in cells[len(values) :]):
        raise RecordError(f"more cells ({len(cells)}) than header columns ({len(values)})")
    if any("\x00" in cell for cell in cells):  # PostgreSQL refuses NUL in text
        raise RecordError(f"the row {HAS_NUL}")
    learner_id = get("learner_id")
    if not learner_id:
        raise RecordError("missing learner id")
    check_length("learner id", learner_id)
    check_length("course", course or get("course"))
    check_length("cohort", get("cohort"))
    check_length("preferred name", get("preferred_name"))
    full_name = get("full_name")
    if spec.name_last_first and "," in full_name:
        last, first = (part.strip() for part in full_name.split(",", 1))
        full_name = f"{first} {last}".strip()
    if not full_name:
        full_name = " ".join(part for part in (get("first_name"), get("last_name")) if part)
    raw_completed = get("completed_at")
    if spec.name == "moodle" and raw_completed.lower().startswith("completed"):
        raw_completed = raw_completed.partition(":")[2].strip()  # "Completed: Tuesday, 3 March 2026, ..."
    if spec.name == "moodle" and raw_completed.lower() in {"not completed", "-", "no"}:
        raw_completed = ""
    date = parse_datetime(raw_completed, default_tz=tz) if raw_completed else None
    status = get("status")
    if status:
        completed = parse_completed(status)
    elif spec.completed_when is not None:
        completed = spec.completed_when(values)
    else:
        completed = None  # the date column alone decides
    if completed is False:
        completed_at = None
    elif completed or "completed_at" not in fields:
        completed_at = date or now  # complete, but the export does not say when: the import's time
    else:
        completed_at = date
    return CompletionRecord(
        learner_id=learner_id,
        course_key=course or get("course"),
        completed_at=completed_at,
        # Canvas's login id is an email only at some schools.
        email=clean_email(get("email")) if "@" in get("email") or spec.name != "canvas" else "",
        full_name=clean_name(check_length("name", full_name)),
        preferred_name=clean_name(get("preferred_name")),
        lms=lms,
        course_title=clean_name(check_length("course title", get("course_title"))),
        score=parse_percent(get("score"), label="score", scale=spec.score_scale),
        attendance=parse_percent(get("attendance"), label="attendance"),
        cohort=clean_name(get("cohort")),
        custom_fields=custom_fields_from({label: cells[index] for index, label in extra if index < len(cells)}),
    )


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
