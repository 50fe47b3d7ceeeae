"""The three families as a reader sees them: every family on A4 and Letter, short and long names,
nothing colliding or leaving the frame, no empty band, the logo and signature at print size."""

import io
import itertools
import re
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from PIL import Image, ImageChops, ImageDraw

from certificates import pdf
from conftest import require_tool
from courses.models import TemplateFamily

NAMES = {
    "short": "Ana",
    "long": "Maximiliana Josefina Alessandra Bartholomew-Fitzgerald de la Cruz Ortega",  # 70 characters
}
CONTENT = pdf.CertificateContent(
    holder_name="",
    course_title="Data Analysis with Python",
    organisation_name="Demo Academy",
    issued_on=date(2026, 11, 26),
    code="K7QM-3XWD-9PHT-R2VA",
    verify_url="https://certs.example.test/verify/K7QM-3XWD-9PHT-R2VA/",
    instructor_name="Dr. Ada Okafor",
    instructor_title="Lead Instructor",
    score=Decimal("92.5"),
    cohort="Autumn 2026 cohort",
    custom_fields=(("Hours", "24"), ("Skills", "pandas, SQL")),
)
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
LINE = re.compile(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">')


def _png(size: tuple[int, int], draw) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw(ImageDraw.Draw(image), size)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# A wide logo (3:1) and a large scan of a signature (4:1, with empty margins): both far over print size.
LOGO = _png(
    (1500, 500),
    lambda d, s: (d.rectangle((0, 0, s[0] - 1, s[1] - 1), fill="#0B6E4F"), d.ellipse((50, 50, 450, 450), fill="white")),
)
SIGNATURE = _png(
    (4400, 1400),
    lambda d, s: d.line([(200 + i * 40, 700 + (i % 7) * 60) for i in range(100)], fill="#1A1A3A", width=24),
)
SIGNATURE_INK = (4000 + 24, 360 + 24)  # the drawn stroke's extent inside its transparent margins


def _run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _render(family: str, page_size: str, name: str, **design) -> bytes:
    content = replace(CONTENT, holder_name=name, template_family=family)
    return pdf.render_pdf(content, pdf.Design(page_size=page_size, logo=LOGO, signature=SIGNATURE, **design))


def _bbox(data: bytes, tmp_path) -> str:
    require_tool("pdftotext")
    (tmp_path / "c.pdf").write_bytes(data)
    return _run("pdftotext", "-bbox-layout", str(tmp_path / "c.pdf"), "-")


FAMILIES = [choice.value for choice in TemplateFamily]


def test_every_family_a_course_can_choose_has_its_own_design():
    assert set(FAMILIES) <= set(pdf.FAMILIES)
    assert len({(family.frame, family.emblem) for family in pdf.FAMILIES.values()}) == len(pdf.FAMILIES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("page_size", ["A4", "LETTER"])
@pytest.mark.parametrize("family", FAMILIES)
def test_nothing_collides_leaves_the_frame_or_leaves_an_empty_band(family, page_size, name, tmp_path):
    layout = _bbox(_render(family, page_size, NAMES[name]), tmp_path)
    width, height = pdf.PAGE_SIZES[page_size]
    words = [(*map(float, box[:4]), box[4]) for box in WORD.findall(layout)]
    printed = " ".join(word for *_, word in words)  # poppler's "words" here are whole runs of text
    assert len(re.findall(rf"(?<!\w){NAMES[name]}(?!\w)", printed)) == 1  # the whole name, once
    for x_min, y_min, x_max, y_max, word in words:
        # Inside every family's frame (its lines run 30-38 pt from the edges), with room to spare.
        assert 44 <= x_min and x_max <= width - 44 and 40 <= y_min and y_max <= height - 40, word
    for a, b in itertools.combinations(words, 2):
        overlap_x = min(a[2], b[2]) - max(a[0], b[0])
        overlap_y = min(a[3], b[3]) - max(a[1], b[1])
        assert not (overlap_x > 1 and overlap_y > 0.3 * min(a[3] - a[1], b[3] - b[1])), (a, b)
    # No empty band: between any two lines of text (top to bottom) there is never a sixth of the page.
    lines = sorted({(float(y_min), float(y_max)) for _, y_min, _, y_max in LINE.findall(layout)})
    lowest = lines[0][1]
    for y_min, y_max in lines[1:]:
        assert y_min - lowest < height / 6, f"an empty band of {y_min - lowest:.0f} pt above y={y_min:.0f}"
        lowest = max(lowest, y_max)


def _images(data: bytes, tmp_path) -> list[dict]:
    require_tool("pdfimages")
    (tmp_path / "i.pdf").write_bytes(data)
    rows = _run("pdfimages", "-list", str(tmp_path / "i.pdf")).splitlines()[2:]
    names = ("page", "num", "type", "width", "height", "color", "comp", "bpc", "enc", "interp", "object", "id")
    images = [dict(zip(names, row.split(), strict=False)) | {"x-ppi": row.split()[12]} for row in rows]
    return [image for image in images if image["type"] == "image"]  # not the alpha masks


@pytest.mark.parametrize("page_size", ["A4", "LETTER"])
@pytest.mark.parametrize("family", FAMILIES)
def test_logo_and_signature_are_embedded_once_at_print_resolution_with_their_shape(family, page_size, tmp_path):
    data = _render(family, page_size, "Ana Lúcia")
    images = _images(data, tmp_path)
    assert len(images) == 2  # the logo and the signature, each once
    ratios = sorted(int(image["width"]) / int(image["height"]) for image in images)
    assert ratios[0] == pytest.approx(3, rel=0.02)  # the logo's 3:1
    assert ratios[1] == pytest.approx(SIGNATURE_INK[0] / SIGNATURE_INK[1], rel=0.02)  # margins trimmed
    for image in images:
        assert 290 <= int(image["x-ppi"]) <= 310  # sharp in print, not the 4,400-pixel scan
        drawn_width = int(image["width"]) / int(image["x-ppi"]) * 72
        assert 100 <= drawn_width <= 172  # a logo and a signature the size a printed certificate has them
    assert len(data) < 100_000


def test_an_image_smaller_than_print_size_is_never_enlarged(tmp_path):
    small = _png((120, 40), lambda d, s: d.rectangle((0, 0, 119, 39), fill="#AA3322"))
    content = replace(CONTENT, holder_name="Ana")
    images = _images(pdf.render_pdf(content, pdf.Design(logo=small)), tmp_path)
    assert [(image["width"], image["height"]) for image in images] == [("120", "40")]


def _picture(data: bytes, tmp_path, name: str) -> Image.Image:
    require_tool("pdftoppm")
    (tmp_path / f"{name}.pdf").write_bytes(data)
    _run("pdftoppm", "-r", "30", "-png", "-singlefile", str(tmp_path / f"{name}.pdf"), str(tmp_path / name))
    return Image.open(tmp_path / f"{name}.png").convert("L")


@pytest.mark.parametrize("page_size", ["A4", "LETTER"])
def test_the_families_look_different_not_only_in_their_heading(page_size, tmp_path):
    pictures = {family: _picture(_render(family, page_size, "Ana Lúcia"), tmp_path, family) for family in FAMILIES}
    for a, b in itertools.combinations(FAMILIES, 2):
        first, second = pictures[a], pictures[b]
        assert first.size == second.size
        differing = ImageChops.difference(first, second).point(lambda value: 255 if value > 40 else 0).histogram()[255]
        assert differing > 0.03 * first.width * first.height, (a, b)  # frames and emblems, not a word


def test_the_score_is_prominent_on_an_assessment_and_absent_from_a_completion(tmp_path):
    assessment = _bbox(_render("assessment", "A4", "Ana"), tmp_path)
    heights = {word: float(y_max) - float(y_min) for _, y_min, _, y_max, word in WORD.findall(assessment)}
    # The dial's figure, and the result in words under the course: both larger than the other details.
    assert heights["92.5%"] > 1.5 * heights["Autumn 2026 cohort"]
    assert heights["Assessment result: 92.5%"] > 1.2 * heights["Autumn 2026 cohort"]
    completion = _bbox(_render("completion", "A4", "Ana"), tmp_path)
    assert "92.5" not in " ".join(word for *_, word in WORD.findall(completion))
