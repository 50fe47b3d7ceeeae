"""The CSV reader's per-file plan reads every row exactly as the reader before it did (issue 12).

Hypothesis writes exports in every layout, with extra, repeated and blank columns, rows too short
or too long, and cells chosen to hit each rule; both readers must give the same rows, records,
reasons and holds, or refuse the file with the same message.
"""

import csv
import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learners.csv_import import FileError
from learners.csv_import import records as current
from learners.planning import Facts, LearnerDetails, plan_completion
from learners.tests import records_before_plan

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
FILES = {
    path.stem: list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    for path in sorted(FIXTURES.glob("*.csv"))
}
HEADERS = {name: rows[0] for name, rows in FILES.items()}
EXTRA_HEADERS = ["Hours", "hours", " Skills ", "", "Notes\u200e", "L" * 70, "Email", "Status", "Course", "\u202e"]
EXTRA_HEADERS += ["Course Title", "Name"]
CELLS = [
    *("", " ", "ada@example.org", " Ada@Example.COM ", "ana at example dot com", "a@b", "x@" + "y" * 260 + ".org"),
    *("Lovelace, Ada", "Ada Lovelace, PhD", "Madonna", "=HYPERLINK(1)", "-2+3", "<b>Ada</b>", "[url]x[/url]"),
    *("2026-11-20", "2026-02-31", "2026-11-20T10:00:00Z", "2026-11-20 10:00", "3 March 2026", "03/04/2026"),
    *("Completed: Tuesday, 3 March 2026, 10:15 AM", "Not completed", "-", "no", "2999-01-01"),
    *("87,5 %", "87.5", "0.875", "140", "NaN", "Infinity", "-1", "1e2", "12"),
    *("completed", "in progress", "Not started", "YES", "NO", "Y", "n", "unknown-ish", "Failed"),
    *("Points Possible", "Student, Test", "Manual Posting x", "x" * 301, "a\x00b", "Ada\tLovelace\n", "Zoë\u0301"),
    *("intro-django", "ABC101", "Autumn 2026", "40", "SQL, pandas", "\u202eevil", "Иван Петров", "李小龙"),
]
LONG = ["x" * 201, "x" * 255, "x" * 301, "é" * 300]
cells = st.sampled_from(CELLS) | st.text(max_size=12) | st.sampled_from(LONG)


@st.composite
def exports(draw):
    layout = draw(st.sampled_from([*sorted(HEADERS), "generic-auto"]))
    headers = list(HEADERS["generic" if layout == "generic-auto" else layout])
    headers += draw(st.lists(st.sampled_from(EXTRA_HEADERS), max_size=3))
    if draw(st.booleans()):
        headers = draw(st.permutations(headers))
    rows = []
    examples = FILES["generic" if layout == "generic-auto" else layout][1:]
    for _ in range(draw(st.integers(1, 6))):
        width = len(headers) + draw(st.sampled_from([0, 0, 0, -1, -2, 1, 2]))
        if examples and draw(st.booleans()):  # a real row with a cell or two changed: mostly records
            row = [*draw(st.sampled_from(examples)), *([""] * 3)][: max(width, 0)]
            for _ in range(draw(st.integers(0, 2))):
                if row:
                    row[draw(st.integers(0, len(row) - 1))] = draw(cells)
            rows.append(row)
        else:
            rows.append(draw(st.lists(cells, min_size=max(width, 0), max_size=max(width, 0))))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    writer.writerows(rows)
    course = draw(st.sampled_from(["", "", "intro-django", "c" * 201]))
    return text.getvalue().encode("utf-8"), course


def read(module, data: bytes, course: str, tz) -> object:
    try:
        parsed, rows = module.read_records(io.BytesIO(data), course=course, default_tz=tz, now=NOW, lms="moodle")
        return (
            (parsed.layout, parsed.encoding, parsed.delimiter, parsed.headers, parsed.mapping),
            [(row.line, row.cells, row.record, row.error, row.held) for row in rows],
        )
    except FileError as exc:
        return ("refused", str(exc))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports(), st.sampled_from([UTC, ZoneInfo("Europe/Paris")]))
def test_the_plan_reads_every_row_as_the_reader_before_it(export, tz):
    data, course = export
    assert read(current, data, course, tz) == read(records_before_plan, data, course, tz)


def test_the_fixtures_read_as_before():
    for path in sorted(FIXTURES.glob("*.csv")):
        data = path.read_bytes()
        assert read(current, data, "intro-django", UTC) == read(records_before_plan, data, "intro-django", UTC)


STORED = [
    (None, None),
    (LearnerDetails(email="ada@example.org", full_name="Ada Lovelace"), None),
    (
        LearnerDetails(email="old@example.org", full_name="Lovelace, Ada", preferred_name="Ada"),
        Facts(completed_at=datetime(2026, 11, 1, tzinfo=UTC), cohort="Autumn 2026", custom_fields={"Hours": "12"}),
    ),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports(), st.sampled_from(STORED))
def test_planning_a_record_the_reader_cleaned_skips_nothing_that_matters(export, stored):
    """Planning a record the reader made, without cleaning it again, plans what cleaning it again did."""
    data, course = export
    try:
        _parsed, rows = current.read_records(io.BytesIO(data), course=course, default_tz=UTC, now=NOW)
    except FileError:
        return
    learner, enrollment = stored
    for row in rows:
        if row.record is None:
            continue
        assert row.record.cleaned
        again = dataclasses.replace(row.record, cleaned=False)
        for require_email in (True, False):
            options = dict(learner=learner, enrollment=enrollment, now=NOW, require_email=require_email)
            assert plan_completion(record=row.record, **options) == plan_completion(record=again, **options)
