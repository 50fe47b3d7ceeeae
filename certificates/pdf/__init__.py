"""The certificate renderer. Pure: certificate data in, PDF bytes out; no ORM, settings or network.

Fonts come from Python packages (certificates/fonts.py) and images arrive as bytes, so nothing is
read from the system or the network. The same content always renders to the same bytes (reportlab's
invariant mode, with the issue date as the PDF's creation date), so a stored SHA-256 proves a file
genuine and a regeneration can be checked against it.

``content`` is the input (what it says, how it is dressed), ``templates`` the look and wording of a
template (the three built-in ones and those staff publish as data),
``layout`` the page, ``ornaments`` the families' vector decoration, ``marks`` the QR code, SAMPLE
mark and images, ``typeset`` fitting text to a width. docs/DESIGNS.md shows the result.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

from reportlab import rl_config
from reportlab.pdfgen.canvas import Canvas

from courses import wording
from courses.dates import format_certificate_date

from .. import fonts, text
from .content import PAGE_SIZES, SAMPLE_CODE, SAMPLE_QR, CertificateContent, Design, as_sample
from .layout import draw_page
from .marks import draw_sample_mark, is_pdf, underlay_pdf
from .templates import BUILT_IN, FAMILIES, FONT_ROLES, SCORED_FAMILIES, Template, Wording, built_in, filled, values_of
from .typeset import fit

__all__ = [
    "BUILT_IN",
    "FAMILIES",
    "FONT_ROLES",
    "PAGE_SIZES",
    "RENDERER_VERSION",
    "SAMPLE_CODE",
    "SAMPLE_QR",
    "SCORED_FAMILIES",
    "CertificateContent",
    "Design",
    "Template",
    "Wording",
    "as_sample",
    "built_in",
    "cut_texts",
    "describe_characters",
    "fit",
    "is_pdf",
    "format_issue_date",
    "printed_content",
    "render_pdf",
    "render_preview_png",
    "uncovered_characters",
]

# Streams stored binary: reportlab's ASCII85 default makes every embedded font, page and image a
# quarter larger for the sake of 7-bit channels no PDF travels over now. (Only this renderer uses
# reportlab in the process.)
rl_config.useA85 = 0

#: Bump when a change to the layout, fonts or their versions changes the bytes of a rendered snapshot.
RENDERER_VERSION = "4"  # 3: a look per family (frame, seal, score dial); 4: one QR mask for every code


def format_issue_date(value: date, locale: str) -> str:
    """The date as every other place shows it (courses.dates: the verify page, emails, the dashboard)."""
    return format_certificate_date(value, locale)


def uncovered_characters(value: str) -> str:
    """The characters of ``value`` no certificate font can draw (they would print as boxes)."""
    return text.uncovered(value, fonts.serif())  # every face is tried, whatever the locale prefers


def describe_characters(chars: str) -> str:
    """Characters named for staff, with their code points: an unnamed one is never an empty reason."""
    return ", ".join(text.describe(char) for char in chars)


def printed_content(content: CertificateContent, template: Template | None = None) -> CertificateContent:
    """The content as far as it reaches the page: two contents equal here render the same text."""
    template = template or built_in(content.template_family)
    phrase = wording.placeholders(content.phrase)  # the course's own line prints fields too
    return replace(
        content,
        score=content.score if template.prints_score or "score" in phrase else None,
        completed_on=content.completed_on if template.uses("completed_on") or "completed_on" in phrase else None,
    )


def _draw(content: CertificateContent, design: Design, template: Template | None) -> tuple[bytes, list[str]]:
    template = template or built_in(content.template_family)
    width, height = design.page()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True, pageCompression=1)
    issued = content.issued_on
    dates = {
        "issued": format_issue_date(issued, design.locale),
        "completed": format_issue_date(content.completed_on, design.locale) if content.completed_on else "",
    }
    values, custom = values_of(content, **dates)
    heading = filled(template.wording_for(design.locale).heading, values, custom)
    canvas.setDateFormatter(lambda *_: f"D:{issued:%Y%m%d}000000+00'00'")
    canvas.setTitle(f"{text.clean(heading)}: {text.clean(content.course_title)} — {text.clean(content.holder_name)}")
    canvas.setAuthor(text.clean(content.organisation_name))
    canvas.setSubject(text.clean(content.course_title))
    canvas.setCreator("Laurel")
    canvas.setProducer("Laurel")
    cuts = draw_page(canvas, printed_content(content, template), design, template, **dates)
    if content.sample:
        draw_sample_mark(canvas, width, height)
    canvas.showPage()
    canvas.save()
    data = buffer.getvalue()
    if design.background and is_pdf(design.background):
        data = underlay_pdf(data, design.background)
    return data, cuts


def render_pdf(content: CertificateContent, design: Design = Design(), template: Template | None = None) -> bytes:
    """Render one certificate as a landscape PDF page: ``template``'s look and wording (the built-in
    one of the content's family when None), ``design``'s colours, paper and images."""
    return _draw(content, design, template)[0]


def cut_texts(content: CertificateContent, design: Design = Design(), template: Template | None = None) -> list[str]:
    """The texts this certificate would print cut short or leave out for lack of room."""
    return _draw(replace(content, sample=False), replace(design, background=None), template)[1]


PREVIEW_SIZE = (1200, 627)


def render_preview_png(pdf_bytes: bytes, *, background: str = "#F6F7F9") -> bytes:
    """A 1200x627 PNG (the size link previews use) of the certificate's first page, centred."""
    import pypdfium2
    from PIL import Image

    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        page = document[0]
        width, height = page.get_size()
        margin = 24
        scale = min((PREVIEW_SIZE[0] - 2 * margin) / width, (PREVIEW_SIZE[1] - 2 * margin) / height)
        rendered = page.render(scale=scale).to_pil().convert("RGB")
    finally:
        document.close()
    card = Image.new("RGB", PREVIEW_SIZE, background)
    card.paste(rendered, ((PREVIEW_SIZE[0] - rendered.width) // 2, (PREVIEW_SIZE[1] - rendered.height) // 2))
    out = io.BytesIO()
    card.save(out, format="PNG", optimize=True)
    return out.getvalue()
