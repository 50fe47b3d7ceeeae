"""Reads for certificates: shaped so that pages listing them run a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, QuerySet

from verification import codes

from .models import Certificate, CertificateEvent, Status


def certificate_by_typed_code(typed: str) -> Certificate | None:
    """The publicly visible certificate for a code as a person typed it, or None."""
    code = codes.normalize(typed)
    if code is None:
        return None
    return Certificate.objects.public().filter(code=code).first()


def certificates_for_user(user) -> QuerySet[Certificate]:
    """A learner's own certificates, newest first (held ones are not theirs to see yet)."""
    return Certificate.objects.public().filter(enrollment__learner__user=user).order_by("-issued_at", "-pk")


def certificate_for_user(*, user, certificate_id: int) -> Certificate | None:
    return certificates_for_user(user).filter(pk=certificate_id).first()


def certificates_for_export(*, course_slug: str | None = None) -> Iterator[Certificate]:
    queryset = Certificate.objects.select_related("enrollment__learner", "enrollment__course")
    if course_slug:
        queryset = queryset.filter(enrollment__course__slug=course_slug)
    return queryset.order_by("enrollment__course__slug", "pk").iterator(chunk_size=2000)


def pipeline_counts() -> dict[str, int]:
    """How many certificates wait at each step: the pipeline's health at a glance."""
    counts = dict.fromkeys(Status.values, 0)
    counts.update(Certificate.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return counts


def certificate_events(certificate_id: int) -> QuerySet[CertificateEvent]:
    return CertificateEvent.objects.filter(certificate_id=certificate_id).select_related("actor")
