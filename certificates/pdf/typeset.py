"""Fitting text into a width: shrink, then wrap, then cut with an ellipsis; never past the width."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.pdfgen.canvas import Canvas

from .. import text

#: Of a line's size: how far its glyphs reach above and below the baseline (Indic and Arabic marks
#: included), and the distance between baselines.
ASCENT, DESCENT, LEADING = 0.9, 0.35, 1.2


def _wrap_text(value: str, chain: text.FontSet, size: float, width: float) -> list[str]:
    """Greedy word wrap (at spaces; scripts written without spaces stay one line and shrink)."""
    lines: list[str] = []
    current = ""
    for word in value.split():
        trial = f"{current} {word}".strip()
        if current and text.layout(trial, chain).width(size) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def _wrap(value: str, chain: text.FontSet, size: float, width: float) -> list[text.Line]:
    return [text.layout(line, chain) for line in _wrap_text(value, chain, size, width)]


def fit(value: str, chain: text.FontSet, **kwargs) -> tuple[float, list[text.Line]]:
    """The largest size (and its lines) at which ``value`` fits: see fitted()."""
    size, lines, _cut = fitted(value, chain, **kwargs)
    return size, lines


def fitted(
    value: str,
    chain: text.FontSet,
    *,
    width: float,
    max_size: float,
    min_size: float,
    max_lines: int = 2,
    wrapped_max: float | None = None,
) -> tuple[float, list[text.Line], bool]:
    """The largest size (and its lines) at which ``value`` fits ``width``: shrink, then wrap, then
    as a last resort cut the last line with an ellipsis (the third value says it was cut). Nothing
    ever prints below ``min_size`` or outside ``width``. ``wrapped_max`` caps the size once text
    wraps (two big lines would collide)."""
    chain = chain.for_text(text.clean(value))  # glyph forms judged on the whole value, not line by line
    single = text.layout(value, chain)
    natural = single.width(1) or 1
    if width / natural >= min_size:
        return min(max_size, width / natural), [single], False
    for size in range(int(min(max_size, wrapped_max or max_size)), int(min_size) - 1, -1):
        lines = _wrap(value, chain, size, width)
        if len(lines) <= max_lines and all(line.width(size) <= width for line in lines):
            return size, lines, False
    # Too long even wrapped (or one unbreakable run, as Chinese and Thai names are): cut, never overflow.
    texts = _wrap_text(value, chain, min_size, width)
    if len(texts) > max_lines:
        texts = [*texts[: max_lines - 1], " ".join(texts[max_lines - 1 :])]
    cut = [_ellipsised(line, chain, min_size, width) for line in texts]
    return min_size, [line for line, _ in cut], any(was_cut for _, was_cut in cut)


def _ellipsised(value: str, chain: text.FontSet, size: float, width: float) -> tuple[text.Line, bool]:
    line = text.layout(value, chain)
    if line.width(size) <= width:
        return line, False
    low, high = 0, len(value)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if text.layout(value[:middle].rstrip() + "…", chain).width(size) <= width:
            low = middle
        else:
            high = middle - 1
    return text.layout(value[:low].rstrip() + "…", chain), True


def _extents(lines: Sequence[text.Line]) -> tuple[float, float]:
    """How far (in em) the faces of ``lines`` reach above and below the baseline, as their font
    descriptors say: what poppler's text boxes, and a reader's eye, take a line to occupy."""
    faces = [run.font.reportlab.face for line in lines for run in line.runs]
    if not faces:
        return ASCENT, DESCENT
    return max(face.ascent for face in faces) / 1000, -min(face.descent for face in faces) / 1000


@dataclass(frozen=True, slots=True)
class Block:
    """Lines fitted at one size, measured so a layout can stack blocks before drawing any."""

    lines: Sequence[text.Line]
    size: float
    cut: bool = False  # cut short with an ellipsis: too long for its place even at its least size

    @property
    def leading(self) -> float:
        """Baseline to baseline: wider for faces with tall marks (Arabic, Myanmar) so lines never collide."""
        ascent, descent = _extents(self.lines)
        return self.size * max(LEADING, 0.75 * (ascent + descent))

    @property
    def height(self) -> float:
        """From the top of the first line's tallest marks to the bottom of the last line's descenders."""
        ascent, descent = _extents(self.lines)
        return self.size * (ascent + descent) + self.leading * (len(self.lines) - 1)

    def width(self) -> float:
        return max((line.width(self.size) for line in self.lines), default=0)

    def draw(self, canvas: Canvas, *, centre: float, top: float) -> float:
        """Draw centred on ``centre`` below ``top``; return the bottom of the block."""
        ascent, _ = _extents(self.lines)
        y = top - self.size * ascent
        for line in self.lines:
            text.draw(canvas, line, x=centre - line.width(self.size) / 2, y=y, size=self.size)
            y -= self.leading
        return top - self.height


def block(
    value: str,
    chain: text.FontSet,
    *,
    width: float,
    size: float,
    min_size: float | None = None,
    max_lines: int = 1,
    wrapped_max: float | None = None,
) -> Block:
    """``value`` fitted to ``width``: at ``size`` if it fits, else smaller (down to ``min_size``,
    8 pt by default), wrapped onto at most ``max_lines`` lines."""
    low = min(size, 8) if min_size is None else min_size
    fitted_size, lines, cut = fitted(
        value, chain, width=width, max_size=size, min_size=low, max_lines=max_lines, wrapped_max=wrapped_max
    )
    return Block(tuple(lines), fitted_size, cut)


def centred(canvas: Canvas, lines: Sequence[text.Line], *, centre: float, y: float, size: float) -> float:
    """Draw lines centred on ``centre`` from baseline ``y`` down; return the baseline below the last."""
    for line in lines:
        text.draw(canvas, line, x=centre - line.width(size) / 2, y=y, size=size)
        y -= size * LEADING
    return y


def label(
    canvas: Canvas,
    value: str,
    *,
    font_set: text.FontSet,
    centre: float,
    y: float,
    size: float,
    width: float,
    max_lines: int = 1,
) -> float:
    """A small centred text on baseline ``y`` that may shrink a little and wrap; returns the baseline below."""
    small = block(value, font_set, width=width, size=size, max_lines=max_lines)
    if small.cut:
        cuts_of(canvas).append(value)
    return centred(canvas, small.lines, centre=centre, y=y, size=small.size)


def cuts_of(canvas: Canvas) -> list[str]:
    """The texts cut short on this canvas's page so far: what the checks before publishing report."""
    if not hasattr(canvas, "laurel_cuts"):
        canvas.laurel_cuts = []
    return canvas.laurel_cuts
