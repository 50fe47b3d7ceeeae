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
from reportlab.pdfbase.ttfonts import TTFont

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

    Nothing per glyph is built up front: a CJK face has 30,000 glyphs, and tables of them all cost
    more memory (about 12 MB per face) than the face itself. A glyph's code is looked up when drawn.
    """

    def __init__(self, spec: FontFile) -> None:
        static_instance(spec)
        self.name = spec.name
        self.reportlab = TTFont(spec.name, str(spec.path), subfontIndex=spec.subfont, asciiReadable=0)
        pdfmetrics.registerFont(self.reportlab)
        blob = hb.Blob.from_file_path(str(spec.path))  # mapped, not read: shared with the page cache
        self.hb_font = hb.Font(hb.Face(blob, spec.subfont))
        self.upem = self.hb_font.face.upem
        self._face = face = self.reportlab.face
        self._width_scale = 1000 / face.unitsPerEm
        # Each glyph's lowest character (0: none), 4 bytes a glyph. reportlab's own glyph -> characters
        # table (a list per glyph) serves only its HarfBuzz mode, which we do not use: dropped.
        self._lowest_char = array("I", bytes(4 * face.numGlyphs))
        for char, gid in face.charToGlyph.items():
            if 0 <= gid < face.numGlyphs and (not self._lowest_char[gid] or char < self._lowest_char[gid]):
                self._lowest_char[gid] = char
        face.glyphToChar = {}

    def covers(self, char: str) -> bool:
        code = ord(char)
        return code < _PSEUDO_BASE and code in self._face.charToGlyph

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
