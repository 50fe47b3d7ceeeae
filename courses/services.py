"""Writes for courses."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from .models import Course, Organisation
from .selectors import course_by_key

DEFAULT_ORGANISATION_SLUG = "default"


class CourseError(ValueError):
    pass


def organisation_default() -> Organisation:
    """The organisation courses created by an import belong to until staff move them."""
    organisation = Organisation.objects.order_by("pk").first()
    if organisation is None:
        organisation, _ = Organisation.objects.get_or_create(
            slug=DEFAULT_ORGANISATION_SLUG, defaults={"name": "Default organisation"}
        )
    return organisation


def course_get_or_create_from_import(*, key: str, title: str = "") -> Course:
    """A course an LMS mentioned that we did not know: the platform's default template and rule."""
    course = course_by_key(key)
    if course is not None:
        return course
    slug = slugify(key)[:50]
    if not slug:
        raise CourseError(f"cannot make a course code from {key!r}")
    try:
        with transaction.atomic():
            return Course.objects.create(
                organisation=organisation_default(),
                slug=slug,
                external_id="" if slug == key else key,
                title=(title or key).strip(),
            )
    except IntegrityError:  # another import created it meanwhile
        return course_by_key(key) or Course.objects.get(slug=slug)
