"""Text layout for certificates in every script. Pure: text and a font chain in, positioned glyphs out.

reportlab alone neither shapes (Arabic joining, Indic conjuncts) nor reorders right-to-left text, so
(docs/SCRIPTS.md shows the result per script):
1. the text is normalised to NFC and each character gets its bidi embedding level (python-bidi's
   reference implementation, UAX #9 up to rule I2);
2. each character gets the first font of the chain that covers it (marks, joiners, spaces and
   punctuation stay with the font before them), and the text splits into runs of one font and level;
3. HarfBuzz shapes each run; runs are put in visual order (rule L2);
4. glyphs are drawn one by one at HarfBuzz's positions through reportlab's TrueType subsetting.
   Glyphs with no character of their own (ligatures, positional forms, conjuncts) get private-use
   code points assigned once per font, in glyph order, so the same text always gives the same bytes.
   Each run is wrapped in a marked-content span whose /ActualText is what was typed (per cluster in
   right-to-left runs), so text extraction returns the name rather than private-use code points.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import uharfbuzz as hb
from bidi import algorithm as bidi_algorithm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

# First private-use code point for glyphs that no character maps to (plane 15: no font maps there).
_PSEUDO_BASE = 0xF0000
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
_FEATURES = {"kern": True, "liga": True}


@dataclass(frozen=True, slots=True)
class FontFile:
    name: str  # the name reportlab registers it under
    path: Path
    subfont: int = 0  # face index inside a .ttc collection


class Font:
    """One TrueType face, loaded once: reportlab for embedding, HarfBuzz for shaping."""

    def __init__(self, spec: FontFile) -> None:
        self.name = spec.name
        self.reportlab = TTFont(spec.name, str(spec.path), subfontIndex=spec.subfont, asciiReadable=0)
        pdfmetrics.registerFont(self.reportlab)
        blob = hb.Blob.from_file_path(str(spec.path))
        self.hb_font = hb.Font(hb.Face(blob, spec.subfont))
        self.upem = self.hb_font.face.upem
        face = self.reportlab.face
        self.coverage = frozenset(face.charToGlyph)
        self.glyph_char: dict[int, int] = {}
        for char, gid in sorted(face.charToGlyph.items()):
            self.glyph_char.setdefault(gid, char)
        pseudo = _PSEUDO_BASE
        scale = 1000 / face.unitsPerEm
        for gid in range(face.numGlyphs):
            if gid not in self.glyph_char:
                self.glyph_char[gid] = pseudo
                face.charToGlyph[pseudo] = gid
                face.glyphToChar.setdefault(gid, []).append(pseudo)
                face.charWidths[pseudo] = face.hmetrics[gid][0] * scale
                pseudo += 1

    def covers(self, char: str) -> bool:
        return ord(char) in self.coverage


@dataclass(frozen=True, slots=True)
class Glyph:
    gid: int
    x_advance: float  # in em (multiply by the font size for points)
    x_offset: float
    y_offset: float
    cluster: int  # index of the first character of its cluster, in the run's text


@dataclass(frozen=True, slots=True)
class Run:
    font: Font
    text: str  # logical order, as typed
    rtl: bool
    glyphs: tuple[Glyph, ...]  # visual order, as HarfBuzz gives them

    @property
    def advance(self) -> float:
        return sum(glyph.x_advance for glyph in self.glyphs)


@dataclass(frozen=True, slots=True)
class Line:
    runs: tuple[Run, ...]  # visual order, left to right

    def width(self, size: float) -> float:
        return sum(run.advance for run in self.runs) * size


def clean(text: str) -> str:
    """NFC, single spaces, and no explicit bidi controls (invisible, and they break level indexing)."""
    text = unicodedata.normalize("NFC", text or "").translate(_BIDI_CONTROLS)
    return " ".join(text.split())


def _levels(text: str) -> list[int]:
    """Each character's embedding level (UAX #9 up to I2), one per character of ``text``."""
    if not any(unicodedata.bidirectional(char) in ("R", "AL", "AN") for char in text):
        return [0] * len(text)
    # Rule X9 drops boundary-neutral characters (ZWJ, ZWNJ, soft hyphen…) from the algorithm; they
    # still shape (ZWNJ is routine in Persian), so they take their neighbour's level afterwards.
    kept = [i for i, char in enumerate(text) if unicodedata.bidirectional(char) != "BN"]
    visible = "".join(text[i] for i in kept)
    storage = bidi_algorithm.get_empty_storage()
    base = bidi_algorithm.get_base_level(visible)
    storage["base_level"], storage["base_dir"] = base, ("L", "R")[base]
    bidi_algorithm.get_embedding_levels(visible, storage)
    bidi_algorithm.explicit_embed_and_overrides(storage)
    bidi_algorithm.resolve_weak_types(storage)
    bidi_algorithm.resolve_neutral_types(storage, False)
    bidi_algorithm.resolve_implicit_levels(storage, False)
    levels: list[int | None] = [None] * len(text)
    for index, char in zip(kept, storage["chars"], strict=True):
        levels[index] = char["level"]
    previous = next((level for level in levels if level is not None), base)
    for index, level in enumerate(levels):
        levels[index] = previous = previous if level is None else level
    return levels


def _inherits_font(char: str) -> bool:
    """Marks, joiners, spaces, punctuation and digits belong with the script around them."""
    return unicodedata.category(char)[0] in "MZPNCS"


def _font_for(char: str, chain: tuple[Font, ...], previous: Font | None) -> Font:
    if previous is not None and _inherits_font(char) and previous.covers(char):
        return previous
    for font in chain:
        if font.covers(char):
            return font
    return previous or chain[0]  # uncovered: the service holds such names before rendering


def _shape(font: Font, text: str, rtl: bool) -> tuple[Glyph, ...]:
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    buffer.direction = "rtl" if rtl else "ltr"
    hb.shape(font.hb_font, buffer, _FEATURES)
    em = float(font.upem)
    return tuple(  # uharfbuzz's add_str numbers clusters by character index
        Glyph(info.codepoint, pos.x_advance / em, pos.x_offset / em, pos.y_offset / em, info.cluster)
        for info, pos in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True)
    )


def _visual_order(runs: list[Run], levels: list[int]) -> list[Run]:
    """UAX #9 rule L2 on whole runs: reverse each sequence at or above each odd level."""
    if not levels or max(levels) == 0:
        return runs
    order = list(range(len(runs)))
    lowest_odd = min(level for level in levels if level % 2) if any(level % 2 for level in levels) else 1
    for level in range(max(levels), lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return [runs[i] for i in order]


def layout(text: str, chain: tuple[Font, ...]) -> Line:
    """Shape and order one line of text with the first font in ``chain`` that covers each character."""
    text = clean(text)
    if not text:
        return Line(())
    levels = _levels(text)
    fonts: list[Font] = []
    previous = None
    for char in text:
        previous = _font_for(char, chain, previous)
        fonts.append(previous)
    runs, run_levels, start = [], [], 0
    for index in range(1, len(text) + 1):
        if index == len(text) or fonts[index] is not fonts[start] or levels[index] != levels[start]:
            rtl = levels[start] % 2 == 1
            segment = text[start:index]
            runs.append(Run(fonts[start], segment, rtl, _shape(fonts[start], segment, rtl)))
            run_levels.append(levels[start])
            start = index
    return Line(tuple(_visual_order(runs, run_levels)))


def uncovered(text: str, chain: tuple[Font, ...]) -> str:
    """The characters no font in ``chain`` can draw (they would print as boxes), once each."""
    missing = []
    for char in clean(text):
        if char.isspace() or unicodedata.category(char) == "Cf":
            continue  # default-ignorable: HarfBuzz hides them when a font lacks them
        if not any(font.covers(char) for font in chain) and char not in missing:
            missing.append(char)
    return "".join(missing)


def _actual_text(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def draw(canvas: Canvas, line: Line, *, x: float, y: float, size: float) -> None:
    """Draw ``line`` with its left end at (x, y)."""
    text_object = canvas.beginText()
    code = text_object._code  # reportlab has no API for marked content; these are plain PDF operators
    pen = x
    for run in line.runs:
        text_object.setFont(run.font.name, size)
        spans = _cluster_spans(run) if run.rtl else [(run.text, run.glyphs)]
        for actual, glyphs in spans:
            code.append(f"/Span <</ActualText {_actual_text(actual)}>> BDC")
            for glyph in glyphs:
                text_object.setTextOrigin(pen + glyph.x_offset * size, y + glyph.y_offset * size)
                text_object.textOut(chr(run.font.glyph_char.get(glyph.gid, 0)))
                pen += glyph.x_advance * size
            code.append("EMC")
    canvas.drawText(text_object)


def _cluster_spans(run: Run) -> list[tuple[str, list[Glyph]]]:
    """Right-to-left runs: one span per cluster, so extraction keeps the logical order."""
    boundaries = sorted({glyph.cluster for glyph in run.glyphs})
    ends = {start: end for start, end in zip(boundaries, [*boundaries[1:], len(run.text)], strict=True)}
    spans: list[tuple[str, list[Glyph]]] = []
    for glyph in run.glyphs:
        if spans and spans[-1][2] == glyph.cluster:
            spans[-1][1].append(glyph)
        else:
            spans.append((run.text[glyph.cluster : ends[glyph.cluster]], [glyph], glyph.cluster))
    return [(text, glyphs) for text, glyphs, _ in spans]


@cache
def load_chain(specs: tuple[FontFile, ...]) -> tuple[Font, ...]:
    return tuple(_load(spec) for spec in specs)


@cache
def _load(spec: FontFile) -> Font:
    return Font(spec)
