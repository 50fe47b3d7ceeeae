"""The rejected-rows CSV is opened by staff in a spreadsheet: no cell may run as a formula."""

import csv
import io

import pytest

from courses.tests.factories import CourseFactory
from learners import services
from learners.csv_import import neutralise_cell


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("", ""),
        (None, ""),
        (4, "4"),
    ],
)
def test_neutralise_cell(cell, written):
    assert neutralise_cell(cell) == written


@pytest.mark.django_db
def test_rejected_rows_file_cannot_run_formulas(tmp_path):
    CourseFactory(slug="intro-django")
    data = (
        b"learner_id,email,name,course,completed_at,=cmd\n"
        b'u1,a@example.com,"=HYPERLINK(""http://evil.example"")",intro-django,2026-11-20,@SUM(1)\n'
        b"u2,b@example.com,+Bob,intro-django,not-a-date,-1\n"
    )
    errors = tmp_path / "errors.csv"
    report = services.completions_import(handle=io.BytesIO(data), errors_path=errors, course="")
    assert report.rejected == 1
    rows = list(csv.reader(errors.open(encoding="utf-8")))
    assert rows[0] == ["line", "reason", "learner_id", "email", "name", "course", "completed_at", "'=cmd"]
    assert rows[1][4] == "'+Bob" and rows[1][7] == "'-1"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
