"""Drawing a shaped line so that copy-paste returns what was typed (marked content with /ActualText)."""

from __future__ import annotations

import unicodedata

from reportlab.pdfgen.canvas import Canvas

from .shaping import Line, Run


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
                text_object.textOut(chr(run.font.code_for(glyph.gid)))
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
