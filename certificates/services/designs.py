"""Designs: a certificate template as plain JSON (wording per locale, look, fonts by role, colours,
paper, and the storage names of its images), made from the working copy and frozen by publishing,
and turned back into the renderer's Template and Design."""

from __future__ import annotations

from dataclasses import asdict

from django.core.files.storage import default_storage

from .. import pdf
from ..models import CertificateTemplate

DESIGN_FIELDS = (
    "family",
    "frame",
    "emblem",
    "rule",
    "heading_size",
    "heading_font",
    "name_font",
    "body_font",
    "score_prominent",
    "accent_color",
    "secondary_color",
    "ink_color",
    "muted_color",
    "page_size",
)


def design_of(template: CertificateTemplate) -> dict:
    """The working copy as a design (what publishing would freeze)."""
    design = {name: getattr(template, name) for name in DESIGN_FIELDS}
    design["name"] = template.name
    design["wording"] = [
        [row.locale, _wording_json(row.as_wording())] for row in template.wordings.order_by("position", "pk")
    ]
    design["logo_path"] = template.logo.name or ""
    design["signature_path"] = template.signature.name or ""
    design["background_path"] = template.background.name or ""
    return design


def _wording_json(words: pdf.Wording) -> dict:
    return {**asdict(words), "lines": list(words.lines)}


def template_from_design(design: dict) -> pdf.Template:
    """The renderer's template from a design (a published version's, or the working copy's)."""
    wordings = tuple(
        (locale, pdf.Wording(**{**words, "lines": tuple(words["lines"])})) for locale, words in design["wording"]
    )
    return pdf.Template(
        family=design["family"],
        wording=wordings,
        frame=design["frame"],
        emblem=design["emblem"],
        rule=design["rule"],
        heading_size=design["heading_size"],
        heading_font=design["heading_font"],
        name_font=design["name_font"],
        body_font=design["body_font"],
        score_prominent=design["score_prominent"],
        name=design.get("name", ""),
    )


def read_file(name: str) -> bytes | None:
    if not name:
        return None
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def page_design(
    design: dict,
    *,
    locale: str,
    accent: str = "",
    secondary: str | None = None,
    page_size: str = "",
    logo: str | None = None,
    signature: str | None = None,
) -> pdf.Design:
    """The renderer's colours, paper and images for a design. A certificate version passes what it
    froze (its colours, paper and image paths, where a course's own win); a preview passes none."""
    return pdf.Design(
        accent=accent or design["accent_color"],
        secondary=design["secondary_color"] if secondary is None else secondary,
        ink=design["ink_color"],
        muted=design["muted_color"],
        page_size=page_size or design["page_size"],
        locale=locale,
        logo=read_file(design["logo_path"] if logo is None else logo),
        signature=read_file(design["signature_path"] if signature is None else signature),
        background=read_file(design["background_path"]),
    )
