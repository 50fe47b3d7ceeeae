"""How the demo logo and signatures (the PNGs beside this file) were made; seed_demo only reads them.

    .venv/bin/python -m certificates.demo.art      # writes logo.png and signature-*.png again

Drawn with Pillow at four times their size and scaled down, so edges are smooth. The logo is a
roundel: a laurel wreath round a serif monogram (Noto Serif, the certificates' own face). Each
signature is one pen stroke: a looping curve (a prolate cycloid, the way a hand joins letters)
whose loop heights vary like letters of a name, pressed harder on down-strokes, with a slant and
an underline flourish; a seed makes each instructor's different.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import fontpkg_noto_serif
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
SCALE = 4  # drawn this many times larger, then scaled down: smooth edges
NAVY, GOLD, INK = (31, 78, 121, 255), (201, 162, 39, 255), (26, 26, 58, 255)


def logo(size: int = 400, monogram: str = "DA") -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre, radius = big / 2, big * 0.30
    draw.ellipse((centre - radius, centre - radius, centre + radius, centre + radius), fill=NAVY)
    ring = radius * 0.9
    draw.ellipse((centre - ring, centre - ring, centre + ring, centre + ring), outline=GOLD, width=big // 160)
    reach = radius * 1.3
    stem = (centre - reach, centre - reach, centre + reach, centre + reach)
    draw.arc(stem, start=98, end=242, fill=GOLD, width=big // 110)  # the left branch (Pillow: clockwise)
    draw.arc(stem, start=298, end=442, fill=GOLD, width=big // 110)
    for side in (-1, 1):  # leaves along each branch, from the bottom to near the top
        for index in range(14):
            angle = math.radians(-90 + side * (10 + index * 10.5))
            x, y = centre + reach * math.cos(angle), centre - reach * math.sin(angle)
            for tilt in (35, -35):  # a pair, one each side of the stem, pointing up the branch
                heading = angle + side * math.radians(90) + math.radians(tilt) * side
                _leaf(draw, x, y, length=big * 0.07, width=big * 0.028, heading=heading)
    face = ImageFont.truetype(str(fontpkg_noto_serif.ROOT / "files" / "NotoSerif[wdth,wght].ttf"), int(radius * 0.9))
    draw.text((centre, centre + radius * 0.04), monogram, font=face, fill="white", anchor="mm")
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _leaf(draw: ImageDraw.ImageDraw, x: float, y: float, *, length: float, width: float, heading: float) -> None:
    """A pointed oval along ``heading`` (radians), its base at (x, y)."""
    points = []
    for step in range(25):
        t = step / 24
        along, across = length * t, width * math.sin(math.pi * t) / 2
        points.append((along, across))
    points += [(along, -across) for along, across in reversed(points)]
    cos, sin = math.cos(heading), math.sin(heading)
    draw.polygon([(x + a * cos - b * sin, y - (a * sin + b * cos)) for a, b in points], fill=GOLD)


def signature(seed: int, *, letters: int = 9, size: tuple[int, int] = (800, 240)) -> Image.Image:
    rng = random.Random(seed)
    width, height = size[0] * SCALE, size[1] * SCALE
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    heights = [rng.uniform(0.45, 1.0) if i else 1.6 for i in range(letters)]  # a capital first
    loops = [rng.uniform(0.15, 0.75) if i else 0.9 for i in range(letters)]  # some letters loop, some hump
    pen = SCALE * 3.2
    steps = 240 * letters
    span = width * 0.72
    points = []
    for step in range(steps + 1):
        t = step / steps * letters * 2 * math.pi
        letter = min(int(t / (2 * math.pi)), letters - 1)
        loop = heights[letter] * height * 0.22
        x = width * 0.12 + span * step / steps - loop * loops[letter] * math.sin(t)  # a prolate cycloid
        y = height * 0.52 - loop * math.cos(t) - (x - width * 0.12) * 0.06  # rising a little, as hands do
        x += (height * 0.52 - y) * 0.35  # slant
        pressure = 0.6 + 0.7 * max(0.0, math.sin(t + math.pi / 2))  # heavier going down
        points.append((x, y, pen * pressure))
    start, end = width * 0.10, width * 0.92  # the underline flourish, thinning out
    for step in range(401):
        t = step / 400
        x = start + (end - start) * t
        y = height * 0.80 + math.sin(t * math.pi) * height * 0.05 - t * height * 0.06
        points.append((x, y, pen * (1.1 - 0.85 * t)))
    for (x0, y0, r0), (x1, y1, r1) in zip(points, points[1:], strict=False):
        if math.dist((x0, y0), (x1, y1)) > pen * 6:
            continue  # the pen lifted between the name and the flourish
        draw.line((x0, y0, x1, y1), fill=INK, width=max(1, round(r0 + r1)))
        draw.ellipse((x1 - r1, y1 - r1, x1 + r1, y1 + r1), fill=INK)
    return image.resize(size, Image.Resampling.LANCZOS)


SIGNATURES = {"okafor": 3, "oliveira": 11, "solberg": 27, "tanaka": 42}


def main() -> None:
    _save(logo(), HERE / "logo.png")
    for name, seed in SIGNATURES.items():
        _save(signature(seed), HERE / f"signature-{name}.png")


def _save(image: Image.Image, path: Path) -> None:
    """As a 64-colour palette PNG with alpha: a few KB, and indistinguishable at print size."""
    image.quantize(64, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)


if __name__ == "__main__":
    main()
