"""What a certificate would print for an enrollment now, and what stops it being printed."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from courses import wording
from learners.models import Enrollment
from learners.text import name_problem

from .. import pdf
from ..errors import CertificateError
from ..selectors.templates import PublishedTemplates
from .designs import template_from_design

MISSING_NAME = "learner has no name to print"
MISSING_EMAIL = "learner has no email address"
INVALID_EMAIL = "learner's email address is not valid: {email!r}"
UNPRINTABLE_NAME = "name has characters the certificate fonts cannot print: {chars}"
UNPRINTABLE_TEXT = "{what} has characters the certificate fonts cannot print: {chars}"
BAD_CUSTOM_FIELDS = "{what} custom fields must be an object of label: value"


class CustomFieldsInvalid(CertificateError, ValueError):
    pass


def email_problem(email: str) -> str:
    """Why an address cannot receive a certificate, or ''."""
    if not (email or "").strip():
        return MISSING_EMAIL
    try:
        validate_email(email)
    except ValidationError:
        return INVALID_EMAIL.format(email=email)
    return ""


def _data_problems(*, holder_name: str, email: str) -> list[str]:
    problems = []
    if not holder_name:
        problems.append(MISSING_NAME)
    elif problem := name_problem(holder_name):  # markup or a formula: never printed or emailed as sent
        problems.append(problem)
    else:
        missing = pdf.uncovered_characters(holder_name)
        if missing:
            problems.append(UNPRINTABLE_NAME.format(chars=pdf.describe_characters(missing)))
    if problem := email_problem(email):
        problems.append(problem)
    return problems


def _printing_problems(snapshot: dict) -> list[str]:
    """Everything else the certificate prints must be printable too: a box anywhere is a defect."""
    texts = {
        "course title": snapshot["course_title"],
        "organisation name": snapshot["organisation_name"],
        "instructor name": snapshot["instructor_name"],
        "instructor title": snapshot["instructor_title"],
        "cohort": snapshot["cohort"],
        "custom fields": " ".join(f"{label} {value}" for label, value in snapshot["custom_fields"]),
        "course's line of wording": wording.literal_text(snapshot["phrase"]),
        f"date of issue in locale {snapshot['locale']!r}": pdf.format_issue_date(
            snapshot["issued_on"], snapshot["locale"]
        ),
    }
    problems = []
    try:
        wording.check_wording(snapshot["phrase"])
    except wording.WordingError as exc:
        problems.append(f"course's line of wording: {exc}")
    for what, value in texts.items():
        missing = pdf.uncovered_characters(value or "")
        if missing:
            problems.append(UNPRINTABLE_TEXT.format(what=what, chars=pdf.describe_characters(missing)))
    return problems


def _cohort(enrollment: Enrollment) -> str:
    course = enrollment.course
    name = enrollment.cohort or course.cohort_name
    if not (course.cohort_start and course.cohort_end) or enrollment.cohort:
        return name
    locale = course.locale or course.organisation.locale
    dates = f"{pdf.format_issue_date(course.cohort_start, locale)} – {pdf.format_issue_date(course.cohort_end, locale)}"
    return f"{name}, {dates}" if name else dates


def _custom_fields(enrollment: Enrollment) -> list[list[str]]:
    """Course-level fields, then the learner's own (which win on the same label), as printable pairs."""
    for what, fields in (("course", enrollment.course.custom_fields), ("learner's", enrollment.custom_fields)):
        if fields and not isinstance(fields, dict):
            raise CustomFieldsInvalid(BAD_CUSTOM_FIELDS.format(what=what))
    merged = {**(enrollment.course.custom_fields or {}), **(enrollment.custom_fields or {})}
    pairs = []
    for label, value in merged.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(item) for item in value)
        if str(value).strip():
            pairs.append([str(label).strip(), str(value).strip()])
    return pairs


def _prints_score(design: dict, phrase: str) -> bool:
    try:
        in_phrase = "score" in wording.placeholders(phrase)
    except wording.WordingError:
        in_phrase = False  # reported as a problem below
    return in_phrase or template_from_design(design).prints_score


def snapshot_of(
    enrollment: Enrollment, *, issued_on: date | None = None, published: PublishedTemplates | None = None
) -> tuple[dict[str, object], list[str]]:
    """What a certificate for this enrollment prints now, and every reason it cannot be printed.

    ``issued_on`` keeps the printed date of an earlier issue (a reissue corrects, it does not re-date);
    ``published`` remembers the templates over many enrollments.
    """
    learner, course = enrollment.learner, enrollment.course
    organisation = course.organisation
    # The organisation's published template for the family; None: the family's built-in one.
    published = published or PublishedTemplates()
    template = published.version_for(organisation_id=organisation.pk, family=course.template_family)
    design = template.design if template else {}
    problems: list[str] = []
    try:
        custom_fields = _custom_fields(enrollment)
    except CustomFieldsInvalid as exc:  # held with the reason, not a crash for every completion
        custom_fields, problems = [], [str(exc)]
    snapshot = {
        "holder_name": learner.certificate_name,
        "recipient_email": learner.email,
        "course_title": course.title,
        "instructor_name": course.instructor_name,
        "instructor_title": course.instructor_title,
        "organisation_name": organisation.name,
        "template_family": course.template_family,
        "completed_at": enrollment.completed_at,
        "issued_on": issued_on or timezone.localdate(),
        "score": enrollment.score,
        "cohort": _cohort(enrollment),
        "custom_fields": custom_fields,
        "accent_color": course.accent_color or design.get("accent_color") or organisation.accent_color,
        "secondary_color": course.secondary_color
        or (design["secondary_color"] if design else organisation.secondary_color),
        # A template's paper is its layout, which a course does not change; without one, the course's.
        "page_size": design.get("page_size") or course.page_size or organisation.page_size,
        "locale": course.locale or organisation.locale,
        "logo_path": design.get("logo_path") or organisation.logo.name or "",
        "signature_path": course.signature.name or design.get("signature_path") or "",
        "phrase": course.certificate_phrase,
        "template_version_id": template.pk if template else None,
    }
    if template is not None and not _prints_score(design, course.certificate_phrase):
        snapshot["score"] = None  # what the verify page and the credential show is what the PDF prints
    problems += _data_problems(holder_name=snapshot["holder_name"], email=snapshot["recipient_email"])
    problems += _printing_problems(snapshot)
    return snapshot, problems
