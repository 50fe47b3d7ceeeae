"""Text layout for certificates in every script. Pure: text and a font set in, positioned glyphs out.

reportlab alone neither shapes (Arabic joining, Indic conjuncts) nor reorders right-to-left text, so
(docs/SCRIPTS.md shows the result per script):
1. the text is normalised to NFC and each character gets its bidi embedding level (python-bidi's
   reference implementation, UAX #9 up to rule I2);
2. each character gets the face of its script (Unicode's Scripts.txt, via fontTools) that covers
   it; marks, joiners, spaces and punctuation stay with the face before them; the text splits into
   runs of one face and level;
3. HarfBuzz shapes each run; runs are put in visual order (rule L2);
4. glyphs are drawn one by one at HarfBuzz's positions through reportlab's TrueType subsetting.
   Glyphs with no character of their own (ligatures, positional forms, conjuncts) get private-use
   code points assigned once per font, in glyph order, so the same text always gives the same bytes.
   Each run is wrapped in a marked-content span whose /ActualText is what was typed (per cluster in
   right-to-left runs), so text extraction returns the name rather than private-use code points.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import uharfbuzz as hb
from bidi import algorithm as bidi_algorithm
from fontTools import unicodedata as unicode_scripts
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
    """One TrueType face, loaded once: reportlab for embedding, HarfBuzz for shaping."""

    def __init__(self, spec: FontFile) -> None:
        static_instance(spec)
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
    level: int = 0  # bidi embedding level: 0 left-to-right text, odd right-to-left, 2 digits inside it
    start: int = 0  # index of its first character in the line's logical text

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


_NO_SCRIPT = {"Zyyy", "Zinh", "Zzzz"}  # common, inherited, unknown: they take a neighbour's font


class FontSet:
    """A design's fonts: its base face (Latin, Greek, Cyrillic), a face per other script, and
    fallbacks for symbols. A face is loaded the first time a text needs it, so the sixty-odd
    scripts cost nothing until a name in one of them arrives.

    ``by_script`` maps ISO 15924 codes (``Arab``, ``Hani``…) to faces in order of preference; the
    language (from the course's locale, or guessed from the text) puts its own faces first: Urdu's
    Nastaliq for Arabic, Japanese glyph forms for Han characters.
    """

    def __init__(
        self,
        base: FontFile,
        by_script: Mapping[str, tuple[FontFile, ...]],
        fallbacks: tuple[FontFile, ...] = (),
        by_language: Mapping[tuple[str, str], FontFile] | None = None,
        language: str = "",
    ) -> None:
        self.base, self.by_script, self.fallbacks = base, by_script, fallbacks
        self.by_language, self.language = by_language or {}, language

    @property
    def primary(self) -> Font:
        return _load(self.base)

    def with_language(self, language: str) -> FontSet:
        if language == self.language:
            return self
        return FontSet(self.base, self.by_script, self.fallbacks, self.by_language, language)

    def for_text(self, text: str) -> FontSet:
        """Japanese or Korean glyph forms for Han characters when the text itself says so."""
        if self.language:
            return self
        if any(_script(char) in ("Hira", "Kana") for char in text):
            return self.with_language("ja")
        if any(_script(char) == "Hang" for char in text):
            return self.with_language("ko")
        return self

    def _specs(self, char: str) -> list[FontFile]:
        extensions = _script_extensions(char)
        # A character shared by Latin, Greek or Cyrillic and others stays with the design's face.
        base_first = bool(extensions & {"Latn", "Grek", "Cyrl"})
        specs: list[FontFile] = [self.base] if base_first else []
        for script in dict.fromkeys([_script(char), *sorted(extensions)]):
            if script in _NO_SCRIPT:
                continue
            if preferred := self.by_language.get((self.language, script)):
                specs.append(preferred)
            specs.extend(self.by_script.get(script, ()))
        return [*specs, self.base, *self.fallbacks]

    def font_for(self, char: str, previous: Font | None = None) -> Font | None:
        """The face that draws ``char``: its neighbour's for marks, punctuation and characters many
        scripts share (a tatweel must not break an Arabic run), else its script's; else the first
        face of all that has it (fullwidth brackets, mathematical signs: Common, but in few faces)."""
        if previous is not None and previous.covers(char):
            if _inherits_font(char) or _script(char) in _NO_SCRIPT:
                return previous
        for spec in self._specs(char):
            font = _load(spec)
            if font.covers(char):
                return font
        owner = _coverage_index(self.everything()).get(ord(char))
        return _load(owner) if owner is not None else None

    def everything(self) -> tuple[FontFile, ...]:
        """Every face, in a fixed order: the last resort for a character its script's faces lack."""
        faces = [self.base, *self.fallbacks, *(face for faces in self.by_script.values() for face in faces)]
        return tuple(dict.fromkeys([*faces, *self.by_language.values()]))

    def covers(self, char: str, previous: Font | None = None) -> bool:
        return self.font_for(char, previous) is not None


@cache
def _coverage_index(faces: tuple[FontFile, ...]) -> dict[int, FontFile]:
    """Code point -> the first face (in ``faces`` order) whose cmap has it. Read from the cmaps only,
    without loading a face, so asking about a rare character costs one scan, not sixty faces."""
    from fontTools.ttLib import TTFont as ToolsFont

    index: dict[int, FontFile] = {}
    for face in faces:
        path = face.instance_of or face.path  # a static cut has its variable source's cmap
        for code_point in ToolsFont(str(path), fontNumber=face.subfont, lazy=True).getBestCmap():
            index.setdefault(code_point, face)
    return index


@cache
def _script(char: str) -> str:
    return unicode_scripts.script(char)


@cache
def _script_extensions(char: str) -> frozenset[str]:
    return frozenset(unicode_scripts.script_extension(char))


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


def layout(text: str, font_set: FontSet) -> Line:
    """Shape and order one line of text, each character in the face of ``font_set`` that draws it."""
    text = clean(text)
    if not text:
        return Line(())
    font_set = font_set.for_text(text)
    levels = _levels(text)
    fonts: list[Font] = []
    previous = None
    for char in text:
        # Uncovered: the service holds such texts before rendering; a box is the last resort.
        previous = font_set.font_for(char, previous) or previous or font_set.primary
        fonts.append(previous)
    runs, run_levels, start = [], [], 0
    for index in range(1, len(text) + 1):
        if index == len(text) or fonts[index] is not fonts[start] or levels[index] != levels[start]:
            rtl = levels[start] % 2 == 1
            segment = text[start:index]
            runs.append(Run(fonts[start], segment, rtl, _shape(fonts[start], segment, rtl), levels[start], start))
            run_levels.append(levels[start])
            start = index
    return Line(tuple(_visual_order(runs, run_levels)))


_VARIATION_SELECTORS = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0), range(0x180B, 0x1810))


def _default_ignorable(char: str) -> bool:
    """Invisible when a face lacks it (HarfBuzz hides it): format controls and variation selectors."""
    return char.isspace() or unicodedata.category(char) == "Cf" or any(ord(char) in r for r in _VARIATION_SELECTORS)


def uncovered(text: str, font_set: FontSet) -> str:
    """The characters no face of ``font_set`` can draw (they would print as boxes), once each.

    The same pass as layout(): each character is judged with the face before it, so what this
    reports is exactly what layout() would draw as a box."""
    missing = []
    text = clean(text)
    font_set = font_set.for_text(text)
    previous = None
    for char in text:
        font = font_set.font_for(char, previous)
        if font is None and not _default_ignorable(char) and char not in missing:
            missing.append(char)
        previous = font or previous
    return "".join(missing)


_UNNAMED = {"Co": "a private-use character", "Cn": "an unassigned code point", "Cs": "a lone surrogate"}


def describe(char: str) -> str:
    """A character as staff can look it up: ``U+1F600 GRINNING FACE "😀"``, ``U+E000 (a private-use character)``."""
    name = unicodedata.name(char, "")
    if not name:
        return f"U+{ord(char):04X} ({_UNNAMED.get(unicodedata.category(char), 'a control character')})"
    return f'U+{ord(char):04X} {name} "{char}"'


def _actual_text(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def draw(canvas: Canvas, line: Line, *, x: float, y: float, size: float) -> None:
    """Draw ``line`` with its left end at (x, y)."""
    text_object = canvas.beginText()
    code = text_object._code  # reportlab has no API for marked content; these are plain PDF operators
    pen = x
    for actual, runs in _spans(line):
        code.append(f"/Span <</ActualText {_actual_text(actual)}>> BDC")
        for run in runs:
            text_object.setFont(run.font.name, size)
            for glyph in run.glyphs:
                text_object.setTextOrigin(pen + glyph.x_offset * size, y + glyph.y_offset * size)
                text_object.textOut(chr(run.font.glyph_char.get(glyph.gid, 0)))
                pen += glyph.x_advance * size
        code.append("EMC")
    canvas.drawText(text_object)


def _spans(line: Line) -> list[tuple[str, list[Run]]]:
    """Marked-content spans: one per left-to-right run, and one over each right-to-left stretch
    (its runs, digits inside it included), so a reader gets each stretch whole."""
    spans: list[tuple[str, list[Run]]] = []
    stretch: list[Run] = []
    for run in [*line.runs, None]:
        if run is not None and run.level > 0:
            stretch.append(run)
            continue
        if stretch:
            logical = "".join(part.text for part in sorted(stretch, key=lambda part: part.start))
            spans.append((extraction_order(logical), stretch))
            stretch = []
        if run is not None:
            spans.append((run.text, [run]))
    return spans


_RLM, _LRM = "\u200f", "\u200e"
_ENDS_RTL = {"L", "EN", "AN", "ES", "ET", "CS"}  # a left-to-right letter, a digit, or what poppler reads as one
#: The right-to-left blocks poppler's character table knows (Hebrew, Arabic, Syriac, Arabic
#: Supplement, Thaana and their presentation forms: measured). Newer right-to-left scripts (N'Ko,
#: Samaritan, Mandaic, Adlam, Hanifi Rohingya…) it reads as left to right, so they are written as typed.
_POPPLER_RTL = ((0x0590, 0x07BF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFF))


def _reversed_by_poppler(char: str) -> bool:
    return unicodedata.bidirectional(char) in ("R", "AL") and any(
        low <= ord(char) <= high for low, high in _POPPLER_RTL
    )


def extraction_order(logical: str) -> str:
    """The ActualText of a right-to-left stretch, in the order text extraction expects.

    poppler (pdftotext, Evince, Okular: the extraction we can check) lays ActualText out left to
    right over the span and then reverses each right-to-left section, from a right-to-left letter
    up to the next left-to-right letter, digit or separator (- . , / : %). So each such section is
    written reversed, ended by a left-to-right mark (what follows, spaces or a bracket, would be
    reversed to its front) and, where it would begin with a vowel sign, started by a right-to-left
    mark (a leading mark reads as left to right). Both marks are invisible. Measured with poppler
    22.12: Arabic harakat, Hebrew niqqud, Persian ZWNJ, Urdu Nastaliq, hyphenated and abbreviated
    names, digits and Latin inside right-to-left text come back as typed. Readers that ignore
    ActualText (pdfium) read the glyphs instead, in visual order, whatever is written here.
    """
    out: list[str] = []
    i = 0
    while i < len(logical):
        if not _reversed_by_poppler(logical[i]):
            out.append(logical[i])
            i += 1
            continue
        end = last = i
        while end < len(logical) and unicodedata.bidirectional(logical[end]) not in _ENDS_RTL:
            if _reversed_by_poppler(logical[end]) or unicodedata.category(logical[end])[0] == "M":
                last = end
            end += 1
        section = logical[i : last + 1][::-1]
        out.append(_RLM + section if unicodedata.category(section[0])[0] == "M" else section)
        out.append(_LRM)  # what follows (spaces, a bracket, the next span) is not part of the section
        i = last + 1
    return "".join(out)


_LOADED: dict[FontFile, Font] = {}


_LOADING = threading.Lock()


def _load(spec: FontFile) -> Font:
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
