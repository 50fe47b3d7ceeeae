"""Certificates that are right for every learner: scripts, families, branding, frozen output."""

import hashlib
import io
import itertools
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
import uharfbuzz as hb
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from certificates import fonts, pdf, text
from certificates.models import Certificate
from certificates.services import rendering
from certificates.tests.factories import issued_certificate
from certificates.tests.pdf_inspect import drawn_glyphs, outlines_for_gids
from certificates.tests.scripts import NAMES_BY_SCRIPT, SAMPLES, SHAPED
from conftest import require_tool
from courses.tests.factories import CourseFactory
from learners.tests.factories import UserFactory

CONTENT = pdf.CertificateContent(
    holder_name="",
    course_title="Introduction to Data",
    organisation_name="Demo Academy",
    issued_on=date(2026, 11, 26),
    code="K7QM-3XWD-9PHT-R2VA",
    verify_url="https://certs.example.test/verify/K7QM-3XWD-9PHT-R2VA/",
    instructor_name="Dr. Ada Okafor",
)
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # poppler wraps RTL lines in these


def run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def extracted(data: bytes, tmp_path) -> list[str]:
    require_tool("pdftotext")
    (tmp_path / "c.pdf").write_bytes(data)
    return [BIDI_MARKS.sub("", line).strip() for line in run("pdftotext", str(tmp_path / "c.pdf"), "-").splitlines()]


def _render(label: str) -> bytes:
    sample = SAMPLES[label]
    return pdf.render_pdf(replace(CONTENT, holder_name=sample.name), pdf.Design(locale=sample.locale or "en"))


def _face(sample) -> text.FontFile:
    """The face a reader of the script expects, found from the tables, not from the layout code."""
    if sample.script in ("Latn", "Cyrl", "Grek"):
        return fonts.SERIF
    special = {"Jpan": fonts.JAPANESE, "Aran": fonts.NASTALIQ}
    return special.get(sample.script) or fonts.BY_SCRIPT[sample.script][0]


def test_at_least_forty_scripts_are_sampled():
    assert len({sample.script for sample in SAMPLES.values()}) >= 40


@pytest.mark.parametrize("label", SAMPLES)
def test_every_script_renders_small_deterministic_and_scannable(label, tmp_path):
    require_tool("pdftoppm", "zbarimg")
    data = _render(label)
    assert data == _render(label)
    assert len(data) < 100_000
    (tmp_path / "c.pdf").write_bytes(data)
    run("pdftoppm", "-r", "150", "-png", str(tmp_path / "c.pdf"), str(tmp_path / "page"))
    assert run("zbarimg", "--raw", "-q", str(next(tmp_path.glob("page*.png")))).strip() == CONTENT.verify_url


@pytest.mark.parametrize("label", SAMPLES)
def test_the_name_comes_back_from_pdftotext_as_typed(label, tmp_path):
    # ActualText spans carry what was typed over the shaped glyphs.
    assert SAMPLES[label].name in extracted(_render(label), tmp_path)


@pytest.mark.parametrize("label", SAMPLES)
def test_every_script_draws_the_glyphs_harfbuzz_gives_in_its_own_face(label):
    """Read back from the PDF the outlines drawn in the script's face, and compare them with the glyphs
    HarfBuzz gives for the name in that face: no box (.notdef), no dotted circle (a malformed cluster)."""
    sample = SAMPLES[label]
    spec = _face(sample)
    font = hb.Font(hb.Face(hb.Blob.from_file_path(str(spec.path)), spec.subfont))
    buffer = hb.Buffer()
    buffer.add_str(sample.name)
    buffer.guess_segment_properties()
    hb.shape(font, buffer, {"kern": True, "liga": True})
    expected_gids = [info.codepoint for info in buffer.glyph_infos]
    assert 0 not in expected_gids, f"the face lacks a glyph for {sample.name}"
    assert font.get_nominal_glyph(0x25CC) not in expected_gids, "HarfBuzz inserted a dotted circle"
    if label in SHAPED:  # shaping matters: HarfBuzz's glyphs are not one per character in typed order
        assert expected_gids != [font.get_nominal_glyph(ord(char)) for char in sample.name]
    drawn = [glyph for font_name, glyph in drawn_glyphs(_render(label)) if font_name == _family(spec)]
    expected = outlines_for_gids(str(spec.path), expected_gids, spec.subfont)
    # The same face may print other lines too (the heading, a date in the locale): the name is one stretch.
    assert any(drawn[i : i + len(expected)] == expected for i in range(len(drawn))), "the name's glyphs differ"
    notdef = outlines_for_gids(str(spec.path), [0], spec.subfont)[0]
    assert notdef == ((), (), b"") or notdef not in drawn  # an empty .notdef looks like a space


def test_japanese_names_print_in_japanese_glyph_forms_not_chinese():
    """直 differs between Japanese and Chinese typefaces; the locale or kana in the name picks JP forms."""
    assert text.layout("直樹", fonts.serif("ja")).runs[0].font.name == "LaurelJpan"
    assert text.layout("直樹", fonts.serif("en")).runs[0].font.name == "LaurelCJK"
    assert text.layout("渡辺 なおき", fonts.serif("en")).runs[0].font.name == "LaurelJpan"  # kana says Japanese
    assert text.layout("渡辺 なおき", fonts.serif("zh")).runs[0].font.name == "LaurelCJK"  # the locale wins
    assert text.layout("김 直樹", fonts.serif("en")).runs[-1].font.name == "LaurelCJK"
    # The glyphs really differ: the Japanese face's 直 is not the Chinese face's.
    japanese, chinese = (text.layout("直", fonts.serif(loc)).runs[0] for loc in ("ja", "zh"))
    assert outlines_for_gids(str(fonts.JAPANESE.path), [japanese.glyphs[0].gid]) != outlines_for_gids(
        str(fonts.CJK.path), [chinese.glyphs[0].gid]
    )


def test_the_japanese_face_is_a_regular_cut_not_the_thin_default():
    from fontTools.ttLib import TTFont

    text.static_instance(fonts.JAPANESE)
    face = TTFont(str(fonts.JAPANESE.path))
    assert face["OS/2"].usWeightClass == 400 and "fvar" not in face


def test_the_bytes_do_not_depend_on_what_the_process_drew_before():
    """A ligature or a conjunct is drawn by a code derived from its glyph, not from the order glyphs
    were first met in, so a worker that printed other names first writes the very same PDF."""
    program = (
        "import django, hashlib, sys; django.setup()\n"
        "from certificates import pdf\n"
        "from certificates.tests.test_rendering import CONTENT\n"
        "from dataclasses import replace\n"
        "for name in sys.argv[1:]:\n"
        "    data = pdf.render_pdf(replace(CONTENT, holder_name=name))\n"
        "print(hashlib.sha256(data).hexdigest())\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    target = "अनुष्का क्षत्रिय · فاطمة الزهراء"

    def digest(*names: str) -> str:
        command = [sys.executable, "-c", program, *names]
        return subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout.strip()

    assert digest(target) == digest("श्रीनिवास त्र्यंबक", "مُحَمَّد لا إله", target)


def test_urdu_prints_in_nastaliq_where_the_locale_asks_and_naskh_elsewhere():
    assert text.layout("عمران خان", fonts.serif("ur")).runs[0].font.name == "LaurelAran"
    assert text.layout("عمران خان", fonts.serif("ar")).runs[0].font.name == "LaurelArab"


def test_a_face_is_loaded_only_when_a_text_needs_it():
    """Sixty-odd faces, but a process that prints Latin names loads two (so start-up stays fast)."""
    program = (
        "import django; django.setup()\n"
        "from certificates import fonts, pdf, text\n"
        "from certificates.tests.test_rendering import CONTENT\n"
        "from dataclasses import replace\n"
        "pdf.render_pdf(replace(CONTENT, holder_name='Ana Lúcia'))\n"
        "print(sorted(face.name for face in text.loaded_faces()))\n"
        "pdf.render_pdf(replace(CONTENT, holder_name='བསྟན་འཛིན'))\n"
        "print(sorted(face.name for face in text.loaded_faces()))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    latin, tibetan = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, env=env
    ).stdout.splitlines()
    assert latin == "['LaurelSans', 'LaurelSerif']"
    assert tibetan == "['LaurelSans', 'LaurelSerif', 'LaurelTibt']"


def _family(spec) -> str:
    from fontTools.ttLib import TTFont

    return TTFont(str(spec.path), fontNumber=spec.subfont)["name"].getDebugName(6)


def test_drawn_glyph_check_sees_a_missing_glyph_map(monkeypatch):
    """The check above is not fooled by ActualText: with glyphs drawn wrong, it fails."""
    name = NAMES_BY_SCRIPT["Arabic"]
    good = [g for f, g in drawn_glyphs(pdf.render_pdf(replace(CONTENT, holder_name=name))) if "Arabic" in f]
    arabic = text.load_face(fonts.BY_SCRIPT["Arab"][0])
    monkeypatch.setattr(arabic, "code_for", lambda gid: 0)  # every glyph drawn as code 0: .notdef
    broken = [g for f, g in drawn_glyphs(pdf.render_pdf(replace(CONTENT, holder_name=name))) if "Arabic" in f]
    assert good and broken != good


def test_arabic_runs_right_to_left_and_mixed_lines_keep_latin_order():
    line = text.layout("Dr. محمد عبد الله", fonts.serif())
    assert [run_.rtl for run_ in line.runs] == [False, True]
    assert line.runs[0].text == "Dr. "


def test_course_title_in_another_script_and_markup_print_literally(tmp_path):
    content = replace(CONTENT, holder_name="Ana", course_title="Основы <b>SQL</b> & данных")
    assert "Основы <b>SQL</b> & данных" in extracted(pdf.render_pdf(content), tmp_path)


@pytest.mark.parametrize(
    ("family", "heading", "detail"),
    [
        ("completion", "Certificate of Completion", "has successfully completed"),
        ("achievement", "Certificate of Achievement", "with a score of 92.5%"),
        ("assessment", "Certificate of Assessment", "Assessment result: 92.5%"),
    ],
)
def test_each_template_family(family, heading, detail, tmp_path):
    content = replace(
        CONTENT,
        holder_name="Ana Lúcia",
        template_family=family,
        score=Decimal("92.50"),
        cohort="Spring 2026 cohort",
        custom_fields=(("Grade", "A"), ("Skills", "SQL, pandas")),
    )
    lines = extracted(pdf.render_pdf(content), tmp_path)
    assert heading in lines and any(detail in line for line in lines)
    assert "Spring 2026 cohort" in lines
    assert any("Grade: A" in line and "Skills: SQL, pandas" in line for line in lines)
    if family == "completion":
        assert not any("92.5" in line for line in lines)  # the completion family shows no score


def test_letter_page_size_and_localised_date(tmp_path):
    require_tool("pdfinfo")
    data = pdf.render_pdf(replace(CONTENT, holder_name="Chloé"), pdf.Design(page_size="LETTER", locale="fr"))
    (tmp_path / "c.pdf").write_bytes(data)
    assert "792 x 612 pts (letter)" in run("pdfinfo", str(tmp_path / "c.pdf"))
    assert "26 novembre 2026" in extracted(data, tmp_path)


def test_logo_and_signature_images_are_drawn():
    image = io.BytesIO()
    Image.new("RGB", (200, 80), "#AA3322").save(image, format="PNG")
    plain = pdf.render_pdf(replace(CONTENT, holder_name="Ana"))
    branded = pdf.render_pdf(
        replace(CONTENT, holder_name="Ana"), pdf.Design(logo=image.getvalue(), signature=image.getvalue())
    )
    assert b"/Subtype /Image" in branded and b"/Subtype /Image" not in plain


def test_preview_png_is_link_preview_sized():
    png = pdf.render_preview_png(pdf.render_pdf(replace(CONTENT, holder_name="Ana")))
    assert Image.open(io.BytesIO(png)).size == (1200, 627)


def test_long_names_in_narrow_scripts_fit_without_overflow(tmp_path):
    require_tool("pdftotext")
    name = "李" * 60  # no spaces to wrap at: it must shrink
    (tmp_path / "c.pdf").write_bytes(pdf.render_pdf(replace(CONTENT, holder_name=name)))
    bbox = run("pdftotext", "-bbox", str(tmp_path / "c.pdf"), "-")
    for x_min, x_max in re.findall(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"', bbox):
        assert 36 <= float(x_min) and float(x_max) <= 842 - 36


EXTREMES = {
    "two-line accented name": dict(
        holder_name="Öykü Ïñigo Ångström Łukasiewicz Ñúñez Björnsdóttir Élodie Müller Ætherling Çelik Ğürsoy Þórsdóttir"
    ),
    "unbreakable name, long everything": dict(
        holder_name="名" * 120,
        course_title="A very long course title " * 12,
        organisation_name="The Extremely Long Organisation Name Foundation for Lifelong Learning and Development " * 2,
        cohort="Cohort " * 30,
        custom_fields=tuple((f"Field {i}", "value " * 3) for i in range(12)),
        instructor_name="Professor Doctor Maximilian Alexander von Hohenzollern-Sigmaringen the Third",
        instructor_title="Distinguished Chair of Extremely Long Titles and Associated Matters",
    ),
    "long Arabic name": dict(
        holder_name="عبد الرحمن بن محمد بن عبد الله بن إبراهيم آل سعود الهاشمي القرشي المكي المدني"
    ),
}


@pytest.mark.parametrize("page_size", ["A4", "LETTER"])
@pytest.mark.parametrize("case", EXTREMES)
def test_extreme_content_stays_on_the_page_without_collisions(case, page_size, tmp_path):
    require_tool("pdftotext")
    content = replace(CONTENT, template_family="achievement", score=Decimal("92"), **EXTREMES[case])
    (tmp_path / "c.pdf").write_bytes(pdf.render_pdf(content, pdf.Design(page_size=page_size)))
    bbox = run("pdftotext", "-bbox", str(tmp_path / "c.pdf"), "-")
    width, height = pdf.PAGE_SIZES[page_size]
    words = [
        tuple(map(float, box))
        for box in re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', bbox)
    ]
    assert words
    for x_min, y_min, x_max, y_max in words:
        assert 36 <= x_min and x_max <= width - 36 and 36 <= y_min and y_max <= height - 36
        assert y_max - y_min >= 7  # nothing shrinks below legibility (boxes include ascent and descent)
    for a, b in itertools.combinations(words, 2):
        overlap_x = min(a[2], b[2]) - max(a[0], b[0])
        overlap_y = min(a[3], b[3]) - max(a[1], b[1])
        # Font boxes of adjacent lines touch a little; drawn text colliding overlaps far more.
        assert not (overlap_x > 1 and overlap_y > 0.3 * min(a[3] - a[1], b[3] - b[1])), (a, b)


@pytest.mark.django_db
def test_editing_the_course_after_issue_leaves_the_issued_pdf_unchanged(run_on_commit):
    course = CourseFactory(title="Old Title", accent_color="#112233")
    certificate = issued_certificate(run_on_commit, course=course)
    stored = certificate.current_version.pdf.read()
    course.title, course.accent_color, course.template_family = "New Title", "#CC0000", "achievement"
    course.signature.save("sig.png", ContentFile(_png()), save=False)
    course.save()
    version = Certificate.objects.get(pk=certificate.pk).current_version
    assert version.pdf.read() == stored
    assert hashlib.sha256(stored).hexdigest() == version.pdf_sha256
    # Regenerating from the frozen snapshot gives the very same page: the stored file is those bytes
    # with the signature appended as an incremental update.
    regenerated = pdf.render_pdf(rendering.content_for(version), rendering.design_for(version))
    assert stored[: len(regenerated)] == regenerated and len(stored) > len(regenerated)


@pytest.mark.django_db
def test_certificate_gets_branding_from_the_organisation_and_its_preview_when_first_asked(run_on_commit, client):
    course = CourseFactory(organisation__accent_color="#0B6E4F", organisation__page_size="LETTER")
    certificate = issued_certificate(run_on_commit, course=course)
    version = certificate.current_version
    assert (version.accent_color, version.page_size) == ("#0B6E4F", "LETTER")
    assert not version.preview  # not made before the email: nobody needs it yet
    url = f"/verify/{certificate.display_code}/preview.png"
    first = b"".join(client.get(url).streaming_content)
    assert Image.open(io.BytesIO(first)).size == (1200, 627)
    version.refresh_from_db()
    assert version.preview_sha256 == hashlib.sha256(first).hexdigest()
    with mock.patch.object(pdf, "render_preview_png") as render:  # stored: never made twice
        assert b"".join(client.get(url).streaming_content) == first
    render.assert_not_called()


@pytest.mark.django_db
def test_admin_preview_renders_a_sample_pdf_and_png(client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    course = CourseFactory(title="Ethics")
    pdf_response = client.get(reverse("admin:certificates_course_preview", args=[course.pk, "pdf"]), {"name": "李小龙"})
    assert pdf_response.status_code == 200 and pdf_response.content.startswith(b"%PDF-")
    png_response = client.get(reverse("admin:certificates_course_preview", args=[course.pk, "png"]))
    assert Image.open(io.BytesIO(png_response.content)).size == (1200, 627)
    assert "Sample PDF" in client.get(reverse("admin:courses_course_change", args=[course.pk])).content.decode()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (120, 40), (0, 0, 0, 255)).save(out, format="PNG")
    return out.getvalue()


def test_zero_width_joiners_in_persian_and_arabic_render(tmp_path):
    for name in ["مهدی\u200cزاده", "پرویز\u200c خان", "\u200dمحمد", "Jean\u00adLuc"]:
        data = pdf.render_pdf(replace(CONTENT, holder_name=name))
        assert data.startswith(b"%PDF-")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("course_fields", "reason"),
    [
        (
            {"title": "Ethics \ue000"},
            "course title has characters the certificate fonts cannot print: U+E000 (a private-use character)",
        ),
        ({"instructor_name": "Dr \U0010fffd"}, "instructor name has characters the certificate fonts cannot print"),
        ({"custom_fields": [["Hours", "40"]]}, "course custom fields must be an object of label: value"),
    ],
)
def test_anything_unprintable_on_the_certificate_holds_it_with_a_reason(run_on_commit, course_fields, reason):
    certificate = issued_certificate(run_on_commit, course=CourseFactory(**course_fields))
    assert certificate.pipeline_state == "held" and reason in certificate.state_reason


@pytest.mark.django_db
def test_course_validation_refuses_bad_custom_fields_and_locales():
    from django.core.exceptions import ValidationError

    course = CourseFactory.build(custom_fields=["x"], locale="xx-nope", organisation=CourseFactory().organisation)
    with pytest.raises(ValidationError) as caught:
        course.full_clean()
    assert {"custom_fields", "locale"} <= set(caught.value.message_dict)


@pytest.mark.django_db
def test_rendered_certificate_records_the_renderer_version(run_on_commit):
    assert issued_certificate(run_on_commit).current_version.renderer_version == pdf.RENDERER_VERSION


def test_a_second_accent_colour_draws_the_inner_frame_and_rule():
    content = replace(CONTENT, holder_name="Ana")
    assert pdf.render_pdf(content, pdf.Design(secondary="#1F4E79")) == pdf.render_pdf(content)  # blank = accent
    assert pdf.render_pdf(content, pdf.Design(secondary="#C9A227")) != pdf.render_pdf(content)


def test_a_sample_is_marked_and_its_code_and_qr_code_are_not_a_certificates(tmp_path):
    require_tool("pdftoppm", "zbarimg")
    data = pdf.render_pdf(pdf.as_sample(replace(CONTENT, holder_name="Alex Sample")))
    lines = extracted(data, tmp_path)
    letters = sorted(line for line in lines if len(line) == 1)  # SAMPLE is drawn on a slant: letter by letter
    assert letters == sorted("SAMPLE") and pdf.SAMPLE_CODE in lines
    assert not any(CONTENT.code in line or "/verify/" in line for line in lines)
    assert "Sample only: this is not a certificate and cannot be verified." in lines
    (tmp_path / "s.pdf").write_bytes(data)
    run("pdftoppm", "-r", "150", "-png", str(tmp_path / "s.pdf"), str(tmp_path / "page"))
    assert run("zbarimg", "--raw", "-q", str(next(tmp_path.glob("page*.png")))).strip() == pdf.SAMPLE_QR


@pytest.mark.parametrize(
    ("name", "locale"),
    [
        ("Dr. محمد عبد الله 2", "en"),
        ("Ana (محمد)", "en"),
        ("Zoë مريم Ångström", "en"),
        ("Ana \u200fمحمد", "en"),
        ("مُحَمَّد عَلِيّ", "ar"),
        ("كتابٌ جميلٌ", "ar"),
        ("عبدالله بن محمد، الثاني", "ar"),
        ("أحمد: 50%", "ar"),
        ("יַעֲקֹב כֹּהֵן", "he"),
        ("דוד כהן-לוי", "he"),
        ("ש. אגנון", "he"),
        ("אבי / דוד", "he"),
        ("מרים 3 כהן", "he"),
        ("پرویز\u200cخان", "fa"),
    ],
)
def test_right_to_left_names_copy_as_typed_with_marks_joiners_punctuation_and_mixed_directions(name, locale, tmp_path):
    import unicodedata

    data = pdf.render_pdf(replace(CONTENT, holder_name=name), pdf.Design(locale=locale))
    lines = [unicodedata.normalize("NFC", line) for line in extracted(data, tmp_path)]
    assert text.clean(name).replace("\u200f", "") in lines


def test_qr_codes_with_the_one_mask_decode_at_100_dpi_whatever_the_code(tmp_path):
    """The QR mask is fixed (no per-code search): codes printed that way must still scan from a
    plain 100 dpi image of the page, for any code."""
    from certificates import codes

    require_tool("pdftoppm", "zbarimg")
    for index in range(25):
        code = codes.display(codes.new_code())
        url = f"https://certs.example.org/verify/{code}/"
        content = replace(CONTENT, code=code, verify_url=url)
        (tmp_path / f"{index}.pdf").write_bytes(pdf.render_pdf(content))
        run("pdftoppm", "-r", "100", "-png", "-singlefile", str(tmp_path / f"{index}.pdf"), str(tmp_path / f"p{index}"))
        assert run("zbarimg", "--raw", "-q", str(tmp_path / f"p{index}.png")).strip() == url
