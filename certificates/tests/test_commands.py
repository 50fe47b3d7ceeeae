import csv
import io

import pytest
from django.core.management import CommandError, call_command

from certificates.management.commands import seed_demo
from certificates.management.commands.export_certificates import COLUMNS
from certificates.models import Certificate, CertificateVersion, Pipeline
from certificates.tests.factories import issued_certificate
from courses.models import Course
from courses.tests.factories import CourseFactory
from learners.models import Enrollment, Learner

pytestmark = pytest.mark.django_db


def export(*args) -> list[dict[str, str]]:
    out = io.StringIO()
    call_command("export_certificates", *args, stdout=out)
    out.seek(0)
    rows = list(csv.reader(out))
    assert rows[0] == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]


def test_export_has_exactly_the_documented_columns_one_row_per_version(run_on_commit, settings):
    certificate = issued_certificate(run_on_commit, external_id="lms-42", email="a@example.com")
    version = certificate.current_version
    [row] = export()
    assert row == {
        "code": certificate.display_code,
        "status": "emailed",
        "version": "1",
        "holder_name": version.holder_name,
        "learner_external_id": "lms-42",
        "email": "a@example.com",
        "course_slug": certificate.enrollment.course.slug,
        "course_title": version.course_title,
        "issued_at": version.issued_at.isoformat(),
        "verify_url": certificate.verify_url,
        "pdf_sha256": version.pdf_sha256,
        "pdf_path": version.pdf.name,
        "delivery_status": "sent",
    }
    assert (settings.MEDIA_ROOT / row["pdf_path"]).read_bytes() == version.pdf.read()


def test_export_lists_held_certificates_so_staff_see_them(run_on_commit):
    issued_certificate(run_on_commit, email="broken")
    [row] = export()
    assert (row["status"], row["delivery_status"], row["pdf_path"]) == ("held", "not sent", "")


def test_export_neutralises_spreadsheet_formulas(run_on_commit):
    issued_certificate(run_on_commit, full_name='=HYPERLINK("http://evil")', course=CourseFactory(title="@SUM(A1)"))
    [row] = export()
    assert row["holder_name"] == '\'=HYPERLINK("http://evil")'
    assert row["course_title"] == "'@SUM(A1)"


def test_export_filters_by_course_and_rejects_unknown(run_on_commit, tmp_path):
    wanted = issued_certificate(run_on_commit)
    issued_certificate(run_on_commit)
    assert [r["code"] for r in export("--course", wanted.enrollment.course.slug)] == [wanted.display_code]
    with pytest.raises(CommandError, match="unknown course"):
        call_command("export_certificates", "--course", "nope", stdout=io.StringIO())
    target = tmp_path / "out.csv"
    call_command("export_certificates", "--output", str(target), stderr=io.StringIO())
    assert len(target.read_text(encoding="utf-8").splitlines()) == 3


def test_seed_demo_is_idempotent(run_on_commit):
    out = io.StringIO()
    with run_on_commit():
        call_command("seed_demo", stdout=out)
    counts = (Course.objects.count(), Learner.objects.count(), Enrollment.objects.count(), Certificate.objects.count())
    emailed = Certificate.objects.filter(pipeline_state=Pipeline.EMAILED).count()
    with run_on_commit():
        call_command("seed_demo", stdout=io.StringIO())
    assert counts == (
        Course.objects.count(),
        Learner.objects.count(),
        Enrollment.objects.count(),
        Certificate.objects.count(),
    )
    assert counts[0] == len(seed_demo.COURSES) and counts[1] >= 45
    assert Certificate.objects.filter(pipeline_state=Pipeline.EMAILED).count() == emailed > 20
    assert Certificate.objects.filter(pipeline_state=Pipeline.HELD).exists()  # bad demo data is held, not lost
    text = out.getvalue()
    assert "/admin/" in text and "/dashboard/" in text and "/verify/" in text


def test_seed_demo_outside_debug_gives_the_superuser_a_random_password(run_on_commit, settings):
    from django.contrib.auth import get_user_model

    from certificates.management.commands.seed_demo import DEMO_PASSWORD

    settings.DEBUG = False
    out = io.StringIO()
    with run_on_commit():
        call_command("seed_demo", stdout=out)
    admin = get_user_model().objects.get(username="admin")
    assert DEMO_PASSWORD not in out.getvalue() and not admin.check_password(DEMO_PASSWORD)
    printed = out.getvalue().split("(user admin, password ", 1)[1].split(")", 1)[0]
    assert admin.check_password(printed)
    again = io.StringIO()
    with run_on_commit():
        call_command("seed_demo", stdout=again)
    assert printed not in again.getvalue() and admin.check_password(printed)  # kept, and not printed twice


def test_seed_demo_in_debug_uses_the_documented_password(run_on_commit, settings):
    settings.DEBUG = True
    out = io.StringIO()
    with run_on_commit():
        call_command("seed_demo", stdout=out)
    assert "password laurel-demo" in out.getvalue()


def _rename_course(course, title):
    course.title = title
    course.save()


def test_export_keeps_one_row_per_version_the_old_ones_superseded(run_on_commit):
    from certificates.services import lifecycle

    certificate = issued_certificate(run_on_commit, course=CourseFactory(title="Intro to Pyhton"))
    _rename_course(certificate.enrollment.course, "Intro to Python")
    with run_on_commit():
        lifecycle.certificate_reissue(certificate_id=certificate.pk, reason="course_correction")
    rows = export()
    assert [(r["code"], r["version"], r["status"], r["course_title"], r["delivery_status"]) for r in rows] == [
        (certificate.display_code, "1", "superseded", "Intro to Pyhton", "sent"),
        (certificate.display_code, "2", "emailed", "Intro to Python", "sent"),
    ]
    assert rows[0]["verify_url"] == certificate.verify_url + "v1/" and rows[1]["verify_url"] == certificate.verify_url
    assert rows[0]["pdf_sha256"] != rows[1]["pdf_sha256"]


def reissue_command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("reissue_certificates", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_reissue_command_counts_then_queues_what_changes(run_on_commit, mailoutbox):
    course = CourseFactory(title="Intro to Pyhton", slug="intro")
    certificates = [issued_certificate(run_on_commit, course=course) for _ in range(3)]
    other = issued_certificate(run_on_commit)
    _rename_course(course, "Intro to Python")

    out, _ = reissue_command("--course", "intro", "--reason", "course renamed", "--dry-run")
    assert "3 certificates checked: 3 would get a new version, 0 unchanged" in out
    assert not CertificateVersion.objects.filter(number=2).exists()

    with run_on_commit():
        out, _ = reissue_command("--course", "intro", "--reason", "course renamed")
    assert "3 will get a new version" in out and "Queued 3 reissues" in out
    renamed = CertificateVersion.objects.filter(number=2, course_title="Intro to Python", note="course renamed")
    assert renamed.count() == 3
    assert other.versions.count() == 1
    assert len(mailoutbox) == 4 + 3

    out, _ = reissue_command("--code", certificates[0].display_code.lower(), "--reason", "again")
    assert "1 certificates checked: 0 will get a new version, 1 unchanged" in out


def test_reissue_command_records_who_and_makes_a_job_with_a_progress_page(run_on_commit):
    from certificates.models import JobState, StaffJob
    from learners.tests.factories import UserFactory

    course = CourseFactory(title="Old", slug="old")
    issued_certificate(run_on_commit, course=course)
    _rename_course(course, "New")
    with pytest.raises(CommandError, match="no staff user"):
        reissue_command("--course", "old", "--reason", "renamed", "--by", "nobody")
    UserFactory(username="ops", is_staff=True)
    with run_on_commit():
        out, _ = reissue_command("--course", "old", "--reason", "renamed", "--by", "ops")
    job = StaffJob.objects.get()
    assert (job.state, job.created_by.username, job.total) == (JobState.FINISHED, "ops", 1)
    assert f"/admin/certificates/staffjob/{job.pk}/change/" in out
    assert CertificateVersion.objects.get(number=2).created_by.username == "ops"


def test_reissue_command_rejects_bad_input_and_writes_nothing(run_on_commit):
    certificate = issued_certificate(run_on_commit)
    with pytest.raises(CommandError, match="unknown course"):
        reissue_command("--course", "nope", "--reason", "x")
    with pytest.raises(CommandError, match="not a certificate code"):
        reissue_command("--code", "NOT-A-CODE", "--reason", "x")
    with pytest.raises(CommandError, match="must say why"):
        reissue_command("--code", certificate.display_code, "--reason", " ")
    from certificates import codes

    with pytest.raises(CommandError, match="1 codes not found"):
        reissue_command("--code", codes.display(codes.new_code()), "--reason", "x")
    assert CertificateVersion.objects.count() == 1


def test_seed_demo_issues_every_sampled_script_in_every_family_on_both_paper_sizes(run_on_commit):
    from certificates.tests.scripts import SAMPLES
    from courses.models import TemplateFamily

    with run_on_commit():
        call_command("seed_demo", stdout=io.StringIO())
    printed = CertificateVersion.objects.filter(
        is_current=True, certificate__pipeline_state__in=[Pipeline.RENDERED, Pipeline.EMAILED]
    ).exclude(pdf="")
    names = set(printed.values_list("holder_name", flat=True))
    assert {sample.name for sample in SAMPLES.values()} <= names  # right-to-left and Indic included
    locales = dict(printed.values_list("holder_name", "locale"))
    for sample in SAMPLES.values():  # kanji in Japanese forms, Urdu in Nastaliq: their course's locale
        if sample.locale:
            assert locales[sample.name] == sample.locale, sample
    cells = {}
    for family, page_size, name in printed.values_list("template_family", "page_size", "holder_name"):
        cells.setdefault((family, page_size), set()).add(name)
    for family in TemplateFamily.values:
        for page_size in ("A4", "LETTER"):
            shown = cells.get((family, page_size), set())
            scripts = {sample.script for sample in SAMPLES.values() if sample.name in shown}
            assert len(scripts) >= 5, (family, page_size, scripts)
            assert scripts & {"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Aran"}, (family, page_size)
            assert scripts & {"Deva", "Beng", "Guru", "Gujr", "Orya", "Taml", "Telu", "Knda", "Mlym", "Sinh"}


def test_export_and_reissue_plan_take_more_ids_than_a_statement_takes_values(run_on_commit):
    """A large course's selection: 70,000 ids, more than the 65,535 values a statement bound on
    PostgreSQL's server takes (and SQLite's default 32,766), go as one parameter and find what they name."""
    from certificates.selectors import certificate_export_rows
    from certificates.services.lifecycle import certificates_reissue_plan

    certificate = issued_certificate(run_on_commit)
    other = issued_certificate(run_on_commit)
    held = issued_certificate(run_on_commit, email="broken")
    ids = [*range(10**9, 10**9 + 70_000), certificate.pk, held.pk]
    rows = list(certificate_export_rows(certificate_ids=ids))
    assert [(row["code"], row["status"]) for row in rows] == [
        (certificate.display_code, "emailed"),
        (held.display_code, "held"),
    ]
    assert other.display_code not in {row["code"] for row in rows}
    plan = certificates_reissue_plan(certificate_ids=ids)
    assert (plan.changing, plan.unchanged, plan.refused) == ([], 1, [])
