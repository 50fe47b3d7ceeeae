"""The header layouts of the major LMSs' exports, and telling them apart. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

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
