"""Completion records as they arrive from an LMS, parsed and checked. Pure: no ORM.

The webhook and the CSV import both turn their input into a ``CompletionRecord`` here, so a value is
accepted or rejected the same way, with the same reason, whichever way it came in.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from courses.custom_fields import VALUE_NOT_TEXT, CustomFieldsError, check_custom_fields

from .text import clean_name, plain_address


class RecordError(ValueError):
    """A record we cannot take; the message is shown to the person who sent it."""


# The columns these land in (Learner, Enrollment, Course): a longer value is refused, never truncated.
MAX_LENGTHS = {
    "learner id": 200,
    "email": 254,
    "name": 300,
    "preferred name": 300,
    "course": 200,
    "course title": 300,
    "cohort": 200,
    "lms": 50,
}
HAS_NUL = "contains a NUL character"


def check_length(label: str, value: str) -> str:
    if "\x00" in value:  # PostgreSQL refuses NUL in text
        raise RecordError(f"{label} {HAS_NUL}")
    if len(value) > MAX_LENGTHS[label]:
        raise RecordError(f"{label} longer than {MAX_LENGTHS[label]} characters")
    return value


def custom_fields_from(raw: dict) -> dict[str, str]:
    """Labels to printed text (lists joined by commas), empty ones dropped, within the limits."""
    fields: dict[str, str] = {}
    for key, value in raw.items():
        label = clean_name(str(key))
        if isinstance(value, str):  # every CSV cell: what the general case below gives for one text
            text = clean_name(value)
        else:
            items = value if isinstance(value, list) else [value]
            if any(isinstance(item, dict | list) for item in items):
                raise RecordError(VALUE_NOT_TEXT.format(label=repr(label[:60])))
            text = clean_name(", ".join(clean_name(str(item)) for item in items if item is not None))
        if label and text:
            fields[label] = text
    try:
        check_custom_fields(fields)
    except CustomFieldsError as exc:
        raise RecordError(str(exc)) from exc
    return fields


@dataclass(frozen=True, slots=True)
class CompletionRecord:
    learner_id: str
    course_key: str  # our course slug or the LMS's course id
    completed_at: datetime | None  # None: enrolled but not (yet) completed
    email: str = ""
    full_name: str = ""
    preferred_name: str = ""
    lms: str = "default"
    course_title: str = ""
    score: Decimal | None = None
    attendance: Decimal | None = None
    cohort: str = ""
    custom_fields: dict[str, str] = field(default_factory=dict)
    #: What in the record contradicts itself (a "not started" status with a completion date): it is
    #: recorded, and the certificate is held for staff with this reason.
    review_reason: str = ""
    #: Its text already went through ``clean_name`` and its custom fields were checked (the CSV
    #: reader makes records so): planning does not clean them again. Not part of the record's value.
    cleaned: bool = field(default=False, compare=False, repr=False)


_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%A, %d %B %Y, %I:%M %p",  # Moodle: "Tuesday, 3 March 2026, 10:15 AM"
    "%d %B %Y, %I:%M %p",
    "%d/%m/%Y %H:%M",
)


def parse_datetime(value: str, *, default_tz: tzinfo = UTC, label: str = "completion date") -> datetime | None:
    """ISO 8601 (with or without offset) or one of the unambiguous layouts LMS exports use.

    Day/month order is never guessed from numbers alone (03/04/2026): only ISO, named months, and
    the day-first layout with a time, which no US export uses.
    """
    value = (value or "").strip()
    if not value:
        return None
    candidate = value.replace("Z", "+00:00") if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        parsed = None
        for layout in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(value, layout)
                break
            except ValueError:
                continue
    if parsed is None:
        raise RecordError(f"unparseable {label} {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def parse_percent(value: object, *, label: str, scale: Decimal = Decimal(1)) -> Decimal | None:
    """A percentage 0–100 ("87.5", "87,5", "87.5 %", 87.5).

    ``scale`` 100 reads a layout's fractions ("0.875" is 87.5 %); a value written with a percent
    sign is a percentage whatever the layout, so "87.5 %" is never 8750 %.
    """
    if isinstance(value, str):
        return _percent_of_text(value, label, scale)
    return _percent(value, label, scale)


def _percent(value: object, label: str, scale: Decimal) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()) or value == "-":
        return None
    raw = str(value).strip()
    percent = raw.endswith("%")
    text = raw.rstrip("%").strip().replace(",", ".")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise RecordError(f"{label} is not a number: {value!r}") from None
    if not number.is_finite():  # NaN, sNaN, Infinity: comparing them raises, they are not scores
        raise RecordError(f"{label} is not a number: {value!r}")
    if not percent:
        if scale != 1 and not Decimal(0) <= number <= Decimal(100) / scale:
            raise RecordError(f"{label} out of range: {value!r} (0–{Decimal(100) / scale:g} as a fraction)")
        number *= scale
    if not Decimal(0) <= number <= Decimal(100):
        raise RecordError(f"{label} out of range: {value!r} (0–100)")
    return number.quantize(Decimal("0.01"))


# An export repeats the same few hundred scores: each text is parsed once (a Decimal is immutable;
# a refused value raises again every time, lru_cache keeps no exceptions).
_percent_of_text = functools.lru_cache(maxsize=4096)(_percent)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_email(value: str) -> str:
    value = (value or "").strip()
    if plain_address(value):  # the usual address: within the length, nothing to clean, matches _EMAIL
        return value.lower()
    value = check_length("email", value)
    if value and (not _EMAIL.match(value) or clean_name(value) != value):  # controls, bidi marks
        raise RecordError(f"invalid email {value!r}")
    return value.lower() if value else ""


def timezone_named(name: str) -> tzinfo:
    return ZoneInfo(name) if name and name != "UTC" else UTC


_COMPLETED_WORDS = {
    *("completed", "complete", "passed", "pass", "yes", "y", "true", "1", "done", "finished"),
    *("certified", "achieved", "graduated", "completed successfully"),
}
#: Learners on their way (or who stopped): normal rows, recorded without a certificate, never errors.
_NOT_COMPLETED_WORDS = {
    *("", "in progress", "inprogress", "not started", "notstarted", "started", "incomplete", "no", "n"),
    *("false", "0", "failed", "fail", "enrolled", "registered", "active", "pending", "assigned"),
    *("attempted", "not attempted", "waiting", "expired", "withdrawn", "dropped", "suspended"),
}


#: Statuses that say the learner has not finished (yet): with a completion date they contradict it.
#: An outcome ("failed", "expired", "withdrawn") can follow a finished attempt, so it does not.
_NOT_BEGUN_WORDS = {
    *("in progress", "inprogress", "not started", "notstarted", "started", "incomplete", "no", "n"),
    *("false", "0", "enrolled", "registered", "active", "pending", "assigned", "not attempted"),
    *("attempted", "waiting", "not completed", "notcompleted"),
}


def _status_words(value: str) -> str:
    return " ".join((value or "").strip().lower().replace("-", " ").replace("_", " ").split())


def status_contradicts_date(value: str) -> bool:
    """The status says the learner has not finished, which a completion date beside it contradicts."""
    return _status_words(value) in _NOT_BEGUN_WORDS


def parse_completed(value: str) -> bool:
    text = _status_words(value)
    if text in _COMPLETED_WORDS or text.startswith("completed"):
        return True
    if text in _NOT_COMPLETED_WORDS or text.startswith("not"):
        return False
    raise RecordError(f"unknown status {value!r}")


def record_from_json(payload: object, *, default_lms: str = "default") -> CompletionRecord:
    """A webhook body (see docs/LMS_WEBHOOK.md) as a record; ``RecordError`` names the bad field."""
    if not isinstance(payload, dict):
        raise RecordError("body must be a JSON object")

    def text(name: str, required: bool = False) -> str:
        value = payload.get(name)
        if value is None or value == "":
            if required:
                raise RecordError(f"missing {name}")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise RecordError(f"{name} must be a string")
        return str(value).strip()

    learner_id = text("learner_id", required=True)
    course_key = text("course") or text("course_id")
    if not course_key:
        raise RecordError("missing course (our course code) or course_id (the LMS's)")
    raw_completed = payload.get("completed_at")
    if not isinstance(raw_completed, str) or not raw_completed.strip():
        raise RecordError("missing completed_at")
    try:
        completed_at = datetime.fromisoformat(raw_completed.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"completed_at is not ISO 8601: {raw_completed!r}") from None
    if completed_at.tzinfo is None:
        raise RecordError("completed_at needs a UTC offset, e.g. 2026-11-20T14:05:00+01:00")
    custom = payload.get("custom_fields") or {}
    if not isinstance(custom, dict):
        raise RecordError("custom_fields must be an object")
    for name in ("score", "attendance"):
        if payload.get(name) is not None and isinstance(payload[name], bool | dict | list):
            raise RecordError(f"{name} must be a number")
    check_length("learner id", learner_id)
    check_length("course", course_key)
    check_length("name", text("name"))
    check_length("preferred name", text("preferred_name"))
    check_length("cohort", text("cohort"))
    check_length("lms", text("lms"))
    check_length("course title", text("course_title"))
    return CompletionRecord(
        learner_id=learner_id,
        course_key=course_key,
        completed_at=completed_at,
        email=clean_email(text("email")),
        full_name=clean_name(text("name")),
        preferred_name=clean_name(text("preferred_name")),
        lms=text("lms") or default_lms,
        course_title=clean_name(text("course_title")),
        score=parse_percent(payload.get("score"), label="score"),
        attendance=parse_percent(payload.get("attendance"), label="attendance"),
        cohort=clean_name(text("cohort")),
        custom_fields=custom_fields_from(custom),
    )
