"""The three template families, side by side: every difference between them is in FAMILIES.

Issue 13 turns these rows into data (wording per locale); the layout reads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from .content import CertificateContent


@dataclass(frozen=True, slots=True)
class Family:
    heading: str
    phrase: str  # between the name and the course
    score_line: str  # "{score}" is the score as printed; blank: the family never prints a score
    frame: str  # ornaments.FRAMES: the border and its decoration
    emblem: str  # ornaments.EMBLEMS, top right ("" none); its family's logo then sits top left
    rule: str  # ornaments.RULES: the line under the name
    heading_size: float
    heading_face: str = "serif"  # or "sans"
    score_prominent: bool = False  # the score line in the accent colour, a size up


FAMILIES: dict[str, Family] = {
    # A classic double frame with corner ornaments; the logo centred above the organisation.
    "completion": Family(
        heading="Certificate of Completion",
        phrase="has successfully completed",
        score_line="",
        frame="classic",
        emblem="",
        rule="diamond",
        heading_size=32,
    ),
    # Bands at the top and bottom edges and a rosette seal with ribbon tails.
    "achievement": Family(
        heading="Certificate of Achievement",
        phrase="has demonstrated achievement in",
        score_line="with a score of {score}%",
        frame="bands",
        emblem="seal",
        rule="double",
        heading_size=31,
    ),
    # A sidebar and a score dial: the result is the point of the page.
    "assessment": Family(
        heading="Certificate of Assessment",
        phrase="has passed the assessment",
        score_line="Assessment result: {score}%",
        frame="sidebar",
        emblem="score",
        rule="plain",
        heading_size=28,
        heading_face="sans",
        score_prominent=True,
    ),
}
DEFAULT_FAMILY = "completion"
SCORED_FAMILIES = tuple(name for name, family in FAMILIES.items() if family.score_line)


def family_of(name: str) -> Family:
    return FAMILIES.get(name, FAMILIES[DEFAULT_FAMILY])


def score_text(content: CertificateContent) -> str:
    return f"{content.score.normalize():f}" if content.score is not None else ""


def details(content: CertificateContent) -> list[str]:
    """The family-specific lines under the course title."""
    family = family_of(content.template_family)
    lines = []
    if content.score is not None and family.score_line:
        lines.append(family.score_line.format(score=score_text(content)))
    if content.cohort:
        lines.append(content.cohort)
    if content.custom_fields:
        lines.append("  ·  ".join(f"{label}: {value}" for label, value in content.custom_fields))
    return lines
