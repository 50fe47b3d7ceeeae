"""Rows of an export as ``CompletionRecord``s, or the reason a row cannot be taken. Pure."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import BinaryIO

from django.core.exceptions import ValidationError

from courses.custom_fields import (
    CUSTOM_FIELD_LABEL_MAX_LENGTH,
    CUSTOM_FIELD_VALUE_MAX_LENGTH,
    CUSTOM_FIELDS_MAX_COUNT,
    CUSTOM_FIELDS_MAX_JSON_LENGTH,
    CustomFieldsError,
    check_custom_fields,
)

from ..ingest import (
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
from ..text import check_email, clean_name, email_key, last_first, plain_address
from .files import FileError, open_export
from .layouts import LAYOUT_SPECS, LAYOUTS, OUR_FIELDS, Layout, detect_layout, never_skip, normalise_header


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
    plan = _RowPlan(spec, fields, headers, extra, columns=columns, course=course, tz=default_tz, now=now, lms=lms)

    def rows() -> Iterator[Row]:
        line = 2
        width = len(headers)
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
            if undecodable:
                bad = [f"line {n}: {undecodable[n]}" for n in range(start, line) if n in undecodable]
                if bad:
                    yield Row(start, cells, None, "; ".join(bad))
                    continue
            joined = "".join(cells)
            if not joined.strip():
                continue  # blank line
            values = None  # the row by header, built only where something needs it (few rows, few layouts)
            if plan.reads_values or len(cells) < width:
                values = {headers[i]: cells[i] for i in range(min(width, len(cells)))}
                if spec.skip_row(values):
                    continue
            try:
                held, record = plan.record(cells, values, has_nul="\x00" in joined)
            except RecordError as exc:
                yield Row(start, cells, None, str(exc))
            else:
                yield Row(start, cells, record, held=held)

    return parsed, rows()


class _RowPlan:
    """How a row of one file is read, worked out once from its header: where each of our fields is,
    the custom fields, what of the layout applies. A row is then read with one index per field,
    where a dictionary of the row and a closure call per field were the largest cost of reading a
    50,000-row export (docs/PERFORMANCE.md). ``record`` is the row as a record, with what staff must
    fix before its certificate goes out (an invalid address), or a RecordError that names every
    problem of the row, not only the first."""

    def __init__(
        self,
        spec: Layout,
        fields: dict[str, str],
        headers: list[str],
        extra: list[tuple[int, str]],
        *,
        columns: int,
        course: str,
        tz: tzinfo,
        now: datetime,
        lms: str,
    ) -> None:
        self.spec, self.headers, self.extra, self.columns = spec, headers, extra, columns
        self.course, self.tz, self.now, self.lms = course, tz, now, lms
        self.width, self.distinct = len(headers), len(set(headers))
        # Where a header repeats, the row's dictionary kept its last cell: the index is the last one.
        last = {header: index for index, header in enumerate(headers)}
        self.indices = tuple(last[fields[ours]] if ours in fields else -1 for ours in OUR_FIELDS)
        self.header_of = tuple(fields.get(ours) for ours in OUR_FIELDS)
        self.reads_values = spec.skip_row is not never_skip or spec.completed_when is not None
        self.has_date_column = "completed_at" in fields
        self.id_is_email = spec.learner_id_is_email and fields.get("learner_id") == fields.get("email")
        self.moodle, self.canvas = spec.name == "moodle", spec.name == "canvas"
        # Custom fields by cleaned label, when no two columns share a label (else the general path,
        # which decides which of them wins per row).
        raw_labels = [label for _index, label in extra]
        labelled = [(clean_name(label), index) for index, label in extra]
        named = [label for label, _index in labelled if label]
        distinct = len(set(raw_labels)) == len(raw_labels) and len(set(named)) == len(named)
        self.custom = tuple((label, index) for label, index in labelled if label) if distinct else None
        # Labels that check_custom_fields passes with any values up to the longest allowed, so a row's
        # values need only that length checked: few enough, short enough, and their JSON's bound within it.
        labels = [label for label, _index in self.custom or ()]
        self.custom_labels_fit = (
            len(labels) <= CUSTOM_FIELDS_MAX_COUNT
            and all(len(label) <= CUSTOM_FIELD_LABEL_MAX_LENGTH for label in labels)
            and 2 + sum(12 * (len(label) + CUSTOM_FIELD_VALUE_MAX_LENGTH) + 12 for label in labels)
            <= CUSTOM_FIELDS_MAX_JSON_LENGTH
        )
        # --course is the same on every row: its check too.
        self.course_problem = _length_problem("course", course) if course else ""

    def record(self, cells: list[str], values: dict[str, str] | None, *, has_nul: bool) -> tuple[str, CompletionRecord]:
        spec = self.spec
        problems: list[str] = []
        count = len(cells)
        if values is None:  # every column there: by index
            texts = [cells[index].strip() if index >= 0 else "" for index in self.indices]
            known = self.distinct
        else:
            texts = [values.get(header, "").strip() if header is not None else "" for header in self.header_of]
            known = len(values)
        if count > known and any(cell.strip() for cell in cells[known:]):
            problems.append(f"more cells ({count}) than header columns ({known})")
        elif count < self.columns:
            problems.append(f"fewer cells ({count}) than header columns ({self.columns})")
        if has_nul:  # PostgreSQL refuses NUL in text
            raise RecordError(f"the row {HAS_NUL}")
        (
            learner_id,
            email_text,
            full,
            first_name,
            last_name,
            preferred_name,
            course_cell,
            course_title,
            raw_completed,
            score_text,
            attendance_text,
            cohort,
            status,
        ) = texts
        if self.id_is_email:
            learner_id = email_key(learner_id)  # the same address in another case is the same learner
        if not learner_id:
            problems.append("missing learner id")
        course = self.course or course_cell
        if len(learner_id) > MAX_LENGTHS["learner id"]:
            problems.append(_length_problem("learner id", learner_id))
        if self.course_problem:
            problems.append(self.course_problem)
        elif not self.course and len(course) > MAX_LENGTHS["course"]:
            problems.append(_length_problem("course", course))
        if len(cohort) > MAX_LENGTHS["cohort"]:
            problems.append(_length_problem("cohort", cohort))
        if len(preferred_name) > MAX_LENGTHS["preferred name"]:
            problems.append(_length_problem("preferred name", preferred_name))
        # "Lovelace, Ada" (one comma, two parts) is last-first in every export that writes it; a
        # Canvas "Student" always is. "Madonna" and "Sukarno" are names as they are.
        full_name = last_first(full) if full else ""
        if not full_name:
            full_name = " ".join(part for part in (first_name, last_name) if part)
        if self.moodle:
            if raw_completed.lower().startswith("completed"):
                raw_completed = raw_completed.partition(":")[2].strip()  # "Completed: Tuesday, 3 March 2026, ..."
            if raw_completed.lower() in {"not completed", "-", "no"}:
                raw_completed = ""
        date = None
        if raw_completed:
            try:
                date = parse_datetime(raw_completed, default_tz=self.tz)
            except RecordError as exc:
                problems.append(str(exc))
        review = ""  # facts that contradict each other: recorded, and the certificate waits for staff
        if status:
            try:
                completed = parse_completed(status)
            except RecordError as exc:
                problems.append(str(exc))
                completed = None
            if completed is False and date is not None and status_contradicts_date(status):
                completed = True
                review = f"status {status!r} but a completion date {raw_completed!r}"
        elif spec.completed_when is not None:
            completed = spec.completed_when(values)
        else:
            completed = None  # the date column alone decides
        if completed is False:
            completed_at = None
        elif completed or not self.has_date_column:
            completed_at = date or self.now  # complete, but the export does not say when: the import's time
        else:
            completed_at = date
        email, held = "", ""
        if plain_address(email_text):  # the usual address: what clean_email and check_email accept as it is
            email = email_text.lower()
        elif "@" in email_text or not self.canvas:  # Canvas's login id is an email only at some schools
            try:
                email = clean_email(email_text)
                if email:
                    check_email(email)  # the test issuance makes: what passes here is sent, or held there
            except (RecordError, ValidationError):
                if len(email_text) > MAX_LENGTHS["email"]:
                    problems.append(f"email longer than {MAX_LENGTHS['email']} characters")
                else:  # a real learner who finished: imported, and issuance holds the certificate for staff
                    email = clean_name(email_text).lower()
                    held = f"invalid email {email!r}"
        if len(full_name) > MAX_LENGTHS["name"]:
            problems.append(_length_problem("name", full_name))
        if len(course_title) > MAX_LENGTHS["course title"]:
            problems.append(_length_problem("course title", course_title))
        score = attendance = None
        if score_text:
            try:
                score = parse_percent(score_text, label="score", scale=spec.score_scale)
            except RecordError as exc:
                problems.append(str(exc))
        if attendance_text:
            try:
                attendance = parse_percent(attendance_text, label="attendance")
            except RecordError as exc:
                problems.append(str(exc))
        try:
            custom_fields = self.custom_fields(cells)
        except RecordError as exc:
            problems.append(str(exc))
        if problems:
            raise RecordError("; ".join([*problems, held] if held else problems))
        return held, CompletionRecord(
            learner_id=learner_id,
            course_key=course,
            completed_at=completed_at,
            email=email,
            full_name=clean_name(full_name),
            preferred_name=clean_name(preferred_name) if preferred_name else "",
            lms=self.lms,
            course_title=clean_name(course_title) if course_title else "",
            score=score,
            attendance=attendance,
            cohort=clean_name(cohort) if cohort else "",
            custom_fields=custom_fields,
            review_reason=review,
            cleaned=True,
        )

    def custom_fields(self, cells: list[str]) -> dict[str, str]:
        """The row's other columns by label, what ``custom_fields_from`` makes of them."""
        if self.custom is None or len(cells) < self.width:
            return custom_fields_from({label: cells[index] for index, label in self.extra if index < len(cells)})
        fields = {}
        longest = 0
        for label, index in self.custom:
            if text := clean_name(cells[index]):
                fields[label] = text
                longest = max(longest, len(text))
        if longest > CUSTOM_FIELD_VALUE_MAX_LENGTH or not self.custom_labels_fit:
            try:
                check_custom_fields(fields)
            except CustomFieldsError as exc:
                raise RecordError(str(exc)) from exc
        return fields


def _length_problem(label: str, value: str) -> str:
    """What ``check_length`` says of a value, or ''."""
    try:
        check_length(label, value)
    except RecordError as exc:
        return str(exc)
    return ""
