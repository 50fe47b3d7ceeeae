"""What is drawn that is not text: the QR code, the SAMPLE mark, the logo and the signature."""

from __future__ import annotations

import hashlib
import io
import math
import struct
from dataclasses import dataclass
from functools import lru_cache

import qrcode
import qrcode.constants
from PIL import Image
from reportlab.lib.colors import HexColor
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

#: Images are resampled to this resolution at the size they are drawn: sharp in print, and a
#: 4000-pixel scan of a signature does not make a 2 MB certificate.
PRINT_DPI = 300
QR_MASK = 3


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
    # One mask for every code rather than qrcode's search over all eight (each scored by its
    # penalty rules): the search cost 4 ms of a 10 ms render. Mask 3 scored lowest on average for
    # verify URLs (774 against 723 for each code's best, 150 random codes); the tests decode codes
    # printed this way at 100 dpi.
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=QR_MASK)
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


@dataclass(frozen=True, slots=True)
class _PrintReady:
    digest: str
    pixels: tuple[int, int]
    palette: bytes  # RGB triples
    stream: bytes  # the palette indices, PNG-filtered and deflated: what the PDF stores
    width: float  # drawn size in points
    height: float


@lru_cache(maxsize=16)  # a worker prints one course's logo and signature many times over
def _print_ready(data: bytes, max_w: float, max_h: float) -> _PrintReady:
    """The image trimmed of transparent margins, its drawn size (aspect kept, inside max_w x max_h
    points), resampled to PRINT_DPI at that size (never enlarged), laid on white (every family
    draws logo and signature on the white of the page, so no soft mask is needed) and reduced to
    64 colours: logos and signatures are flat art, and one byte a pixel with PNG's row filters
    deflates to a fraction of raw RGB."""
    image = Image.open(io.BytesIO(data))
    image.load()
    image = image.convert("RGBA")
    box = image.getchannel("A").getbbox()
    if box:  # a scanned signature's empty margins would make the ink print small
        image = image.crop(box)
    scale = min(max_w / image.width, max_h / image.height)
    w, h = image.width * scale, image.height * scale
    pixels = (math.ceil(w / 72 * PRINT_DPI), math.ceil(h / 72 * PRINT_DPI))
    if pixels[0] < image.width:
        image = image.resize(pixels, Image.Resampling.LANCZOS)
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image, mask=image.getchannel("A"))
    indexed = flat.quantize(64, method=Image.Quantize.MEDIANCUT)
    png = io.BytesIO()
    indexed.save(png, format="PNG", optimize=True)
    palette, stream = _png_chunks(png.getvalue())
    digest = hashlib.sha256(palette + stream).hexdigest()[:32]
    return _PrintReady(digest, indexed.size, palette, stream, w, h)


def _png_chunks(png: bytes) -> tuple[bytes, bytes]:
    """A palette PNG's PLTE and its IDAT data joined: PDF's Flate filter with predictor 15 reads
    IDAT as it is."""
    position, palette, data = 8, b"", []
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        body = png[position + 8 : position + 8 + length]
        if kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            data.append(body)
        position += 12 + length
    return palette, b"".join(data)


class _Hex(pdfdoc.PDFObject):
    """A PDF hex string (the palette is binary)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document) -> bytes:
        return b"<" + self.data.hex().upper().encode() + b">"


class _ImageObject(pdfdoc.PDFImageXObject):
    """An indexed-colour image XObject made once per process, not once per certificate."""

    def __init__(self, ready: _PrintReady) -> None:  # noqa: D107 (reportlab's own set-up is not wanted)
        self.name = ready.digest
        self.width, self.height = ready.pixels
        self.ready = ready

    def format(self, document) -> bytes:
        ready = self.ready
        stream = pdfdoc.PDFStream(content=ready.stream)
        stream.dictionary.dict.update(
            Type=pdfdoc.PDFName("XObject"),
            Subtype=pdfdoc.PDFName("Image"),
            Width=self.width,
            Height=self.height,
            BitsPerComponent=8,
            ColorSpace=pdfdoc.PDFArray(
                [
                    pdfdoc.PDFName("Indexed"),
                    pdfdoc.PDFName("DeviceRGB"),
                    len(ready.palette) // 3 - 1,
                    _Hex(ready.palette),
                ]
            ),
            Filter=pdfdoc.PDFName("FlateDecode"),
            DecodeParms=pdfdoc.PDFDictionary(
                {"Predictor": 15, "Colors": 1, "BitsPerComponent": 8, "Columns": self.width}
            ),
            Length=len(ready.stream),
        )
        return stream.format(document)


def draw_image(
    canvas: Canvas,
    data: bytes,
    *,
    x: float,
    max_w: float,
    max_h: float,
    top: float | None = None,
    bottom: float | None = None,
    centred: bool = True,
) -> tuple[float, float]:
    """Draw an image centred on ``x`` (or from ``x`` rightwards), hanging from ``top`` or standing
    on ``bottom``; return its drawn width and height. Registered the way reportlab's drawImage does
    (one object per distinct image), minus its per-call deflate."""
    ready = _print_ready(data, max_w, max_h)
    name = canvas._doc.getXObjectName(ready.digest)
    if name not in canvas._doc.idToObject:
        image = _ImageObject(ready)
        canvas._setXObjects(image)
        canvas._doc.Reference(image, name)
        canvas._doc.addForm(ready.digest, image)
    canvas._currentPageHasImages = 1
    canvas.saveState()
    canvas.translate(x - ready.width / 2 if centred else x, bottom if bottom is not None else top - ready.height)
    canvas.scale(ready.width, ready.height)
    canvas._code.append(f"/{name} Do")
    canvas.restoreState()
    canvas._formsinuse.append(ready.digest)
    return ready.width, ready.height


def is_pdf(data: bytes) -> bool:
    return data[:5] == b"%PDF-"


def draw_background(canvas: Canvas, data: bytes, *, width: float, height: float) -> None:
    """Artwork under everything, stretched to the page: a JPEG goes in as it is (no re-encoding),
    a PNG as reportlab embeds it, its transparency kept (a watermark PNG is mostly transparent, and
    without its soft mask would print black). (A PDF background is laid under afterwards: underlay_pdf.)"""
    canvas.drawImage(ImageReader(io.BytesIO(data)), 0, 0, width=width, height=height, mask="auto")


def underlay_pdf(page: bytes, background: bytes) -> bytes:
    """``page`` with the first page of the PDF ``background`` drawn under it, scaled to the page.

    reportlab cannot read a PDF, so qpdf (pikepdf) copies the background page in as a form XObject
    and wraps the two content streams; nothing is rasterised or re-encoded. Saved with a document
    ID derived from the content, so the same inputs give the same bytes."""
    import pikepdf

    with pikepdf.open(io.BytesIO(page)) as document, pikepdf.open(io.BytesIO(background)) as artwork:
        target = document.pages[0]
        # add_underlay() would name the form at random, and the same inputs must give the same bytes.
        form = document.copy_foreign(artwork.pages[0].as_form_xobject())
        name = target.add_resource(form, pikepdf.Name.XObject, pikepdf.Name("/LaurelArtwork"))
        placement = target.calc_form_xobject_placement(
            form, name, pikepdf.Rectangle(target.mediabox), allow_expand=True
        )
        target.contents_add(b"q " + placement + b" Q", prepend=True)
        out = io.BytesIO()
        document.save(out, deterministic_id=True, compress_streams=True, linearize=False)
    return out.getvalue()
