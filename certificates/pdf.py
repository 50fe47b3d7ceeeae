"""The certificate renderer. Pure: certificate data in, PDF bytes out; no ORM, settings or network.

Fonts come from Python packages (SIL OFL Noto), so no system font is assumed. The same content
always renders to the same bytes (reportlab's invariant mode, with the issue date as the PDF's
creation date), so a stored SHA-256 proves a file genuine.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

import fontpkg_noto_sans
import fontpkg_noto_serif
import qrcode
import qrcode.constants
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

SANS = "LaurelSans"
SERIF = "LaurelSerif"
_FONT_FILES = {
    SANS: fontpkg_noto_sans.ROOT / "files" / "NotoSans[wdth,wght].ttf",
    SERIF: fontpkg_noto_serif.ROOT / "files" / "NotoSerif[wdth,wght].ttf",
}

FAMILY_HEADINGS = {
    "completion": "Certificate of Completion",
    "achievement": "Certificate of Achievement",
    "assessment": "Certificate of Assessment",
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


@dataclass(frozen=True, slots=True)
class Design:
    accent: str = "#1F4E79"
    ink: str = "#1A1A1A"
    muted: str = "#5A6470"


@cache
def _register_fonts() -> None:
    for name, path in _FONT_FILES.items():
        # ttfAsciiReadable=0: subsets without every ASCII glyph are half the size.
        pdfmetrics.registerFont(TTFont(name, str(path), asciiReadable=0))


@cache
def _covered_codepoints(font_name: str) -> frozenset[int]:
    _register_fonts()
    return frozenset(pdfmetrics.getFont(font_name).face.charToGlyph)


def uncovered_characters(text: str, font_name: str = SERIF) -> str:
    """The characters of ``text`` our certificate font cannot draw (they would print as boxes)."""
    covered = _covered_codepoints(font_name)
    missing = []
    for char in unicodedata.normalize("NFC", text):
        if ord(char) not in covered and not char.isspace() and char not in missing:
            missing.append(char)
    return "".join(missing)


def _fit_size(text: str, font: str, max_size: float, min_size: float, width: float) -> float:
    size = max_size
    while size > min_size and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 1
    return size


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and pdfmetrics.stringWidth(trial, font, size) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def _draw_fitted(
    canvas: Canvas,
    text: str,
    font: str,
    *,
    x: float,
    y: float,
    width: float,
    max_size: float,
    min_size: float,
    leading: float = 1.15,
) -> float:
    """Draw centred text that shrinks to fit, then wraps; returns the y below the last line."""
    size = _fit_size(text, font, max_size, min_size, width)
    lines = _wrap(text, font, size, width) if pdfmetrics.stringWidth(text, font, size) > width else [text]
    canvas.setFont(font, size)
    for line in lines:
        canvas.drawCentredString(x, y, line)
        y -= size * leading
    return y


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


def render_pdf(content: CertificateContent, design: Design = Design()) -> bytes:
    """Render one certificate as a landscape A4 PDF."""
    _register_fonts()
    holder_name = unicodedata.normalize("NFC", content.holder_name)
    course_title = unicodedata.normalize("NFC", content.course_title)
    accent, ink, muted = HexColor(design.accent), HexColor(design.ink), HexColor(design.muted)
    width, height = landscape(A4)
    centre = width / 2
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True, pageCompression=1)
    issued = content.issued_on
    canvas.setDateFormatter(lambda *_: f"D:{issued:%Y%m%d}000000+00'00'")
    heading = FAMILY_HEADINGS.get(content.template_family, FAMILY_HEADINGS["completion"])
    canvas.setTitle(f"{heading}: {course_title} — {holder_name}")
    canvas.setAuthor(content.organisation_name)
    canvas.setSubject(course_title)
    canvas.setCreator("Laurel")
    canvas.setProducer("Laurel")

    # Frame
    canvas.setStrokeColor(accent)
    canvas.setLineWidth(6)
    canvas.rect(24, 24, width - 48, height - 48)
    canvas.setLineWidth(0.8)
    canvas.rect(36, 36, width - 72, height - 72)

    canvas.setFillColor(muted)
    _draw_fitted(
        canvas,
        content.organisation_name.upper(),
        SANS,
        x=centre,
        y=height - 90,
        width=width - 200,
        max_size=13,
        min_size=8,
    )
    canvas.setFillColor(accent)
    canvas.setFont(SERIF, 34)
    canvas.drawCentredString(centre, height - 145, heading)

    canvas.setFillColor(muted)
    canvas.setFont(SANS, 13)
    canvas.drawCentredString(centre, height - 190, "This certifies that")

    canvas.setFillColor(ink)
    below_name = _draw_fitted(
        canvas, holder_name, SERIF, x=centre, y=height - 245, width=width - 180, max_size=38, min_size=20
    )
    canvas.setStrokeColor(accent)
    canvas.setLineWidth(0.8)
    rule_y = min(height - 262, below_name + 22)
    canvas.line(centre - 220, rule_y, centre + 220, rule_y)

    canvas.setFillColor(muted)
    canvas.setFont(SANS, 13)
    canvas.drawCentredString(centre, rule_y - 30, "has successfully completed")
    canvas.setFillColor(ink)
    y = _draw_fitted(canvas, course_title, SANS, x=centre, y=rule_y - 62, width=width - 220, max_size=22, min_size=12)
    if content.score is not None and content.template_family in ("achievement", "assessment"):
        canvas.setFillColor(muted)
        canvas.setFont(SANS, 13)
        canvas.drawCentredString(centre, y - 4, f"with a score of {content.score.normalize():f}%")

    # Signature block, date, verification
    base = 92
    if content.instructor_name:
        canvas.setStrokeColor(muted)
        canvas.line(90, base + 18, 300, base + 18)
        canvas.setFillColor(ink)
        canvas.setFont(SANS, 12)
        canvas.drawCentredString(195, base, content.instructor_name)
        if content.instructor_title:
            canvas.setFillColor(muted)
            canvas.setFont(SANS, 9)
            canvas.drawCentredString(195, base - 14, content.instructor_title)
    canvas.setFillColor(ink)
    canvas.setFont(SANS, 12)
    canvas.drawCentredString(centre, base, f"{issued.day} {issued:%B %Y}")
    canvas.setFillColor(muted)
    canvas.setFont(SANS, 9)
    canvas.drawCentredString(centre, base - 14, "Date of issue")

    qr_size = 84
    qr_x = width - 90 - qr_size
    canvas.setFillColor(Color(0, 0, 0))
    _draw_qr(canvas, content.verify_url, x=qr_x, y=base - 14, size=qr_size)
    canvas.setFillColor(ink)
    canvas.setFont(SANS, 9)
    canvas.drawRightString(qr_x - 10, base + 40, "Certificate ID")
    canvas.setFont(SANS, 11)
    canvas.drawRightString(qr_x - 10, base + 26, content.code)
    canvas.setFillColor(muted)
    canvas.setFont(SANS, 8)
    canvas.drawCentredString(centre, 46, f"Verify this certificate: {content.verify_url}")

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
