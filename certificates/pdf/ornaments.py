"""The families' vector decoration: frames, emblems (seal, score dial) and the rule under the name.

All paths and fills, no images, so a family's look costs a few hundred bytes of the PDF.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from reportlab.lib.colors import Color, HexColor, white
from reportlab.pdfgen.canvas import Canvas

from .. import text
from .typeset import block


@dataclass(frozen=True, slots=True)
class Palette:
    accent: Color
    secondary: Color
    ink: Color
    muted: Color

    @classmethod
    def of(cls, accent: str, secondary: str, ink: str, muted: str) -> Palette:
        return cls(HexColor(accent), HexColor(secondary or accent), HexColor(ink), HexColor(muted))

    def tint(self, color: Color, amount: float) -> Color:
        """``color`` mixed with white (amount 0: white, 1: the colour)."""
        return Color(*(1 - amount * (1 - channel) for channel in color.rgb()))


@dataclass(frozen=True, slots=True)
class Box:
    """The area inside a frame that content may use."""

    left: float
    bottom: float
    right: float
    top: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2


# Frames draw the border and return the box left for content (symmetric, so text centred on it
# is centred on the page).


def _classic(canvas: Canvas, width: float, height: float, palette: Palette) -> Box:
    canvas.setStrokeColor(palette.accent)
    canvas.setLineWidth(5)
    canvas.rect(24, 24, width - 48, height - 48)
    canvas.setStrokeColor(palette.secondary)
    canvas.setLineWidth(0.8)
    canvas.rect(34, 34, width - 68, height - 68)
    canvas.setFillColor(palette.secondary)
    canvas.setLineWidth(1.2)
    for x, y, dx, dy in (
        (40, 40, 1, 1),
        (width - 40, 40, -1, 1),
        (40, height - 40, 1, -1),
        (width - 40, height - 40, -1, -1),
    ):
        # An L-shaped bracket with a diamond in its angle, in each corner.
        path = canvas.beginPath()
        path.moveTo(x, y + dy * 34)
        path.lineTo(x, y)
        path.lineTo(x + dx * 34, y)
        canvas.drawPath(path, stroke=1, fill=0)
        _diamond(canvas, x + dx * 9, y + dy * 9, 4.5)
    return Box(52, 50, width - 52, height - 52)


def _bands(canvas: Canvas, width: float, height: float, palette: Palette) -> Box:
    canvas.setFillColor(palette.accent)
    canvas.rect(0, height - 20, width, 20, stroke=0, fill=1)
    canvas.rect(0, 0, width, 20, stroke=0, fill=1)
    canvas.setFillColor(palette.secondary)
    canvas.rect(0, height - 25, width, 2.5, stroke=0, fill=1)
    canvas.rect(0, 22.5, width, 2.5, stroke=0, fill=1)
    canvas.setStrokeColor(palette.tint(palette.accent, 0.45))
    canvas.setLineWidth(0.6)
    canvas.rect(32, 34, width - 64, height - 68)
    return Box(50, 50, width - 50, height - 50)


def _sidebar(canvas: Canvas, width: float, height: float, palette: Palette) -> Box:
    canvas.setFillColor(palette.accent)
    canvas.rect(0, 0, 22, height, stroke=0, fill=1)
    canvas.setFillColor(palette.secondary)
    canvas.rect(25, 0, 2.5, height, stroke=0, fill=1)
    canvas.setFillColor(palette.tint(palette.accent, 0.08))
    canvas.rect(width - 22, 0, 22, height, stroke=0, fill=1)
    canvas.setStrokeColor(palette.tint(palette.accent, 0.35))
    canvas.setLineWidth(0.6)
    canvas.rect(38, 30, width - 76, height - 60)
    return Box(52, 48, width - 52, height - 48)


FRAMES: dict[str, Callable[[Canvas, float, float, Palette], Box]] = {
    "classic": _classic,
    "bands": _bands,
    "sidebar": _sidebar,
}


def _diamond(canvas: Canvas, x: float, y: float, r: float) -> None:
    path = canvas.beginPath()
    path.moveTo(x, y + r)
    path.lineTo(x + r, y)
    path.lineTo(x, y - r)
    path.lineTo(x - r, y)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)


def _star(canvas: Canvas, x: float, y: float, outer: float, inner: float, points: int, turn: float = 90) -> None:
    path = canvas.beginPath()
    for i in range(points * 2):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(turn + i * 180 / points)
        (path.moveTo if i == 0 else path.lineTo)(x + radius * math.cos(angle), y + radius * math.sin(angle))
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)


# Emblems sit in the top right corner, centred on (x, y) with radius r; each returns the lowest
# point it reaches (the body starts below it).


def _seal(canvas: Canvas, *, x: float, y: float, r: float, palette: Palette, **_) -> float:
    """A rosette: two ribbon tails, a notched disc and a star."""
    tail_length, tail_width = r * 1.45, r * 0.42
    for side in (-1, 1):
        angle = math.radians(-90 + side * 22)
        end_x, end_y = x + tail_length * math.cos(angle), y + tail_length * math.sin(angle)
        normal_x, normal_y = -math.sin(angle) * tail_width / 2, math.cos(angle) * tail_width / 2
        path = canvas.beginPath()
        path.moveTo(x + normal_x, y + normal_y)
        path.lineTo(end_x + normal_x, end_y + normal_y)
        path.lineTo(end_x - math.cos(angle) * tail_width * 0.45, end_y - math.sin(angle) * tail_width * 0.45)
        path.lineTo(end_x - normal_x, end_y - normal_y)
        path.lineTo(x - normal_x, y - normal_y)
        path.close()
        canvas.setFillColor(palette.accent if side < 0 else palette.tint(palette.accent, 0.8))
        canvas.drawPath(path, stroke=0, fill=1)
    canvas.setFillColor(palette.secondary)
    _star(canvas, x, y, r, r * 0.9, 30)
    canvas.setFillColor(palette.accent)
    canvas.circle(x, y, r * 0.76, stroke=0, fill=1)
    canvas.setStrokeColor(palette.tint(palette.secondary, 0.7))
    canvas.setLineWidth(0.9)
    canvas.circle(x, y, r * 0.66, stroke=1, fill=0)
    canvas.setFillColor(white)
    _star(canvas, x, y, r * 0.36, r * 0.15, 5)
    return y - tail_length - tail_width / 2


def _score_dial(canvas: Canvas, *, x: float, y: float, r: float, palette: Palette, score, sans: text.FontSet) -> float:
    """The score as a ring filled to its percentage, with the figure in the middle."""
    if score is None:
        return y + r  # nothing to show: the body may use the corner
    canvas.setLineWidth(r * 0.2)
    canvas.setStrokeColor(palette.tint(palette.accent, 0.15))
    canvas.circle(x, y, r, stroke=1, fill=0)
    fraction = max(0.0, min(1.0, float(score) / 100))
    if fraction > 0:
        canvas.setStrokeColor(palette.accent)
        canvas.setLineCap(1)
        canvas.arc(x - r, y - r, x + r, y + r, startAng=90, extent=-360 * fraction)
        canvas.setLineCap(0)
    canvas.setFillColor(palette.accent)
    figure = block(f"{score.normalize():f}%", sans, width=r * 1.45, size=r * 0.56, min_size=8)
    figure.draw(canvas, centre=x, top=y + figure.height / 2 + r * 0.1)
    canvas.setFillColor(palette.muted)
    caption = block("score", sans, width=r * 1.3, size=max(7, r * 0.2), min_size=7)
    caption.draw(canvas, centre=x, top=y - r * 0.32)
    return y - r * 1.1


EMBLEMS = {"seal": _seal, "score": _score_dial}


def draw_rule(canvas: Canvas, style: str, *, centre: float, y: float, half: float, palette: Palette) -> None:
    """The line under the name."""
    canvas.setStrokeColor(palette.secondary)
    canvas.setFillColor(palette.secondary)
    canvas.setLineWidth(0.8)
    if style == "diamond":
        canvas.line(centre - half, y, centre - 9, y)
        canvas.line(centre + 9, y, centre + half, y)
        _diamond(canvas, centre, y, 4)
    elif style == "double":
        canvas.setLineWidth(1.4)
        canvas.line(centre - half, y + 1.6, centre + half, y + 1.6)
        canvas.setLineWidth(0.5)
        canvas.line(centre - half * 0.8, y - 1.6, centre + half * 0.8, y - 1.6)
    else:
        canvas.line(centre - half, y, centre + half, y)
