"""The CSV reader as it was before the per-file plan (issue 12): the definition ``test_records_plan``
holds ``learners.csv_import.read_records`` to, row for row. Not used by the application."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import BinaryIO

from django.core.exceptions import ValidationError

from learners.csv_import.files import FileError, open_export
from learners.csv_import.layouts import LAYOUT_SPECS, LAYOUTS, OUR_FIELDS, Layout, detect_layout, normalise_header
from learners.ingest import (
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
    status_contradicts_date,
)
from learners.text import check_email, clean_name, email_key, last_first


@dataclass
class ParsedFile:
    layout: str
    encoding: str
    delimiter: str
    headers: list[str]  # as in the file
    mapping: dict[str, str] = field(default_factory=dict)  # our field -> their (normalised) header
    lines: object = None  # the LineDecoder of a UTF-8/Windows-1252 file: how many lines were which

    @property
    def windows_1252_lines(self) -> int:
        return getattr(self.lines, "windows_1252_lines", 0)


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    cells: list[str]
    record: CompletionRecord | None
    error: str = ""
    held: str = ""  # imported, but what staff must fix before a certificate goes out


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
    if spec.learner_id_is_email and "learner_id" not in fields and "email" in fields:
        fields["learner_id"] = fields["email"]
    if "learner_id" not in fields:
        raise FileError("no learner id column (learner_id, user_id or student_id; or --map learner_id=...)")
    if "course" not in fields and not course:
        raise FileError("no course column (course, course_code or course_id; or --course SLUG)")
    parsed = ParsedFile(chosen, encoding, delimiter, raw_headers, fields, lines=stream)
    undecodable = getattr(stream, "undecodable", {})
    if 1 in undecodable:  # a garbled header would drop or misname a column on every row
        raise FileError(f"line 1 (the header): {undecodable[1]}")
    columns = max((index + 1 for index, header in enumerate(headers) if header), default=0)
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
            bad = [f"line {number}: {undecodable[number]}" for number in range(start, line) if number in undecodable]
            if bad:
                yield Row(start, cells, None, "; ".join(bad))
                continue
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            values = {headers[i]: cells[i] for i in range(min(len(headers), len(cells)))}
            if spec.skip_row(values):
                continue
            try:
                held, record = _record(
                    spec,
                    fields,
                    values,
                    cells,
                    extra,
                    columns=columns,
                    course=course,
                    tz=default_tz,
                    now=now,
                    lms=lms,
                )
            except RecordError as exc:
                yield Row(start, cells, None, str(exc))
            else:
                yield Row(start, cells, record, held=held)

    return parsed, rows()


def _record(
    spec: Layout, fields, values, cells, extra, *, columns, course, tz, now, lms
) -> tuple[str, CompletionRecord]:
    """The row as a record, with what staff must fix before its certificate goes out (an invalid
    address), or a RecordError that names every problem of the row, not only the first."""
    problems: list[str] = []

    def checked(parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except RecordError as exc:
            problems.append(str(exc))
            return None

    def get(ours: str) -> str:
        return (values.get(fields[ours], "") if ours in fields else "").strip()

    if len(cells) > len(values) and any(cell.strip() for cell in cells[len(values) :]):
        problems.append(f"more cells ({len(cells)}) than header columns ({len(values)})")
    elif len(cells) < columns:
        problems.append(f"fewer cells ({len(cells)}) than header columns ({columns})")
    if any("\x00" in cell for cell in cells):  # PostgreSQL refuses NUL in text
        raise RecordError(f"the row {HAS_NUL}")
    learner_id = get("learner_id")
    if spec.learner_id_is_email and fields.get("learner_id") == fields.get("email"):
        learner_id = email_key(learner_id)  # the same address in another case is the same learner
    if not learner_id:
        problems.append("missing learner id")
    for label, value in (
        ("learner id", learner_id),
        ("course", course or get("course")),
        ("cohort", get("cohort")),
        ("preferred name", get("preferred_name")),
    ):
        checked(check_length, label, value)
    # "Lovelace, Ada" (one comma, two parts) is last-first in every export that writes it; a
    # Canvas "Student" always is. "Madonna" and "Sukarno" are names as they are.
    full_name = last_first(get("full_name"))
    if not full_name:
        full_name = " ".join(part for part in (get("first_name"), get("last_name")) if part)
    raw_completed = get("completed_at")
    if spec.name == "moodle" and raw_completed.lower().startswith("completed"):
        raw_completed = raw_completed.partition(":")[2].strip()  # "Completed: Tuesday, 3 March 2026, ..."
    if spec.name == "moodle" and raw_completed.lower() in {"not completed", "-", "no"}:
        raw_completed = ""
    date = checked(parse_datetime, raw_completed, default_tz=tz) if raw_completed else None
    status = get("status")
    review = ""  # facts that contradict each other: recorded, and the certificate waits for staff
    if status:
        completed = checked(parse_completed, status)
        if completed is False and date is not None and status_contradicts_date(status):
            completed = True
            review = f"status {status!r} but a completion date {raw_completed!r}"
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
    # Canvas's login id is an email only at some schools.
    email, held = "", ""
    if "@" in get("email") or spec.name != "canvas":  # Canvas's login id is an email only at some schools
        try:
            email = clean_email(get("email"))
            if email:
                check_email(email)  # the test issuance makes: what passes here is sent, or held there
        except (RecordError, ValidationError):
            if len(get("email")) > MAX_LENGTHS["email"]:
                problems.append(f"email longer than {MAX_LENGTHS['email']} characters")
            else:  # a real learner who finished: imported, and issuance holds the certificate for staff
                email = clean_name(get("email")).lower()
                held = f"invalid email {email!r}"
    name = checked(check_length, "name", full_name)
    course_title = checked(check_length, "course title", get("course_title"))
    score = checked(parse_percent, get("score"), label="score", scale=spec.score_scale)
    attendance = checked(parse_percent, get("attendance"), label="attendance")
    custom_fields = checked(custom_fields_from, {label: cells[index] for index, label in extra if index < len(cells)})
    if problems:
        raise RecordError("; ".join([*problems, held] if held else problems))
    return held, CompletionRecord(
        learner_id=learner_id,
        course_key=course or get("course"),
        completed_at=completed_at,
        email=email,
        full_name=clean_name(name),
        preferred_name=clean_name(get("preferred_name")),
        lms=lms,
        course_title=clean_name(course_title),
        score=score,
        attendance=attendance,
        cohort=clean_name(get("cohort")),
        custom_fields=custom_fields,
        review_reason=review,
    )
