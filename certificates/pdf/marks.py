"""What is drawn that is not text: the QR code, the SAMPLE mark, the logo and the signature."""

from __future__ import annotations

import io
import math
from functools import lru_cache

import qrcode
import qrcode.constants
from PIL import Image
from reportlab.lib.colors import HexColor
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

#: Images are resampled to this resolution at the size they are drawn: sharp in print, and a
#: 4000-pixel scan of a signature does not make a 2 MB certificate.
PRINT_DPI = 300


def draw_sample_mark(canvas: Canvas, width: float, height: float) -> None:
    """SAMPLE across the page, over everything, translucent: no one can take a preview for a certificate."""
    canvas.saveState()
    canvas.setFillColor(HexColor("#C62828"), alpha=0.22)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(24)
    canvas.setFont("Helvetica-Bold", 150)
    canvas.drawCentredString(0, -50, "SAMPLE")
    canvas.restoreState()


def draw_qr(canvas: Canvas, data: str, *, x: float, y: float, size: float) -> None:
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


@lru_cache(maxsize=16)  # a worker prints one course's logo and signature many times over
def _print_ready(data: bytes, max_w: float, max_h: float) -> tuple[Image.Image, float, float]:
    """The image trimmed of transparent margins, its drawn size (aspect kept, inside max_w x max_h
    points), and its pixels resampled to PRINT_DPI at that size (never enlarged)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "transparency" in image.info or image.mode == "P" else "RGB")
    if image.mode in ("RGBA", "LA"):
        box = image.getchannel("A").getbbox()
        if box:  # a scanned signature's empty margins would make the ink print small
            image = image.crop(box)
    scale = min(max_w / image.width, max_h / image.height)
    w, h = image.width * scale, image.height * scale
    pixels = (math.ceil(w / 72 * PRINT_DPI), math.ceil(h / 72 * PRINT_DPI))
    if pixels[0] < image.width:
        image = image.resize(pixels, Image.Resampling.LANCZOS)
    return image, w, h


def image_size(data: bytes, *, max_w: float, max_h: float) -> tuple[float, float]:
    """The size in points an image is drawn at inside max_w x max_h."""
    _, w, h = _print_ready(data, max_w, max_h)
    return w, h


def draw_image(canvas: Canvas, data: bytes, *, centre: float, bottom: float, max_w: float, max_h: float) -> float:
    """Draw an image centred on ``centre`` from ``bottom`` up; return its top."""
    image, w, h = _print_ready(data, max_w, max_h)
    canvas.drawImage(ImageReader(image), centre - w / 2, bottom, w, h, mask="auto")
    return bottom + h
