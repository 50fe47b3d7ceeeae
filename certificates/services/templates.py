"""Certificate templates staff manage: checking and publishing them, previews, and what a new
version would change for certificates already issued (docs/TEMPLATES.md).

Publishing freezes a template's *design* (services.designs: plain JSON with everything the renderer
needs) in a CertificateTemplateVersion; certificates print from it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from django.db import transaction

from courses import wording
from courses.models import Course, Organisation

from .. import pdf
from ..errors import CertificateError
from ..models import (
    RENDERED_STATES,
    Certificate,
    CertificateTemplate,
    CertificateTemplateVersion,
    Credential,
)
from .designs import design_of, page_design, read_file, template_from_design


class TemplateNotPublishable(CertificateError, ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


# --- samples and previews ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    key: str
    label: str
    holder_name: str
    course_title: str
    score: Decimal | None = None
    cohort: str = ""


#: The learners every template is previewed with: short, very long, right-to-left, CJK, Indic;
#: with and without score and cohort.
SAMPLES = (
    Sample(
        "short",
        "Short Latin name, with score and cohort",
        "Ana Lúcia",
        "Data Analysis",
        Decimal("92.5"),
        "Spring cohort",
    ),
    Sample(
        "long",
        "Very long name and course title",
        "Maximiliana Alexandrina Wolfeschlegelsteinhausen-Bergdorff de la Santísima Trinidad",
        "Advanced Topics in Distributed Systems Engineering: Consensus, Replication and Fault Tolerance in Practice",
        Decimal("100"),
        "Autumn 2026 evening cohort, Lisbon and online",
    ),
    Sample("rtl", "Right-to-left name (Arabic), no score", "محمد عبد الرحمن الهاشمي", "Data Analysis"),
    Sample("cjk", "CJK name (Japanese), with score", "山田 花子", "データ分析入門", Decimal("88")),
    Sample("indic", "Indic name (Devanagari), with cohort", "अर्जुन शर्मा", "Data Analysis", None, "Batch 7"),
)
SAMPLES_BY_KEY = {sample.key: sample for sample in SAMPLES}
#: Names to check that a template fits: the longest names people have, in several scripts.
FIT_NAMES = (
    SAMPLES_BY_KEY["long"].holder_name,
    "Nguyễn Thị Minh Khai Phạm Hoàng Anh Trần Bảo Ngọc Lê Văn Thịnh",
    "عبد الرحمن بن محمد بن عبد الله بن عبد العزيز آل سعود الهاشمي القرشي",
    "Ramanathapuram Venkataraghavan Subrahmanyam Chandrasekharan Iyer",
    "Александра Константиновна Преображенская-Воскресенская",
    "श्रीमती अनन्या लक्ष्मीनारायण सुब्रह्मण्यम् वेंकटरमण अय्यर",
    "สมเด็จพระเจ้าลูกเธอเจ้าฟ้าพัชรกิติยาภา นเรนทิราเทพยวดี",
    "欧阳诸葛司马慕容皇甫长孙宇文上官",
)
FIT_TITLE = SAMPLES_BY_KEY["long"].course_title
SAMPLE_ORGANISATION = "Sample Organisation"


def sample_content(sample: Sample, *, family: str, organisation: str = SAMPLE_ORGANISATION) -> pdf.CertificateContent:
    return pdf.as_sample(
        pdf.CertificateContent(
            holder_name=sample.holder_name,
            course_title=sample.course_title,
            organisation_name=organisation,
            issued_on=date(2026, 1, 15),
            completed_on=date(2026, 1, 14),
            code=pdf.SAMPLE_CODE,
            verify_url="",
            template_family=family,
            instructor_name="Dr. Sam Example",
            instructor_title="Course instructor",
            score=sample.score,
            cohort=sample.cohort,
            custom_fields=(("Grade", "A"), ("Hours", "40")),
        )
    )


def _sample_locale(sample: Sample, design: dict) -> str:
    """The CJK sample in Japanese when the template has Japanese wording, else the first locale."""
    locales = [locale for locale, _ in design["wording"]]
    if sample.key == "cjk" and "ja" in locales:
        return "ja"
    return locales[0] if locales else "en"


def template_preview(*, template_id: int, sample_key: str) -> tuple[bytes, bytes]:
    """The working copy as it prints for one sample learner: (PDF, PNG), marked SAMPLE; nothing saved."""
    template = CertificateTemplate.objects.select_related("organisation").get(pk=template_id)
    design = design_of(template)
    if not design["wording"]:
        raise TemplateNotPublishable(["the template has no wording: add one locale's wording"])
    sample = SAMPLES_BY_KEY[sample_key]
    content = sample_content(sample, family=template.family, organisation=template.organisation.name)
    data = pdf.render_pdf(
        content,
        _preview_page(design, template.organisation, _sample_locale(sample, design)),
        template_from_design(design),
    )
    return data, pdf.render_preview_png(data)


def _preview_page(design: dict, organisation: Organisation, locale: str) -> pdf.Design:
    page = page_design(design, locale=locale)
    if page.logo is None and organisation.logo:  # as its certificates print: the organisation's logo
        page = replace(page, logo=read_file(organisation.logo.name))
    return page


# --- the checks before publishing -----------------------------------------------------------------


def template_problems(template: CertificateTemplate) -> list[str]:
    """Every reason the working copy cannot be published, for staff to fix; [] when it can be."""
    design = design_of(template)
    if not design["wording"]:
        return ["the template has no wording: add one locale's wording"]
    problems = []
    for locale, words in template_from_design(design).wording:
        for what, value in words.texts().items():
            try:
                wording.check_wording(value)
            except wording.WordingError as exc:
                problems.append(f"[{locale}] {what}: {exc}")
                continue
            missing = pdf.uncovered_characters(wording.literal_text(value))
            if missing:
                problems.append(f"[{locale}] {what}: no shipped font can print {pdf.describe_characters(missing)}")
        if not words.heading.strip():
            problems.append(f"[{locale}] heading: a certificate needs a heading")
    if problems:
        return problems  # fitting text that cannot be printed or filled says nothing more
    logo = read_file(design["logo_path"] or template.organisation.logo.name)
    return _fit_problems(design, logo=logo)


def _fit_problems(design: dict, *, logo: bytes | None) -> list[str]:
    """Render the longest names and course title in each locale, with the logo it will print: any
    text cut short or left out at the least legible size is a problem to fix before a learner sees it."""
    problems = []
    template = template_from_design(design)
    for locale, _words in template.wording:
        page = pdf.Design(page_size=design["page_size"], locale=locale, logo=logo)
        seen: set[str] = set()
        for name in FIT_NAMES:
            longest = Sample("fit", "", name, FIT_TITLE, Decimal("100"), "Autumn 2026 cohort")
            for cut in pdf.cut_texts(sample_content(longest, family=design["family"]), page, template):
                if cut not in seen:
                    seen.add(cut)
                    problems.append(f"[{locale}] does not fit the page at the least legible size: {cut!r}")
    return problems


@transaction.atomic
def template_publish(*, template_id: int, by, note: str = "") -> CertificateTemplateVersion:
    """Check the working copy and freeze it as the next version; new certificates print it at once."""
    template = CertificateTemplate.objects.select_for_update().get(pk=template_id)
    problems = template_problems(template)
    if problems:
        raise TemplateNotPublishable(problems)
    design = design_of(template)
    latest = template.versions.order_by("-number").first()
    if latest is not None and latest.design == design:
        raise TemplateNotPublishable([f"nothing changed since version {latest.number}"])
    return CertificateTemplateVersion.objects.create(
        template=template,
        number=(latest.number + 1) if latest else 1,
        design=design,
        note=(note or "").strip()[:500],
        published_by=by if getattr(by, "pk", None) else None,
    )


# --- certificates already issued -------------------------------------------------------------------


def template_certificate_ids(*, template_id: int) -> list[int]:
    """Reissuable certificates of the courses a template prints for (its organisation, its family):
    what a reissue after publishing goes through (those that would print the same keep their version)."""
    template = CertificateTemplate.objects.get(pk=template_id)
    courses = Course.objects.filter(organisation_id=template.organisation_id, template_family=template.family)
    return list(
        Certificate.objects.filter(
            enrollment__course__in=courses, pipeline_state__in=RENDERED_STATES, credential_state=Credential.ACTIVE
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
