"""Reads for the staff desk: search, the work pages of a certificate and of a learner, the delivery
problems queue's columns. Each page reads in a fixed number of queries, however long its lists."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from django.db.models import CharField, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, NullIf

from delivery.models import Delivery
from learners.models import Learner
from learners.selectors import learner_search_filter

from .. import codes, pdf
from ..emails import COMPOSER
from ..models import RENDERED_STATES, Case, Certificate, CertificateEvent, CertificateVersion, Pipeline
from .lookups import lookup_totals


def search_by_learner(queryset: QuerySet, term: str, *, learner_path: str, code_field: str | None = None) -> QuerySet:
    """Rows whose learner's names, address or LMS id hold every word typed, accents and case aside;
    with ``code_field``, also the certificate whose code is typed any way the verify page accepts."""
    matches = learner_search_filter(term, learner_path=learner_path)
    if matches is None:
        return queryset
    if code_field and (code := codes.normalize(term)):
        matches |= Q(**{code_field: code})
    return queryset.filter(matches)


@dataclass(frozen=True)
class UnprintableCharacter:
    char: str
    code_point: str  # "U+0D9A"
    name: str  # "SINHALA LETTER ALPAPRAANA KAYANNA", or "unnamed"

    def __str__(self) -> str:
        return f"{self.char} ({self.code_point} {self.name})"


#: What to call a character Unicode gives no name, by its general category.
UNNAMED = {"Co": "private use character", "Cn": "unassigned code point", "Cs": "surrogate", "Cc": "control character"}


def unprintable_characters(value: str) -> list[UnprintableCharacter]:
    """The characters of ``value`` the certificate fonts cannot draw, with what Unicode calls them."""
    return [
        UnprintableCharacter(
            char,
            f"U+{ord(char):04X}",
            unicodedata.name(char, "") or UNNAMED.get(unicodedata.category(char), "unnamed character"),
        )
        for char in dict.fromkeys(pdf.uncovered_characters(value or "").replace(" ", ""))
    ]


@dataclass
class CertificateWork:
    """Everything a support person needs on one certificate's page."""

    certificate: Certificate
    versions: list[CertificateVersion]
    events: list[CertificateEvent]
    deliveries: list[Delivery]
    cases: list[Case]
    problems: list[str] = field(default_factory=list)
    unprintable: list[UnprintableCharacter] = field(default_factory=list)
    lookups: list[tuple[str, int]] = field(default_factory=list)  # (channel, count), all time

    @property
    def learner(self) -> Learner:
        return self.certificate.enrollment.learner


def certificate_work(certificate_id: int) -> CertificateWork | None:
    certificate = (
        Certificate.objects.select_related(
            "enrollment__learner", "enrollment__course__organisation", "approved_by", "credential_changed_by"
        )
        .filter(pk=certificate_id)
        .first()
    )
    if certificate is None:
        return None
    versions = list(certificate.versions.select_related("created_by").order_by("-number"))
    events = list(CertificateEvent.objects.filter(certificate=certificate).select_related("version").order_by("-pk"))
    deliveries = list(
        Delivery.objects.filter(composer=COMPOSER, reference__in=[str(v.pk) for v in versions]).order_by("-pk")
    )
    cases = list(
        Case.objects.filter(Q(certificate=certificate) | Q(enrollment_id=certificate.enrollment_id))
        .select_related("assignee")
        .order_by("-pk")
    )
    work = CertificateWork(certificate, versions, events, deliveries, cases)
    if certificate.pipeline_state in (Pipeline.HELD, Pipeline.REJECTED) and certificate.state_reason:
        work.problems = [part.strip() for part in certificate.state_reason.split(";") if part.strip()]
    work.unprintable = unprintable_characters(work.learner.certificate_name)
    work.lookups = lookup_totals(certificate.pk)
    return work


def resend_refusal(certificate: Certificate) -> str:
    """Why a certificate's email cannot be sent again now, in words, or ''."""
    if certificate.pipeline_state not in RENDERED_STATES:
        return f"it is {certificate.get_pipeline_state_display().lower()}"
    if not certificate.is_valid:
        return f"it is {certificate.get_credential_state_display().lower()}" + (
            " (expired)" if certificate.is_expired else ""
        )
    return "an email is already on its way"


@dataclass
class LearnerWork:
    """A learner's certificates (every version), requests, emails and certificate history, on one page."""

    certificates: list[Certificate]
    cases: list[Case]
    deliveries: list[Delivery]
    events: list[CertificateEvent]


def learner_work(learner_id: int, *, events: int = 50) -> LearnerWork:
    certificates = list(
        Certificate.objects.filter(enrollment__learner_id=learner_id)
        .select_related("enrollment__course")
        .prefetch_related(Prefetch("versions", queryset=CertificateVersion.objects.order_by("-number")))
        .order_by("-created_at", "-pk")
    )
    version_ids = [str(v.pk) for c in certificates for v in c.versions.all()]
    cases = list(Case.objects.filter(learner_id=learner_id).select_related("assignee", "certificate").order_by("-pk"))
    deliveries = list(
        Delivery.objects.filter(
            Q(composer=COMPOSER, reference__in=version_ids)
            | Q(composer="case", reference__in=[str(c.pk) for c in cases])
            | Q(composer="sign-in", reference=str(learner_id))
        ).order_by("-pk")[:100]
    )
    history = list(
        CertificateEvent.objects.filter(certificate__enrollment__learner_id=learner_id)
        .select_related("certificate")
        .order_by("-pk")[:events]
    )
    return LearnerWork(certificates, cases, deliveries, history)


def with_certificate_columns(queryset: QuerySet[Delivery]) -> QuerySet[Delivery]:
    """Deliveries with the certificate and learner they were for (certificate emails only), in the
    same query: ``certificate_id``, ``certificate_code``, ``learner_id``, ``learner_name``."""
    version = CertificateVersion.objects.filter(
        pk=Cast(NullIf(OuterRef("reference"), Value("")), IntegerField())
    ).select_related(None)
    certificate_only = Q(composer=COMPOSER)

    def column(path: str, output):
        return Subquery(version.values(path)[:1], output_field=output)

    return queryset.annotate(
        certificate_pk=column("certificate_id", IntegerField()),
        certificate_code=column("certificate__code", CharField()),
        learner_pk=column("certificate__enrollment__learner_id", IntegerField()),
        learner_name=Coalesce(
            column("certificate__enrollment__learner__full_name", CharField()), F("recipient"), output_field=CharField()
        ),
    ).filter(certificate_only)
