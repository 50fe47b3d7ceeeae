"""The certificate renderer. Pure: certificate data in, PDF bytes out; no ORM, settings or network.

Fonts come from Python packages (certificates/fonts.py) and images arrive as bytes, so nothing is
read from the system or the network. The same content always renders to the same bytes (reportlab's
invariant mode, with the issue date as the PDF's creation date), so a stored SHA-256 proves a file
genuine and a regeneration can be checked against it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import partial

import qrcode
import qrcode.constants
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from courses.dates import format_certificate_date

from . import fonts, text

#: Bump when a change to the layout, fonts or their versions changes the bytes of a rendered snapshot.
RENDERER_VERSION = "2"  # 2: a face for every living script; Noto CJK with Japanese forms

PAGE_SIZES = {"A4": landscape(A4), "LETTER": landscape(letter)}

FAMILY_HEADINGS = {
    "completion": "Certificate of Completion",
    "achievement": "Certificate of Achievement",
    "assessment": "Certificate of Assessment",
}
FAMILY_PHRASES = {
    "completion": "has successfully completed",
    "achievement": "has demonstrated achievement in",
    "assessment": "has passed the assessment",
}


@dataclass(frozen=True, slots=True)
class CertificateContent:
    holder_name: str
    course_title: str
    organisation_name: str
    issued_on: date
    code: str  # display form, e.g. K7QM-3XWD-9PHT-R2VA
    verify_url: str
    template_family: str = "completion"
    instructor_name: str = ""
    instructor_title: str = ""
    score: Decimal | None = None
    cohort: str = ""
    custom_fields: tuple[tuple[str, str], ...] = ()  # (label, value), printed in this order
    #: A preview for staff, never a certificate: marked SAMPLE across the page, and its ID and QR
    #: code say so instead of pointing at a verify page.
    sample: bool = False


SAMPLE_CODE = "SAMPLE-NOT-VALID"
SAMPLE_QR = "SAMPLE - this is a preview, not a certificate"


def as_sample(content: CertificateContent) -> CertificateContent:
    return replace(content, code=SAMPLE_CODE, verify_url="", sample=True)


@dataclass(frozen=True, slots=True)
class Design:
    accent: str = "#1F4E79"
    secondary: str = ""  # the inner frame and the rule under the name; blank: the accent
    ink: str = "#1A1A1A"
    muted: str = "#5A6470"
    page_size: str = "A4"  # or "LETTER"
    locale: str = "en"  # for the date of issue
    logo: bytes | None = field(default=None, repr=False)  # PNG or JPEG
    signature: bytes | None = field(default=None, repr=False)


def format_issue_date(value: date, locale: str) -> str:
    """The date as every other place shows it (courses.dates: the verify page, emails, the dashboard)."""
    return format_certificate_date(value, locale)


def uncovered_characters(value: str) -> str:
    """The characters of ``value`` no certificate font can draw (they would print as boxes)."""
    return text.uncovered(value, fonts.serif())  # every face is tried, whatever the locale prefers


def describe_characters(chars: str) -> str:
    """Characters named for staff, with their code points: an unnamed one is never an empty reason."""
    return ", ".join(text.describe(char) for char in chars)


def _wrap_text(value: str, chain, size: float, width: float) -> list[str]:
    """Greedy word wrap (at spaces; scripts written without spaces stay one line and shrink)."""
    lines: list[str] = []
    current = ""
    for word in value.split():
        trial = f"{current} {word}".strip()
        if current and text.layout(trial, chain).width(size) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def _wrap(value: str, chain, size: float, width: float) -> list[text.Line]:
    return [text.layout(line, chain) for line in _wrap_text(value, chain, size, width)]


def fit(
    value: str,
    chain,
    *,
    width: float,
    max_size: float,
    min_size: float,
    max_lines: int = 2,
    wrapped_max: float | None = None,
) -> tuple[float, list[text.Line]]:
    """The largest size (and its lines) at which ``value`` fits ``width``: shrink, then wrap, then
    as a last resort cut the last line with an ellipsis. Nothing ever prints below ``min_size`` or
    outside ``width``. ``wrapped_max`` caps the size once text wraps (two big lines would collide)."""
    chain = chain.for_text(text.clean(value))  # glyph forms judged on the whole value, not line by line
    single = text.layout(value, chain)
    natural = single.width(1) or 1
    if width / natural >= min_size:
        return min(max_size, width / natural), [single]
    for size in range(int(min(max_size, wrapped_max or max_size)), int(min_size) - 1, -1):
        lines = _wrap(value, chain, size, width)
        if len(lines) <= max_lines and all(line.width(size) <= width for line in lines):
            return size, lines
    # Too long even wrapped (or one unbreakable run, as Chinese and Thai names are): cut, never overflow.
    texts = _wrap_text(value, chain, min_size, width)
    if len(texts) > max_lines:
        texts = [*texts[: max_lines - 1], " ".join(texts[max_lines - 1 :])]
    return min_size, [_ellipsised(line, chain, min_size, width) for line in texts]


def _ellipsised(value: str, chain, size: float, width: float) -> text.Line:
    line = text.layout(value, chain)
    if line.width(size) <= width:
        return line
    low, high = 0, len(value)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if text.layout(value[:middle].rstrip() + "…", chain).width(size) <= width:
            low = middle
        else:
            high = middle - 1
    return text.layout(value[:low].rstrip() + "…", chain)


def _centred(canvas: Canvas, lines: Sequence[text.Line], *, centre: float, y: float, size: float) -> float:
    """Draw lines centred on ``centre`` from baseline ``y`` down; return the baseline below the last."""
    for line in lines:
        text.draw(canvas, line, x=centre - line.width(size) / 2, y=y, size=size)
        y -= size * 1.2
    return y


def _label(
    canvas: Canvas,
    value: str,
    *,
    font_set: text.FontSet,
    centre: float,
    y: float,
    size: float,
    width: float,
    max_lines: int = 2,
) -> float:
    """A small centred text that may shrink a little and wrap; returns the baseline below it."""
    size, lines = fit(value, font_set, width=width, max_size=size, min_size=min(size, 8), max_lines=max_lines)
    return _centred(canvas, lines, centre=centre, y=y, size=size)


def _draw_sample_mark(canvas: Canvas, width: float, height: float) -> None:
    """SAMPLE across the page, over everything, translucent: no one can take a preview for a certificate."""
    canvas.saveState()
    canvas.setFillColor(HexColor("#C62828"), alpha=0.22)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(24)
    canvas.setFont("Helvetica-Bold", 150)
    canvas.drawCentredString(0, -50, "SAMPLE")
    canvas.restoreState()


def _draw_qr(canvas: Canvas, data: str, *, x: float, y: float, size: float) -> None:
    """A vector QR code: one path of dark modules, so it stays sharp and small."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    count = len(matrix)
    module = size / count
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        col = 0
        while col < count:
            if row[col]:
                start = col
                while col < count and row[col]:
                    col += 1
                path.rect(x + start * module, y + size - (row_index + 1) * module, (col - start) * module, module)
            else:
                col += 1
    canvas.drawPath(path, stroke=0, fill=1)


def _draw_image(canvas: Canvas, data: bytes, *, x: float, y: float, max_w: float, max_h: float, centre=False):
    image = ImageReader(io.BytesIO(data))
    width, height = image.getSize()
    scale = min(max_w / width, max_h / height)
    w, h = width * scale, height * scale
    canvas.drawImage(image, x - w / 2 if centre else x, y, w, h, mask="auto")


SCORED_FAMILIES = ("achievement", "assessment")


def printed_content(content: CertificateContent) -> CertificateContent:
    """The content as far as it reaches the page: two contents equal here render the same text."""
    return replace(content, score=content.score if content.template_family in SCORED_FAMILIES else None)


def details(content: CertificateContent) -> list[str]:
    """The family-specific lines under the course title."""
    lines = []
    if content.score is not None and content.template_family == "achievement":
        lines.append(f"with a score of {content.score.normalize():f}%")
    elif content.score is not None and content.template_family == "assessment":
        lines.append(f"Assessment result: {content.score.normalize():f}%")
    if content.cohort:
        lines.append(content.cohort)
    if content.custom_fields:
        lines.append("  ·  ".join(f"{label}: {value}" for label, value in content.custom_fields))
    return lines


def render_pdf(content: CertificateContent, design: Design = Design()) -> bytes:
    """Render one certificate as a landscape PDF page."""
    serif, sans = fonts.serif(design.locale), fonts.sans(design.locale)
    label = partial(_label, font_set=sans)
    accent, ink, muted = HexColor(design.accent), HexColor(design.ink), HexColor(design.muted)
    width, height = PAGE_SIZES.get(design.page_size.upper(), PAGE_SIZES["A4"])
    centre = width / 2
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True, pageCompression=1)
    issued = content.issued_on
    canvas.setDateFormatter(lambda *_: f"D:{issued:%Y%m%d}000000+00'00'")
    heading = FAMILY_HEADINGS.get(content.template_family, FAMILY_HEADINGS["completion"])
    canvas.setTitle(f"{heading}: {text.clean(content.course_title)} — {text.clean(content.holder_name)}")
    canvas.setAuthor(text.clean(content.organisation_name))
    canvas.setSubject(text.clean(content.course_title))
    canvas.setCreator("Laurel")
    canvas.setProducer("Laurel")

    canvas.setStrokeColor(accent)
    canvas.setLineWidth(6)
    canvas.rect(24, 24, width - 48, height - 48)
    secondary = HexColor(design.secondary) if design.secondary else accent
    canvas.setStrokeColor(secondary)
    canvas.setLineWidth(0.8)
    canvas.rect(36, 36, width - 72, height - 72)
    inner = width - 200

    if design.logo:
        _draw_image(canvas, design.logo, x=56, y=height - 106, max_w=130, max_h=50)
    canvas.setFillColor(muted)
    label(canvas, content.organisation_name, centre=centre, y=height - 82, size=13, width=width - 400, max_lines=1)
    canvas.setFillColor(accent)
    _centred(canvas, [text.layout(heading, serif)], centre=centre, y=height - 135, size=32)
    canvas.setFillColor(muted)
    label(canvas, "This certifies that", centre=centre, y=height - 172, size=13, width=inner)

    canvas.setFillColor(ink)
    # The name: one line up to 40 pt, or two lines up to 28 pt hanging below "This certifies that".
    size, lines = fit(content.holder_name, serif, width=width - 160, max_size=40, min_size=16, wrapped_max=28)
    first_baseline = height - 222 if len(lines) == 1 else height - 190 - size * 1.05
    y = _centred(canvas, lines, centre=centre, y=first_baseline, size=size)
    rule_y = y + size * 1.2 - max(16, size * 0.5)  # below the deepest descenders (Arabic, Devanagari)
    canvas.setStrokeColor(secondary)
    canvas.line(centre - 220, rule_y, centre + 220, rule_y)

    canvas.setFillColor(muted)
    phrase = FAMILY_PHRASES.get(content.template_family, FAMILY_PHRASES["completion"])
    y = label(canvas, phrase, centre=centre, y=rule_y - 24, size=13, width=inner, max_lines=1)
    canvas.setFillColor(ink)
    size, lines = fit(content.course_title, sans, width=inner, max_size=22, min_size=12, wrapped_max=18)
    y = _centred(canvas, lines, centre=centre, y=y - 10, size=size)
    canvas.setFillColor(muted)
    budget = 3 if len(lines) == 1 else 2  # lines left above the signature block
    for line in details(content):
        if budget <= 0:
            break
        y = label(canvas, line, centre=centre, y=y - 2, size=11, width=inner, max_lines=1)
        budget -= 1

    base = 92
    column = 210  # the signature block's width, left of centre
    if content.instructor_name:
        if design.signature:
            _draw_image(canvas, design.signature, x=195, y=base + 22, max_w=170, max_h=44, centre=True)
        canvas.setStrokeColor(muted)
        canvas.line(90, base + 18, 90 + column, base + 18)
        canvas.setFillColor(ink)
        below = label(canvas, content.instructor_name, centre=195, y=base, size=12, width=column, max_lines=1)
        if content.instructor_title:
            canvas.setFillColor(muted)
            label(canvas, content.instructor_title, centre=195, y=below + 1, size=9, width=column, max_lines=1)
    canvas.setFillColor(ink)
    below = label(
        canvas, format_issue_date(issued, design.locale), centre=centre, y=base, size=12, width=170, max_lines=1
    )
    canvas.setFillColor(muted)
    label(canvas, "Date of issue", centre=centre, y=below + 1, size=9, width=170, max_lines=1)

    qr_size = 84
    qr_x = width - 90 - qr_size
    canvas.setFillColor(HexColor("#000000"))
    _draw_qr(canvas, SAMPLE_QR if content.sample else content.verify_url, x=qr_x, y=base - 14, size=qr_size)
    canvas.setFillColor(ink)
    code_centre = qr_x - 80
    label(canvas, "Certificate ID", centre=code_centre, y=base + 40, size=9, width=130, max_lines=1)
    label(canvas, content.code, centre=code_centre, y=base + 26, size=11, width=130, max_lines=1)
    canvas.setFillColor(muted)
    label(
        canvas,
        "Sample only: this is not a certificate and cannot be verified."
        if content.sample
        else f"Verify this certificate: {content.verify_url}",
        centre=centre,
        y=46,
        size=8,
        width=width - 120,
        max_lines=1,
    )
    if content.sample:
        _draw_sample_mark(canvas, width, height)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


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
