"""Certificate templates: a family's look (frame, emblem, rule, fonts by role) and its wording per
locale. The three built-in templates are the platform's standard; staff publish their own as data
(certificates.models.CertificateTemplate), and the layout reads nothing else.

Wording holds placeholders (courses.wording): "with a score of {score}%". A line under the course
title whose placeholder is empty is left out, which is how a template says which fields print and
in what order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from courses import wording

from .content import CertificateContent

FONT_ROLES = ("serif", "sans")  # the shipped base faces (each falls back per script: certificates.fonts)


@dataclass(frozen=True, slots=True)
class Wording:
    heading: str
    phrase: str  # between the name and the course
    lines: tuple[str, ...] = ()  # under the course title, in print order
    intro: str = "This certifies that"
    date_label: str = "Date of issue"
    id_label: str = "Certificate ID"

    def texts(self) -> dict[str, str]:
        """Every text of the wording, by what it is (for the checks before publishing)."""
        named = {"heading": self.heading, "intro": self.intro, "phrase": self.phrase}
        named |= {f"line {number}": line for number, line in enumerate(self.lines, 1)}
        return named | {"date label": self.date_label, "ID label": self.id_label}


@dataclass(frozen=True, slots=True)
class Template:
    """What a certificate looks like and says, apart from its data and its colours (pdf.Design)."""

    family: str
    wording: tuple[tuple[str, Wording], ...]  # (locale, wording); the first is used for any other locale
    frame: str  # ornaments.FRAMES: the border and its decoration
    emblem: str  # ornaments.EMBLEMS, top right ("" none); the logo then sits top left
    rule: str  # ornaments.RULES: the line under the name
    heading_size: float = 32
    heading_font: str = "serif"
    name_font: str = "serif"
    body_font: str = "sans"
    score_prominent: bool = False  # the first line that prints the score: accent colour, a size up
    name: str = field(default="", compare=False)  # for people: which template this is

    def wording_for(self, locale: str) -> Wording:
        """The locale's wording, else its language's ("pt" for "pt-BR"), else the first."""
        by_locale = dict(self.wording)
        language = (locale or "").replace("_", "-").split("-")[0]
        return by_locale.get(locale) or by_locale.get(language) or self.wording[0][1]

    @property
    def prints_score(self) -> bool:
        return self.uses("score")

    def uses(self, placeholder: str) -> bool:
        """Does any of its wording print ``placeholder``?"""
        return any(
            placeholder in wording.placeholders(text) for _, words in self.wording for text in words.texts().values()
        )


BUILT_IN: dict[str, Template] = {
    # A classic double frame with corner ornaments; the logo centred above the organisation.
    "completion": Template(
        family="completion",
        wording=(("en", Wording("Certificate of Completion", "has successfully completed", ("{cohort}", "{custom}"))),),
        frame="classic",
        emblem="",
        rule="diamond",
        heading_size=32,
        name="Standard completion",
    ),
    # Bands at the top and bottom edges and a rosette seal with ribbon tails.
    "achievement": Template(
        family="achievement",
        wording=(
            (
                "en",
                Wording(
                    "Certificate of Achievement",
                    "has demonstrated achievement in",
                    ("with a score of {score}%", "{cohort}", "{custom}"),
                ),
            ),
        ),
        frame="bands",
        emblem="seal",
        rule="double",
        heading_size=31,
        name="Standard achievement",
    ),
    # A sidebar and a score dial: the result is the point of the page.
    "assessment": Template(
        family="assessment",
        wording=(
            (
                "en",
                Wording(
                    "Certificate of Assessment",
                    "has passed the assessment",
                    ("Assessment result: {score}%", "{cohort}", "{custom}"),
                ),
            ),
        ),
        frame="sidebar",
        emblem="score",
        rule="plain",
        heading_size=28,
        heading_font="sans",
        score_prominent=True,
        name="Standard assessment",
    ),
}
DEFAULT_FAMILY = "completion"
#: Kept for callers that think in families: each family's standard template.
FAMILIES = BUILT_IN
SCORED_FAMILIES = tuple(name for name, template in BUILT_IN.items() if template.prints_score)


def built_in(family: str) -> Template:
    return BUILT_IN.get(family, BUILT_IN[DEFAULT_FAMILY])


def score_text(content: CertificateContent) -> str:
    return f"{content.score.normalize():f}" if content.score is not None else ""


def values_of(content: CertificateContent, *, issued: str, completed: str) -> tuple[dict[str, str], dict[str, str]]:
    """What each placeholder prints for this certificate, and its custom fields by label."""
    custom = dict(content.custom_fields)
    values = {
        "holder_name": content.holder_name,
        "course_title": content.course_title,
        "organisation_name": content.organisation_name,
        "score": score_text(content),
        "cohort": content.cohort,
        "instructor_name": content.instructor_name,
        "completed_on": completed,
        "issued_on": issued,
        "custom": "  ·  ".join(f"{label}: {value}" for label, value in content.custom_fields),
    }
    return values, custom


def filled(text: str, values: dict[str, str], custom: dict[str, str]) -> str:
    """A text that always prints (a heading, a phrase): an empty placeholder prints as nothing."""
    return wording.fill(text, values, custom, leave_out_empty=False) or ""


@dataclass(frozen=True, slots=True)
class Detail:
    text: str
    prominent: bool


def details(
    content: CertificateContent, template: Template, words: Wording, values: dict[str, str], custom: dict[str, str]
) -> list[Detail]:
    """The template's lines under the course title, each filled, those with an empty field left out."""
    lines = []
    prominent_left = template.score_prominent
    for line in words.lines:
        text = wording.fill(line, values, custom)
        if not text:
            continue
        prominent = prominent_left and "score" in wording.placeholders(line)
        prominent_left = prominent_left and not prominent
        lines.append(Detail(text, prominent))
    return lines
