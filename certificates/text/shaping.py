"""One line of text shaped and put in visual order (HarfBuzz, UAX #9); what would print as a box."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import uharfbuzz as hb
from bidi import algorithm as bidi_algorithm

from .faces import Font
from .fontset import FontSet

_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
_FEATURES = {"kern": True, "liga": True}


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
