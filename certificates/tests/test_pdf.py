import subprocess
from datetime import date
from decimal import Decimal

import pytest

from certificates.pdf import CertificateContent, describe_characters, render_pdf, uncovered_characters
from conftest import require_tool

CONTENT = CertificateContent(
    holder_name="Zoë Ångström-Łukasiewicz",
    course_title="Data Analysis: <b>Pandas</b> & NumPy",
    organisation_name="Demo Academy",
    issued_on=date(2026, 11, 26),
    code="K7QM-3XWD-9PHT-R2VA",
    verify_url="https://certs.example.test/verify/K7QM-3XWD-9PHT-R2VA/",
    template_family="achievement",
    instructor_name="Dr. Ada Okafor",
    score=Decimal("92.50"),
)


def pdftotext(data: bytes, tmp_path) -> str:
    require_tool("pdftotext")
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout


def test_renders_a_pdf():
    data = render_pdf(CONTENT)
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")


def test_same_content_renders_identical_bytes():
    assert render_pdf(CONTENT) == render_pdf(CONTENT)


def test_text_is_extractable_exactly(tmp_path):
    text = pdftotext(render_pdf(CONTENT), tmp_path)
    assert CONTENT.holder_name in text
    assert CONTENT.course_title in text  # markup-looking text prints literally
    assert CONTENT.code in text
    assert "92.5%" in text


@pytest.mark.parametrize(
    "name", ["Иван Петрович Смирнов", "Έλενα Παπαδοπούλου", "Nguyễn Thị Minh Khai", "Siobhán O'Brien"]
)
def test_names_in_covered_scripts_print_as_given(name, tmp_path):
    from dataclasses import replace

    assert uncovered_characters(name) == ""
    assert name in pdftotext(render_pdf(replace(CONTENT, holder_name=name)), tmp_path)


def test_long_names_shrink_and_wrap_inside_the_page(tmp_path):
    from dataclasses import replace

    name = (
        "Pablo Diego José Francisco de Paula Juan Nepomuceno María de los Remedios Cipriano de la "
        "Santísima Trinidad Ruiz y Picasso"
    )
    require_tool("pdftotext")
    path = tmp_path / "long.pdf"
    path.write_bytes(render_pdf(replace(CONTENT, holder_name=name)))
    bbox = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, text=True).stdout
    import re

    # Every word lies inside the inner frame (36 pt margins on a 842 x 595 page).
    for x_min, x_max in re.findall(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"', bbox):
        assert 36 <= float(x_min) and float(x_max) <= 842 - 36
    assert " ".join(pdftotext(path.read_bytes(), tmp_path).split()).count("Ruiz y Picasso") == 1


def test_an_emoji_holds_the_name_with_its_name_and_code_point_while_symbols_print():
    from certificates.services.snapshot import UNPRINTABLE_NAME

    assert uncovered_characters("Ana 😀 Li") == "😀"
    assert uncovered_characters("Ana ★ ♥ ✓") == ""  # Noto Sans Symbols and Symbols 2 draw these
    reason = UNPRINTABLE_NAME.format(chars=describe_characters(uncovered_characters("Ana 😀 \ue000")))
    assert reason.endswith('U+1F600 GRINNING FACE "😀", U+E000 (a private-use character)')


def test_uncovered_characters_reports_what_would_print_as_boxes():
    assert uncovered_characters("Ana \ue000 Li \U0010fffd") == "\ue000\U0010fffd"  # private use
    assert uncovered_characters("Zoë 李小龙 محمد") == ""


def test_qr_code_decodes_to_the_verify_url(tmp_path):
    require_tool("pdftoppm", "zbarimg")
    (tmp_path / "c.pdf").write_bytes(render_pdf(CONTENT))
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "c.pdf"), str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.png"))
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(page)], capture_output=True, text=True, check=True)
    assert decoded.stdout.strip() == CONTENT.verify_url


def test_pdf_metadata(tmp_path):
    require_tool("pdfinfo")
    (tmp_path / "c.pdf").write_bytes(render_pdf(CONTENT))
    info = subprocess.run(["pdfinfo", str(tmp_path / "c.pdf")], capture_output=True, text=True, check=True).stdout
    assert "Author:          Demo Academy" in info
    assert "Subject:         Data Analysis: <b>Pandas</b> & NumPy" in info
    assert "CreationDate:    Thu Nov 26 00:00:00 2026" in info


@pytest.mark.parametrize(
    "value", ["Inequalities: a ≤ b", "（株）山田", "山田（やまだ）", "ＡＢＣ１％", "฿ 100", "Ngʼangʼa", "❤️ Ana"]
)
def test_characters_many_scripts_share_are_printable_and_drawn_by_a_face_that_has_them(value):
    """What uncovered_characters accepts, layout draws with a face that has the glyph: never a box."""
    from certificates import fonts, text

    assert uncovered_characters(value) == ""
    for run in text.layout(value, fonts.serif()).runs:
        assert all(run.font.covers(char) for char in run.text if not char.isspace() and ord(char) < 0xFE00)


def test_a_tatweel_stays_in_its_arabic_run_so_the_letters_still_join():
    from certificates import fonts, text

    assert [run.font.name for run in text.layout("محـمد", fonts.serif()).runs] == ["LaurelArab"]
