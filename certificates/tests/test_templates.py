"""Certificate templates as data (issue 13): wording with placeholders, the checks that block
publishing, course overrides, previews, and issued certificates that keep their bytes."""

import hashlib
import io
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse
from PIL import Image

from certificates import pdf
from certificates.models import CertificateTemplate, CertificateTemplateVersion, CertificateTemplateWording
from certificates.services import lifecycle, rendering, templates
from certificates.tests.factories import issued_certificate, staff_member
from conftest import require_tool
from courses import wording
from courses.tests.factories import CourseFactory, OrganisationFactory
from learners.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CONTENT = pdf.CertificateContent(
    holder_name="Zoë Ångström",
    course_title="Data Analysis",
    organisation_name="Demo Academy",
    issued_on=date(2026, 11, 26),
    completed_on=date(2026, 11, 24),
    code="K7QM-3XWD-9PHT-R2VA",
    verify_url="https://certs.example.test/verify/K7QM-3XWD-9PHT-R2VA/",
    template_family="achievement",
    instructor_name="Dr. Ada Okafor",
    score=Decimal("92.50"),
    cohort="Spring cohort",
    custom_fields=(("Grade", "A+"), ("Hours", "40")),
)


def text_of(data: bytes, tmp_path, name: str = "c.pdf") -> str:
    require_tool("pdftotext")
    path = tmp_path / name
    path.write_bytes(data)
    return " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout.split()
    )


def one_template(*lines: str, heading: str = "Certificate of Excellence", phrase: str = "has mastered") -> pdf.Template:
    return pdf.Template(
        family="achievement",
        wording=(("en", pdf.Wording(heading, phrase, lines)),),
        frame="bands",
        emblem="seal",
        rule="double",
    )


def make_template(
    organisation, *, heading="Certificate of Excellence", lines="with {score} points\n{custom:Grade}", **fields
):
    template = CertificateTemplate.objects.create(
        organisation=organisation,
        family=fields.pop("family", "achievement"),
        name=fields.pop("name", "Excellence"),
        slug=fields.pop("slug", f"excellence-{organisation.pk}"),
        is_default=fields.pop("is_default", True),
        frame="bands",
        emblem="seal",
        rule="double",
        **fields,
    )
    CertificateTemplateWording.objects.create(
        template=template, locale="en", heading=heading, phrase="has mastered", lines=lines
    )
    return template


# --- wording and placeholders ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "printed"),
    [
        ("Holder {holder_name}", "Holder Zoë Ångström"),
        ("Course {course_title}", "Course Data Analysis"),
        ("By {organisation_name}", "By Demo Academy"),
        ("Scored {score} percent", "Scored 92.5 percent"),
        ("In {cohort}", "In Spring cohort"),
        ("Taught by {instructor_name}", "Taught by Dr. Ada Okafor"),
        ("Completed {completed_on}", "Completed November 24, 2026"),
        ("Issued {issued_on}", "Issued November 26, 2026"),
        ("Grade {custom:Grade}", "Grade A+"),
        ("Extras {custom}", "Extras Grade: A+ · Hours: 40"),
    ],
)
def test_each_placeholder_prints_its_field(line, printed, tmp_path):
    assert printed in text_of(pdf.render_pdf(CONTENT, pdf.Design(), one_template(line)), tmp_path)


def test_a_line_whose_field_is_empty_is_left_out_and_the_lines_print_in_order(tmp_path):
    template = one_template("First {custom:Hours} hours", "Never {custom:Missing}", "Then {cohort}")
    text = text_of(pdf.render_pdf(CONTENT, pdf.Design(), template), tmp_path)
    assert "First 40 hours" in text and "Then Spring cohort" in text
    assert text.index("First 40 hours") < text.index("Then Spring cohort")
    assert "Never" not in text
    no_score = text_of(pdf.render_pdf(CONTENT, pdf.Design(), one_template("with {score}%")), tmp_path, "b.pdf")
    assert "with 92.5%" in no_score
    from dataclasses import replace

    without = text_of(
        pdf.render_pdf(replace(CONTENT, score=None), pdf.Design(), one_template("with {score}%")), tmp_path
    )
    assert "with" not in without.split("has mastered")[1].split("Date of issue")[0]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{scor}", "unknown placeholder {scor}"),
        ("{custom:}", None),
        ("a {score", "a brace without its pair"),
        ("a score}", "a brace without its pair"),
        ("{score:.2f}", "not a placeholder"),
        ("{score!r}", "not a placeholder"),
        ("{{literal}} braces", None),
    ],
)
def test_wording_mistakes_are_named(text, problem):
    if problem is None:
        wording.check_wording(text)
        return
    with pytest.raises(wording.WordingError, match=problem.replace("{", r"\{").replace("(", r"\(")):
        wording.check_wording(text)


def test_the_wording_of_the_locale_then_its_language_then_the_first():
    template = pdf.Template(
        family="completion",
        wording=(("en", pdf.Wording("Certificate", "completed")), ("pt", pdf.Wording("Certificado", "concluiu"))),
        frame="classic",
        emblem="",
        rule="diamond",
    )
    assert template.wording_for("pt-BR").heading == "Certificado"
    assert template.wording_for("pt").heading == "Certificado"
    assert template.wording_for("de").heading == "Certificate"


def test_the_built_in_templates_print_as_before(tmp_path):
    """The three families' standard wording is data now; it still prints what it printed."""
    text = text_of(pdf.render_pdf(CONTENT), tmp_path)
    assert "Certificate of Achievement" in text and "has demonstrated achievement in" in text
    assert "with a score of 92.5%" in text and "Grade: A+ · Hours: 40" in text


# --- the checks that block publishing -------------------------------------------------------------


def test_a_template_that_is_right_can_be_published():
    template = make_template(OrganisationFactory())
    assert templates.template_problems(template) == []
    version = templates.template_publish(template_id=template.pk, by=None, note="first")
    assert version.number == 1 and version.design["wording"][0][1]["heading"] == "Certificate of Excellence"


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("heading", "Certificate for {learner}", "unknown placeholder {learner}"),
        ("heading", "Certificate {", "a brace without its pair"),
        ("lines", "Name {holder_name:upper}", "not a placeholder"),
        ("heading", "Certificate \ue000 of merit", "no shipped font can print U+E000"),
        ("heading", "Certificate of " + "Very " * 30 + "Great Achievement", "does not fit the page"),
        ("lines", "\n".join(f"Line {n} with {{cohort}}" for n in range(5)), "does not fit the page"),
        ("heading", "  ", "needs a heading"),
    ],
)
def test_each_check_blocks_publishing_with_a_reason_staff_can_act_on(field, value, problem):
    template = make_template(OrganisationFactory())
    CertificateTemplateWording.objects.filter(template=template).update(**{field: value})
    problems = templates.template_problems(template)
    assert any(problem in found for found in problems), problems
    with pytest.raises(templates.TemplateNotPublishable) as refused:
        templates.template_publish(template_id=template.pk, by=None)
    assert any(problem in found for found in refused.value.problems)
    assert not CertificateTemplateVersion.objects.exists()


def test_long_names_in_each_script_must_fit_with_the_templates_fonts():
    """A heading font a size up is fine; a name font that cannot fit the longest names is not (the
    renderer cuts a name with an ellipsis only as a last resort: a check says so first)."""
    template = make_template(OrganisationFactory(), heading="Certificate")
    assert templates.template_problems(template) == []
    cuts = pdf.cut_texts(
        templates.sample_content(templates.Sample("x", "", "W" * 120, "Data"), family="achievement"),
        pdf.Design(),
        templates.template_from_design(templates.design_of(template)),
    )
    assert cuts == ["W" * 120]


def test_a_template_without_wording_or_unchanged_cannot_be_published():
    template = make_template(OrganisationFactory())
    templates.template_publish(template_id=template.pk, by=None)
    with pytest.raises(templates.TemplateNotPublishable, match="nothing changed since version 1"):
        templates.template_publish(template_id=template.pk, by=None)
    template.wordings.all().delete()
    with pytest.raises(templates.TemplateNotPublishable, match="no wording"):
        templates.template_publish(template_id=template.pk, by=None)


# --- what certificates print, and keep ------------------------------------------------------------


def unsigned(version) -> bytes:
    return rendering.unsigned_pdf(type(version).objects.select_related("certificate").get(pk=version.pk))


def test_a_published_template_prints_new_certificates_with_the_courses_own_overrides(run_on_commit, tmp_path):
    organisation = OrganisationFactory()
    template = make_template(organisation, accent_color="#225522")
    templates.template_publish(template_id=template.pk, by=None)
    plain = CourseFactory(organisation=organisation, template_family="achievement")
    own = CourseFactory(
        organisation=organisation,
        template_family="achievement",
        accent_color="#7A1F3D",
        certificate_phrase="has completed 40 hours of {cohort} in",
        cohort_name="the spring cohort",
    )
    first = issued_certificate(run_on_commit, course=plain).current_version
    second = issued_certificate(run_on_commit, course=own).current_version
    assert first.template_version.number == 1 and first.accent_color == "#225522"
    assert second.accent_color == "#7A1F3D" and second.phrase.startswith("has completed")
    text = text_of(second.pdf.read(), tmp_path)
    assert "Certificate of Excellence" in text and "has completed 40 hours of the spring cohort in" in text
    assert "has mastered" not in text
    assert "has mastered" in text_of(first.pdf.read(), tmp_path, "first.pdf")
    # A course of another family, or of another organisation, prints the built-in template.
    other = issued_certificate(run_on_commit, course=CourseFactory(template_family="achievement")).current_version
    assert other.template_version is None
    assert "Certificate of Achievement" in text_of(other.pdf.read(), tmp_path, "other.pdf")


def test_a_new_template_version_leaves_issued_pdfs_alone_until_they_are_reissued(run_on_commit, tmp_path):
    organisation = OrganisationFactory()
    template = make_template(organisation)
    templates.template_publish(template_id=template.pk, by=None)
    course = CourseFactory(organisation=organisation, template_family="achievement")
    certificate = issued_certificate(run_on_commit, course=course)
    old = certificate.current_version
    stored = old.pdf.read()
    before = unsigned(old)

    CertificateTemplateWording.objects.filter(template=template).update(heading="Certificate of Distinction")
    templates.template_publish(template_id=template.pk, by=None, note="new heading")
    old.refresh_from_db()
    assert old.pdf.read() == stored and hashlib.sha256(stored).hexdigest() == old.pdf_sha256
    assert unsigned(old) == before  # regenerating it prints its own template version, byte for byte

    plan = lifecycle.certificates_reissue_plan(
        certificate_ids=templates.template_certificate_ids(template_id=template.pk)
    )
    assert plan.changing == [certificate.pk]
    with run_on_commit():
        new = lifecycle.certificate_reissue(certificate_id=certificate.pk, reason="template_change")
    new.refresh_from_db()
    assert new.template_version.number == 2 and new.number == 2
    assert "Certificate of Distinction" in text_of(new.pdf.read(), tmp_path)
    old.refresh_from_db()
    assert not old.is_current and unsigned(old) == before  # the superseded version still regenerates the same


def test_regenerating_a_version_of_a_built_in_template_reproduces_its_bytes(run_on_commit):
    """Whatever changed since (the course renamed, a template published for its family), a version
    regenerates from its own snapshot: the bytes it was signed over."""
    certificate = issued_certificate(run_on_commit)
    version = certificate.current_version
    before = unsigned(version)
    course = certificate.enrollment.course
    course.title, course.accent_color = "Renamed", "#7A1F3D"
    course.save()
    later = make_template(course.organisation, family="completion", slug="later")
    templates.template_publish(template_id=later.pk, by=None)
    assert version.template_version is None and unsigned(version) == before


def test_a_new_version_that_changes_nothing_a_certificate_prints_reissues_nothing(run_on_commit):
    """Renaming the template or adding another locale's wording must not email every holder."""
    organisation = OrganisationFactory()
    template = make_template(organisation)
    templates.template_publish(template_id=template.pk, by=None)
    course = CourseFactory(organisation=organisation, template_family="achievement")
    certificate = issued_certificate(run_on_commit, course=course)
    template.name = "Excellence (2027)"
    template.save()
    CertificateTemplateWording.objects.create(
        template=template, locale="fr", position=1, heading="Certificat", phrase="a maîtrisé"
    )
    assert templates.template_publish(template_id=template.pk, by=None).number == 2
    plan = lifecycle.certificates_reissue_plan(certificate_ids=[certificate.pk])
    assert plan.changing == [] and plan.unchanged == 1


def test_changing_a_drafts_family_does_not_print_its_old_version_for_the_new_family(run_on_commit, tmp_path):
    organisation = OrganisationFactory()
    template = make_template(organisation, family="achievement")
    templates.template_publish(template_id=template.pk, by=None)
    CertificateTemplate.objects.filter(pk=template.pk).update(family="assessment")  # (the admin refuses this)
    course = CourseFactory(organisation=organisation, template_family="assessment")
    version = issued_certificate(run_on_commit, course=course).current_version
    assert version.template_version is None
    assert "Certificate of Assessment" in text_of(version.pdf.read(), tmp_path)


def test_with_a_template_the_paper_is_the_templates():
    from certificates.services.snapshot import snapshot_of
    from learners.tests.factories import EnrollmentFactory

    organisation = OrganisationFactory()
    template = make_template(organisation, page_size="A4")
    templates.template_publish(template_id=template.pk, by=None)
    course = CourseFactory(organisation=organisation, template_family="achievement", page_size="LETTER")
    assert snapshot_of(EnrollmentFactory(course=course))[0]["page_size"] == "A4"


def test_once_published_a_templates_organisation_and_family_are_fixed_and_only_publishers_pick_the_default(
    client,
):
    template = make_template(OrganisationFactory())
    from django.contrib import admin as django_admin

    model_admin = django_admin.site._registry[CertificateTemplate]
    designer = staff_member("admin", "designer")
    request = type("Request", (), {"user": designer})()
    assert "family" not in model_admin.get_readonly_fields(request, template)
    templates.template_publish(template_id=template.pk, by=None)
    fixed = model_admin.get_readonly_fields(request, template)
    assert "family" in fixed and "organisation" in fixed and "is_default" not in fixed
    helper = type("Request", (), {"user": staff_member("support", "helper")})()
    assert "is_default" in model_admin.get_readonly_fields(helper, template)


# --- artwork --------------------------------------------------------------------------------------


def vector_artwork() -> bytes:
    """A one-page PDF of vector artwork, as a designer would export it."""
    from reportlab.lib.colors import HexColor
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    width, height = pdf.PAGE_SIZES["A4"]
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True)
    for step in range(40):
        canvas.setStrokeColor(HexColor("#D8C9A0"))
        canvas.circle(width / 2, height / 2, 20 + step * 9, stroke=1, fill=0)
    canvas.setFillColor(HexColor("#F3ECDA"))
    canvas.rect(0, 0, width, 40, stroke=0, fill=1)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def photo_artwork() -> bytes:
    image = Image.new("RGB", (1754, 1240))
    pixels = image.load()
    for x in range(0, 1754):
        for y in range(0, 1240, 4):
            shade = 235 + (x * 20 // 1754) - (y * 10 // 1240)
            for dy in range(4):
                pixels[x, y + dy] = (shade, shade - 6, shade - 20)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


def test_a_transparent_png_artwork_does_not_print_black(tmp_path):
    require_tool("pdftoppm")
    image = Image.new("RGBA", (600, 424), (0, 0, 0, 0))
    for x in range(0, 600, 40):
        for y in range(424):
            image.putpixel((x, y), (180, 150, 60, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    (tmp_path / "c.pdf").write_bytes(pdf.render_pdf(CONTENT, pdf.Design(background=out.getvalue())))
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(tmp_path / "c.pdf"), str(tmp_path / "page")], check=True)
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    dark = sum(1 for x in range(page.width) for y in range(page.height) if sum(page.getpixel((x, y))) < 150)
    assert dark < 0.05 * page.width * page.height, dark  # only the text: transparent shows the paper, not black


@pytest.mark.parametrize("kind", ["pdf", "jpeg"])
def test_artwork_prints_under_the_text_and_costs_about_its_own_size(kind, tmp_path):
    artwork = vector_artwork() if kind == "pdf" else photo_artwork()
    plain = pdf.render_pdf(CONTENT)
    dressed = pdf.render_pdf(CONTENT, pdf.Design(background=artwork))
    assert pdf.render_pdf(CONTENT, pdf.Design(background=artwork)) == dressed  # reproducible
    cost = len(dressed) - len(plain)
    assert 0 < cost <= len(artwork) + 4096, (cost, len(artwork))
    assert len(dressed) < 100_000, len(dressed)
    assert text_of(dressed, tmp_path) == text_of(plain, tmp_path, "plain.pdf")
    require_tool("pdftoppm")
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(tmp_path / "c.pdf"), str(tmp_path / "page")], check=True)
    corner = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB").getpixel((160, 2))
    assert corner != (255, 255, 255)  # the artwork shows where the certificate draws nothing


def test_artwork_must_be_an_image_or_a_one_page_pdf():
    from django.core.exceptions import ValidationError

    from certificates.models.templates import validate_background

    validate_background(SimpleUploadedFile("a.pdf", vector_artwork()))
    with pytest.raises(ValidationError, match="must be a PNG, a JPEG or a one-page PDF"):
        validate_background(SimpleUploadedFile("a.png", b"GIF89a..."))
    two_pages = io.BytesIO()
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(two_pages)
    canvas.showPage()
    canvas.showPage()
    canvas.save()
    with pytest.raises(ValidationError, match="has 2 pages"):
        validate_background(SimpleUploadedFile("b.pdf", two_pages.getvalue()))


# --- previews, the command, the admin ------------------------------------------------------------


def test_previews_cover_the_sample_learners_and_are_marked_sample(tmp_path):
    template = make_template(OrganisationFactory())
    keys = {sample.key for sample in templates.SAMPLES}
    assert keys == {"short", "long", "rtl", "cjk", "indic"}
    assert any(s.score is None for s in templates.SAMPLES) and any(s.score for s in templates.SAMPLES)
    assert any(not s.cohort for s in templates.SAMPLES) and any(s.cohort for s in templates.SAMPLES)
    for sample in templates.SAMPLES:
        data, png = templates.template_preview(template_id=template.pk, sample_key=sample.key)
        text = text_of(data, tmp_path)
        assert "SAMPLE" in text and pdf.SAMPLE_CODE in text and "Certificate of Excellence" in text
        assert png.startswith(b"\x89PNG")


def test_render_samples_writes_every_preview_and_can_fail_ci(tmp_path):
    template = make_template(OrganisationFactory(), slug="excellence")
    call_command("render_samples", "--template", "excellence", "--out", str(tmp_path / "out"), "--check")
    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert written == sorted(f"{s.key}.{kind}" for s in templates.SAMPLES for kind in ("pdf", "png"))
    CertificateTemplateWording.objects.filter(template=template).update(heading="Certificate {oops}")
    with pytest.raises(CommandError, match="would stop Excellence being published"):
        call_command("render_samples", "--template", "excellence", "--out", str(tmp_path / "again"), "--check")
    with pytest.raises(CommandError, match="no template 'nope'"):
        call_command("render_samples", "--template", "nope", "--out", str(tmp_path / "x"))


def test_through_the_admin_create_preview_publish_assign_and_issue(client, run_on_commit, tmp_path):
    admin = staff_member("admin", "designer")
    client.force_login(admin)
    organisation = OrganisationFactory()
    add = reverse("admin:certificates_certificatetemplate_add")
    assert client.get(add).status_code == 200
    form = {
        "organisation": organisation.pk,
        "family": "completion",
        "name": "Academy completion",
        "slug": "academy-completion",
        "is_default": "on",
        "frame": "classic",
        "emblem": "",
        "rule": "diamond",
        "heading_size": "30",
        "heading_font": "sans",
        "name_font": "serif",
        "body_font": "sans",
        "accent_color": "#0B5563",
        "secondary_color": "",
        "ink_color": "#1A1A1A",
        "muted_color": "#5A6470",
        "page_size": "A4",
        "wordings-TOTAL_FORMS": "1",
        "wordings-INITIAL_FORMS": "0",
        "wordings-MIN_NUM_FORMS": "1",
        "wordings-MAX_NUM_FORMS": "1000",
        "wordings-0-locale": "en",
        "wordings-0-position": "0",
        "wordings-0-heading": "Diploma of Course Completion",
        "wordings-0-intro": "We proudly certify that",
        "wordings-0-phrase": "has finished every module of",
        "wordings-0-lines": "{cohort}\nHours: {custom:Hours}",
        "wordings-0-date_label": "Awarded on",
        "wordings-0-id_label": "Credential ID",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
        "_continue": "1",
    }
    response = client.post(add, form)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    template = CertificateTemplate.objects.get(slug="academy-completion")
    change = reverse("admin:certificates_certificatetemplate_change", args=[template.pk])
    page = client.get(change).content.decode()
    assert "Ready to publish" in page
    for sample in templates.SAMPLES:
        assert reverse("admin:certificates_template_preview", args=[template.pk, sample.key, "png"]) in page
    preview = client.get(reverse("admin:certificates_template_preview", args=[template.pk, "rtl", "pdf"]))
    assert preview.status_code == 200 and "Diploma of Course Completion" in text_of(preview.content, tmp_path)
    png = client.get(reverse("admin:certificates_template_preview", args=[template.pk, "cjk", "png"]))
    assert png["Content-Type"] == "image/png"

    publish_url = reverse("admin:certificates_template_publish", args=[template.pk])
    assert publish_url in page
    confirm = client.get(publish_url).content.decode()
    assert "Publish version 1" in confirm and "New certificates of" in confirm
    assert not CertificateTemplateVersion.objects.exists()  # looking is not publishing
    publish = client.post(publish_url, {"note": "launch"})
    assert publish.status_code == 302
    version = CertificateTemplateVersion.objects.get(template=template)
    assert version.number == 1 and version.note == "launch" and version.published_by == admin

    course = CourseFactory(organisation=organisation, template_family="completion", custom_fields={"Hours": "12"})
    certificate = issued_certificate(run_on_commit, course=course, full_name="Ana Lúcia")
    issued = certificate.current_version
    assert issued.template_version == version
    text = text_of(issued.pdf.read(), tmp_path, "issued.pdf")
    for words in ("Diploma of Course Completion", "We proudly certify that", "has finished every module of"):
        assert words in text
    assert "Hours: 12" in text and "Awarded on" in text and "Credential ID" in text

    reissue_page = client.get(reverse("admin:certificates_template_reissue", args=[template.pk]))
    assert reissue_page.status_code == 200 and "Nothing would change" in reissue_page.content.decode()


def test_support_staff_cannot_publish(client):
    template = make_template(OrganisationFactory())
    client.force_login(staff_member("support", "helper"))
    assert client.get(reverse("admin:certificates_certificatetemplate_change", args=[template.pk])).status_code == 200
    for method in (client.get, client.post):
        response = method(reverse("admin:certificates_template_publish", args=[template.pk]))
        assert response.status_code == 403
    assert not CertificateTemplateVersion.objects.exists()


@pytest.mark.postgres
def test_a_published_version_is_frozen():
    template = make_template(OrganisationFactory())
    version = templates.template_publish(template_id=template.pk, by=None)
    with pytest.raises(ValueError, match="frozen"):
        version.save()
    if connection.vendor != "postgresql":
        pytest.skip("the trigger that refuses UPDATE and DELETE is PostgreSQL's (set DATABASE_URL)")
    with pytest.raises(Exception, match="Cannot update or delete"), transaction.atomic():
        CertificateTemplateVersion.objects.filter(pk=version.pk).update(note="changed")
    with pytest.raises(Exception, match="Cannot update or delete"), transaction.atomic():
        CertificateTemplateVersion.objects.filter(pk=version.pk).delete()
    assert CertificateTemplateVersion.objects.get(pk=version.pk).note == ""


def test_one_default_template_per_family_and_organisation():
    from django.db import IntegrityError

    organisation = OrganisationFactory()
    make_template(organisation, slug="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_template(organisation, slug="b")
    make_template(organisation, slug="c", is_default=False)


def test_after_a_new_version_staff_see_how_many_would_change_and_reissue_them(client, run_on_commit, tmp_path):
    organisation = OrganisationFactory()
    template = make_template(organisation)
    templates.template_publish(template_id=template.pk, by=None)
    course = CourseFactory(organisation=organisation, template_family="achievement")
    changing = [issued_certificate(run_on_commit, course=course) for _ in range(2)]
    revoked = issued_certificate(run_on_commit, course=course)
    lifecycle.certificate_revoke(certificate_id=revoked.pk, by=None, reason="plagiarism")
    CertificateTemplateWording.objects.filter(template=template).update(heading="Certificate of Distinction")
    templates.template_publish(template_id=template.pk, by=None)

    client.force_login(staff_member("admin", "designer"))
    url = reverse("admin:certificates_template_reissue", args=[template.pk])
    page = " ".join(client.get(url).content.decode().split())
    assert "<strong>2</strong> of 2 certificates will get a new version" in page  # the revoked one is not counted
    with run_on_commit():
        response = client.post(url, {"confirm": "1", "note": "new heading", "select_across": "1"})
    assert response.status_code == 302
    for certificate in changing:
        version = certificate.versions.get(is_current=True)
        assert version.number == 2 and version.reason == "template_change" and version.template_version.number == 2
        assert "Certificate of Distinction" in text_of(version.pdf.read(), tmp_path)
    assert revoked.versions.count() == 1


def test_the_template_list_runs_the_same_queries_for_few_or_many(client, django_assert_max_num_queries):
    from django.test.utils import CaptureQueriesContext

    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    url = reverse("admin:certificates_certificatetemplate_changelist")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for n in range(3):
        templates.template_publish(template_id=make_template(OrganisationFactory(), slug=f"t{n}").pk, by=None)
    few = count()
    for n in range(3, 12):
        templates.template_publish(template_id=make_template(OrganisationFactory(), slug=f"t{n}").pk, by=None)
    assert count() == few


def test_the_verify_page_shows_the_score_only_where_the_template_prints_it(client, run_on_commit):
    from django.utils import timezone

    from certificates.models import Certificate
    from learners.services import enrollment_record_completion
    from learners.tests.factories import LearnerFactory

    organisation = OrganisationFactory()
    scored = make_template(organisation, family="completion", slug="scored", lines="Final score {score}%")
    silent = make_template(organisation, family="achievement", slug="silent", lines="{cohort}")
    for template in (scored, silent):
        templates.template_publish(template_id=template.pk, by=None)
    for family, shows in (("completion", True), ("achievement", False)):
        course = CourseFactory(organisation=organisation, template_family=family)
        with run_on_commit():
            enrollment = enrollment_record_completion(
                learner_id=LearnerFactory().pk, course_id=course.pk, completed_at=timezone.now(), score=Decimal("87.5")
            )
        certificate = Certificate.objects.get(enrollment=enrollment)
        page = client.get(reverse("verification:detail", args=[certificate.code]), follow=True).content.decode()
        assert ("87.5" in page) is shows, family
