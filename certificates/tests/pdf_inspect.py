"""Read back what a PDF really draws: which glyph outlines, in which embedded font, in what order.

An outside check on the renderer: it parses the PDF bytes (objects, filters, the page's content
stream, the embedded TrueType subsets) without using any of our code, so a test can compare the
outlines on the page with the outlines of the glyphs HarfBuzz chose in the original font file.
"""

from __future__ import annotations

import base64
import io
import re
import zlib

from fontTools.ttLib import TTFont

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)\s*endobj", re.S)
_STREAM = re.compile(rb"^(.*?)stream\r?\n", re.S)
_TOKEN = re.compile(rb"/[^\s/\[\]()<>]+|\((?:\\.|[^\\)])*\)|[-+]?\d*\.?\d+|[A-Za-z*'\"]+|\S", re.S)


def _objects(pdf: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in _OBJECT.finditer(pdf)}


def _stream(obj: bytes) -> tuple[bytes, bytes]:
    match = _STREAM.match(obj)
    header = match.group(1)
    length = int(re.search(rb"/Length (\d+)", header).group(1))
    data = obj[match.end() : match.end() + length]
    if b"/ASCII85Decode" in header:
        data = base64.a85decode(data.strip().removeprefix(b"<~").removesuffix(b"~>"))
    if b"/FlateDecode" in header:
        data = zlib.decompress(data)
    return header, data


def _ref(obj: bytes, key: bytes) -> int:
    return int(re.search(rb"/" + key + rb" (\d+) 0 R", obj).group(1))


def _literal(token: bytes) -> bytes:
    body, out, i = token[1:-1], bytearray(), 0
    escapes = {b"n": 10, b"r": 13, b"t": 9, b"b": 8, b"f": 12}
    while i < len(body):
        char = body[i : i + 1]
        if char == b"\\":
            following = body[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", body[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8) & 0xFF)
                i += 1 + len(octal.group(0))
                continue
            out.append(escapes.get(following, following[0]))
            i += 2
            continue
        out.append(body[i])
        i += 1
    return bytes(out)


def drawn_glyphs(pdf: bytes) -> list[tuple[str, tuple]]:
    """(font name without subset tag, glyph outline) for every glyph shown on page 1, in order."""
    objects = _objects(pdf)
    page = next(obj for obj in objects.values() if b"/Type /Page " in obj or b"/Type /Page\n" in obj)
    _, content = _stream(objects[_ref(page, b"Contents")])
    font_dict = objects[_ref(page, b"Font")] if re.search(rb"/Font \d+ 0 R", page) else page
    fonts: dict[bytes, tuple[str, TTFont | None]] = {}
    for name, number in re.findall(rb"/(F\d+(?:\+\d+)?) (\d+) 0 R", font_dict):
        font_obj = objects[int(number)]
        base = re.search(rb"/BaseFont /([^\s/]+)", font_obj).group(1).decode().split("+")[-1]
        embedded = None
        if b"/FontDescriptor" in font_obj:
            _, data = _stream(objects[_ref(objects[_ref(font_obj, b"FontDescriptor")], b"FontFile2")])
            embedded = TTFont(io.BytesIO(data))
        fonts[name] = (base, embedded)
    shown: list[tuple[str, tuple]] = []
    current = None
    operands: list[bytes] = []
    for token in _TOKEN.findall(content):
        if token.startswith(b"/") or token.startswith(b"(") or re.fullmatch(rb"[-+]?\d*\.?\d+", token):
            operands.append(token)
            continue
        if token == b"Tf":
            current = fonts[operands[-2][1:]]
        elif token == b"Tj" and current and current[1] is not None:
            base, font = current
            cmap = _code_map(font)
            for code in _literal(operands[-1]):
                shown.append((base, outline(font, cmap.get(code, ".notdef"))))
        operands = []
    return shown


def _code_map(font: TTFont) -> dict[int, str]:
    """A simple TrueType font's byte code -> glyph: the (1,0) or (3,0) cmap (symbol fonts use 0xF0xx)."""
    for platform, encoding in ((1, 0), (3, 0)):
        table = font["cmap"].getcmap(platform, encoding)
        if table is not None:
            return {code & 0xFF: name for code, name in table.cmap.items()}
    return font.getBestCmap() or {}


def outline(font: TTFont, glyph_name: str) -> tuple:
    """A glyph's points and contours, with composites resolved: equal for the same drawing."""
    glyf = font["glyf"]
    coordinates, end_points, flags = glyf[glyph_name].getCoordinates(glyf)
    return tuple(map(tuple, coordinates)), tuple(end_points), bytes(f & 1 for f in flags)


def outlines_for_gids(path: str, gids: list[int], subfont: int = 0) -> list[tuple]:
    font = TTFont(path, fontNumber=subfont)
    order = font.getGlyphOrder()
    return [outline(font, order[gid]) for gid in gids]
