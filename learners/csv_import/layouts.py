"""The header layouts of the major LMSs' exports, and telling them apart. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

LAYOUTS = ("generic", "moodle", "canvas", "openedx", "learndash", "thinkific", "teachable", "talentlms", "docebo")
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


def never_skip(row: dict[str, str]) -> bool:
    return False


@dataclass(frozen=True)
class Layout:
    name: str
    aliases: dict[str, list[str]]
    ignore: frozenset[str] = frozenset()  # columns that are neither ours nor worth keeping
    skip_row: Callable[[dict[str, str]], bool] = never_skip
    score_scale: Decimal = Decimal(1)
    name_last_first: bool = False  # "Lovelace, Ada"
    completed_when: Callable[[dict[str, str]], bool] | None = None  # completion without a date column
    needs_course: bool = False  # single-course exports: --course is required
    learner_id_is_email: bool = False  # exports with no user id: the address (case-folded) is the id


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
    "thinkific": Layout(
        "thinkific",
        {
            "first_name": ["student first name"],
            "last_name": ["student last name"],
            "email": ["student email"],
            "course": ["course name", "course"],
            "course_title": ["course name"],
            "completed_at": ["completed at", "completion date", "date completed"],
        },
        # Progress is the share of lessons done, not a grade; the company is not printed.
        ignore=frozenset({"company", "percentage completed", "started at", "activated at", "expiry date"}),
        learner_id_is_email=True,
    ),
    "teachable": Layout(
        "teachable",
        {
            "full_name": ["name", "student name"],
            "email": ["email", "student email"],
            "course": ["course name", "course"],
            "course_title": ["course name"],
            "completed_at": ["completed at", "completion date"],
        },
        ignore=frozenset({"percent complete", "enrolled at", "enrollment date", "last sign in"}),
        learner_id_is_email=True,
    ),
    "talentlms": Layout(
        "talentlms",
        {
            "learner_id": ["user id", "id"],
            "full_name": ["user", "name"],
            "email": ["email"],
            "course": ["course id", "course"],
            "course_title": ["course", "course name"],
            "completed_at": ["completion date", "completed on"],
            "status": ["completion status", "status"],
            "score": ["score"],
        },
        ignore=frozenset({"completion percentage", "enrollment date", "enrolled on", "total time", "role"}),
    ),
    "docebo": Layout(
        "docebo",
        {
            "learner_id": ["username", "user id"],
            "first_name": ["first name"],
            "last_name": ["last name"],
            "email": ["email"],
            "completed_at": ["completion date"],
            "status": ["status", "enrollment status"],
            "score": ["score", "final score"],
        },
        ignore=frozenset({"enrollment date", "first access date", "last access date", "time in course", "level"}),
        needs_course=True,  # the course report is one course's
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
    if "student email" in names and ({"student first name", "percentage completed"} & names):
        return "thinkific"
    if "percent complete" in names and ({"email", "student email"} & names):
        return "teachable"
    if "completion percentage" in names and ({"user", "user id"} & names):
        return "talentlms"
    if {"username", "enrollment date"} <= names and ({"completion date", "status"} & names):
        return "docebo"
    return "generic"
