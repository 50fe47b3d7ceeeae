"""Font faces: the files we ship, static cuts of variable fonts, and each face loaded once per process."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from array import array
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import uharfbuzz as hb
from reportlab.pdfbase import pdfmetrics

from .truetype import MappedTTFont

# Glyphs no character maps to (ligatures, positional forms, conjuncts) are drawn through private-use
# code points in plane 15, which no font maps: 0xF0000 + the glyph id, so the same glyph always has the
# same code whatever was drawn before it in the process.
_PSEUDO_BASE = 0xF0000


@dataclass(frozen=True, slots=True)
class FontFile:
    name: str  # the name reportlab registers it under
    path: Path
    subfont: int = 0  # face index inside a .ttc collection
    #: A variable font whose default instance is not the weight to print (Noto Sans JP's is Thin):
    #: ``path`` is then a static cut of it at ``weight``, made once and kept (see static_instance).
    instance_of: Path | None = None
    weight: int = 400


def static_instance(spec: FontFile) -> Path:
    """Make (once; it takes 10–40 s for a CJK font) the static cut ``spec.path`` of ``spec.instance_of``.

    Written to a temporary file and renamed, so processes that race both end with the same bytes.
    """
    if spec.instance_of is None or spec.path.exists():
        return spec.path
    from fontTools.ttLib import TTFont as ToolsFont
    from fontTools.varLib import instancer

    spec.path.parent.mkdir(parents=True, exist_ok=True)
    chatter = logging.getLogger("fontTools")  # a dozen INFO lines per cut
    level = chatter.level
    chatter.setLevel(logging.WARNING)
    try:
        variable = ToolsFont(str(spec.instance_of))
        static = instancer.instantiateVariableFont(variable, {"wght": spec.weight}, updateFontNames=True)
    finally:
        chatter.setLevel(level)
    static.recalcTimestamp = False  # the same source gives the same bytes on every machine
    handle, partial = tempfile.mkstemp(dir=spec.path.parent, prefix=f".{spec.path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            static.save(out)
        ToolsFont(partial)["glyf"]  # a cut that does not read back is never put in place
        os.replace(partial, spec.path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return spec.path


class Font:
    """One TrueType face, loaded once: reportlab for embedding, HarfBuzz for shaping.

    Little per glyph is built up front: a CJK face has 50,000 glyphs, and Python tables of them cost
    more memory than the face itself. reportlab's face is a MappedFace (truetype.py), a glyph's code
    is looked up when drawn, and HarfBuzz maps the file.
    """

    def __init__(self, spec: FontFile) -> None:
        static_instance(spec)
        self.name = spec.name
        self.reportlab = MappedTTFont(spec.name, spec.path, spec.subfont)
        pdfmetrics.registerFont(self.reportlab)
        blob = hb.Blob.from_file_path(str(spec.path))  # mapped, not read: shared with the page cache
        self.hb_font = hb.Font(hb.Face(blob, spec.subfont))
        self.upem = self.hb_font.face.upem
        self._face = face = self.reportlab.face
        self._width_scale = 1000 / face.unitsPerEm
        # Each glyph's lowest character (0: none), 4 bytes a glyph; and a bit per code point the cmap
        # has, because covers() is asked hundreds of times a certificate and the cmap is a bisection.
        self._lowest_char = lowest = array("I", bytes(4 * face.numGlyphs))
        highest = max((char for char in face.charToGlyph.keys() if char < _PSEUDO_BASE), default=0)
        self._covered = covered = bytearray(highest // 8 + 1)
        for char, gid in face.charToGlyph.items():
            if char < _PSEUDO_BASE:
                covered[char >> 3] |= 1 << (char & 7)
            if 0 <= gid < face.numGlyphs and (not lowest[gid] or char < lowest[gid]):
                lowest[gid] = char

    def covers(self, char: str) -> bool:
        code = ord(char)
        return code >> 3 < len(self._covered) and self._covered[code >> 3] >> (code & 7) & 1 == 1

    def code_for(self, gid: int) -> int:
        """The code point reportlab draws glyph ``gid`` by: its lowest character, or (for a glyph no
        character maps to) 0xF0000 + gid, registered with reportlab the first time it is drawn."""
        return _code_for(self, gid)


@cache
def _code_for(font: Font, gid: int) -> int:
    face = font._face
    if not 0 <= gid < face.numGlyphs:
        return 0  # .notdef
    if char := font._lowest_char[gid]:
        face.charWidths[char] = face.width_of(char)  # what reportlab's text cursor advances by
        return char
    pseudo = _PSEUDO_BASE + gid
    # Idempotent: two threads registering the same glyph write the same values.
    face.charToGlyph[pseudo] = gid
    face.charWidths[pseudo] = face.hmetrics[min(gid, len(face.hmetrics) - 1)][0] * font._width_scale
    return pseudo


_LOADED: dict[FontFile, Font] = {}
_LOADING = threading.Lock()


def load_face(spec: FontFile) -> Font:
    """A face, loaded once per process (HarfBuzz and reportlab both read it: 5–120 ms)."""
    font = _LOADED.get(spec)
    if font is None:
        with _LOADING:  # one thread builds it; the others must not see it half-built
            font = _LOADED.get(spec)
            if font is None:
                font = _LOADED[spec] = Font(spec)
    return font


def loaded_faces() -> frozenset[FontFile]:
    return frozenset(_LOADED)
