"""The import's other LMS layouts, fraction scores, one rule for an address, names as people have
them, and the rows that are imported but held for staff (never dropped, never emailed as they came)."""

import csv
import io
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from email.utils import parseaddr
from pathlib import Path

import pytest
from django.utils import timezone

from certificates.errors import CertificateStillHasProblems
from certificates.exports import neutralise
from certificates.models import Certificate
from certificates.services import issuance
from courses.models import Course
from courses.tests.factories import CourseFactory
from learners import services
from learners.csv_import import LAYOUTS, detect_layout, normalise_header
from learners.models import Enrollment, Learner, LearnerEmailChange
from learners.tests.factories import LearnerFactory, UserFactory
from learners.tests.test_import import _env

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
HEADER = "learner_id,email,name,course,completed_at,score\n"


@pytest.fixture
def course():
    return CourseFactory(slug="intro-django", title="Introduction to Django")


def run_import(data: bytes, **options) -> services.ImportReport:
    return services.completions_import(handle=io.BytesIO(data), **options)


def recipients(mailoutbox) -> list[str]:
    return [parseaddr(address)[1] for message in mailoutbox for address in message.to]


def headers_of(fixture: str) -> list[str]:
    with open(FIXTURES / fixture, newline="", encoding="utf-8") as handle:
        return [normalise_header(cell) for cell in next(csv.reader(handle))]


FIXTURE_LAYOUTS = {
    "generic.csv": "generic",
    "moodle_completion.csv": "moodle",
    "moodle_gradebook.csv": "moodle",
    "canvas_gradebook.csv": "canvas",
    "openedx_grades.csv": "openedx",
    "learndash_export.csv": "learndash",
    "thinkific_progress.csv": "thinkific",
    "teachable_students.csv": "teachable",
    "talentlms_course_users.csv": "talentlms",
    "docebo_course_report.csv": "docebo",
}


@pytest.mark.parametrize(("fixture", "layout"), FIXTURE_LAYOUTS.items())
def test_every_fixture_is_detected_as_its_own_layout_and_no_other(fixture, layout):
    assert detect_layout(headers_of(fixture)) == layout


def test_every_layout_has_a_fixture():
    assert set(FIXTURE_LAYOUTS.values()) == set(LAYOUTS)


# (fixture, --course, completed learner id, their printed name, score, not finished ids)
COMMAND_CASES = [
    ("thinkific_progress.csv", "", "ada.lovelace@example.com", "Ada Lovelace", None, ["alan@example.com"]),
    ("teachable_students.csv", "", "ada@example.com", "Ada Lovelace", None, ["alan@example.com"]),
    ("talentlms_course_users.csv", "", "501", "Ada Lovelace", Decimal("91"), ["502", "503"]),
    (
        "docebo_course_report.csv",
        "intro-django",
        "ada.lovelace",
        "Ada Lovelace",
        Decimal("91"),
        ["alan.turing", "grace.hopper"],
    ),
]


@pytest.mark.django_db(transaction=True)  # the command runs in its own process and must see the course
@pytest.mark.parametrize(("fixture", "course_option", "done", "name", "score", "waiting"), COMMAND_CASES)
def test_each_new_layout_imports_through_the_real_command(course, fixture, course_option, done, name, score, waiting):
    args = [sys.executable, "manage.py", "import_completions", str(FIXTURES / fixture)]
    args += ["--course", course_option] if course_option else []
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=_env())
    assert result.returncode == 0, result.stderr
    layout = FIXTURE_LAYOUTS[fixture]
    assert f"rows read ({layout}, utf-8)" in result.stdout and "0 rejected" in result.stdout
    finished = Enrollment.objects.select_related("learner").get(learner__external_id=done)
    assert finished.learner.full_name == name and finished.completed_at is not None
    assert finished.score == score
    for external_id in waiting:
        assert Enrollment.objects.get(learner__external_id=external_id).completed_at is None
    assert Enrollment.objects.filter(completed_at__isnull=False).count() == len(
        [line for line in (FIXTURES / fixture).read_text().splitlines()[1:] if line]
    ) - len(waiting)


def test_thinkific_and_teachable_identify_learners_by_address_in_any_case(course):
    run_import((FIXTURES / "thinkific_progress.csv").read_bytes())
    again = (
        (FIXTURES / "thinkific_progress.csv")
        .read_text()
        .replace("Ada.Lovelace@Example.com", "ada.lovelace@example.COM")
    )
    report = run_import(again.encode())
    assert (report.created, report.unchanged) == (0, 3)
    ada = Learner.objects.get(external_id="ada.lovelace@example.com")
    assert ada.email == "ada.lovelace@example.com" and not ada.email_changes.exists()
    assert Learner.objects.get(external_id="madonna@example.com").full_name == "Madonna"


def test_talentlms_and_docebo_statuses_decide_completion(course):
    run_import((FIXTURES / "talentlms_course_users.csv").read_bytes())
    run_import((FIXTURES / "docebo_course_report.csv").read_bytes(), course="intro-django", lms="docebo")
    docebo = Enrollment.objects.get(learner__lms="docebo", learner__external_id="grace.hopper")
    assert docebo.completed_at is None and docebo.learner.full_name == "Grace Hopper"
    assert Enrollment.objects.get(learner__lms="default", learner__external_id="503").completed_at is None


# Fractions ------------------------------------------------------------------------------------------


OPENEDX_HEADER = "id,email,username,grade,Certificate Eligible\n"


@pytest.mark.parametrize(
    ("grade", "score"), [("0.85", "85"), ("0,85", "85"), ("1", "100"), ("85%", "85"), ("85 %", "85")]
)
def test_fraction_layouts_read_0_85_as_85_percent_and_a_percent_sign_as_percent(course, grade, score):
    LearnerFactory(external_id="e1")
    report = run_import(f'{OPENEDX_HEADER}e1,e1@example.com,e1,"{grade}",Y\n'.encode(), course="intro-django")
    assert report.rejections == []
    assert Enrollment.objects.get(learner__external_id="e1").score == Decimal(score)


def test_a_fraction_above_one_is_rejected_with_the_scale_it_was_read_on(course):
    LearnerFactory(external_id="e1")
    report = run_import(f"{OPENEDX_HEADER}e1,e1@example.com,e1,85,Y\n".encode(), course="intro-django")
    assert report.rejections == [(2, "score out of range: '85' (0–1 as a fraction)")]


@pytest.mark.parametrize(("score", "stored"), [("85", "85"), ("0.85", "0.85"), ("85%", "85")])
def test_percentage_layouts_still_read_percentages(course, score, stored):
    run_import(f"{HEADER}p1,p1@example.com,Pat Lee,intro-django,2026-11-20,{score}\n".encode())
    assert Enrollment.objects.get(learner__external_id="p1").score == Decimal(stored)


# One rule for an address ------------------------------------------------------------------------------


def test_an_address_in_another_case_or_with_spaces_is_the_same_address_on_the_next_import(course):
    run_import(f"{HEADER}a1,ada@example.com,Ada Lovelace,intro-django,2026-11-20,90\n".encode())
    report = run_import(f'{HEADER}a1," ADA@Example.com ",Ada Lovelace,intro-django,2026-11-20,90\n'.encode())
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert Learner.objects.get(external_id="a1").email == "ada@example.com"
    assert not LearnerEmailChange.objects.exists()


def test_a_stored_mixed_case_address_is_not_changed_by_the_lms_lower_casing_it(course):
    services.learner_upsert(external_id="a2", email="Ada.Lovelace@Example.com", full_name="Ada Lovelace")
    run_import(f"{HEADER}a2,ada.lovelace@example.com,Ada Lovelace,intro-django,2026-11-20,90\n".encode())
    learner = Learner.objects.get(external_id="a2")
    assert learner.email == "Ada.Lovelace@Example.com" and not learner.email_changes.exists()


def test_the_webhook_follows_the_same_rule_as_the_import(course):
    services.learner_upsert(external_id="a3", email="Grace@Example.com", full_name="Grace Hopper")
    record = services.CompletionRecord(
        learner_id="a3",
        course_key="intro-django",
        completed_at=timezone.now(),
        email="grace@example.com",
        full_name="Grace Hopper",
    )
    services.completion_ingest(record=record, source="webhook")
    assert not LearnerEmailChange.objects.exists()
    services.completion_ingest(record=record, source="webhook")  # the second time changes nothing
    assert Learner.objects.get(external_id="a3").email == "Grace@Example.com"


def test_a_really_new_address_is_still_an_email_change(course):
    run_import(f"{HEADER}a4,ada@example.com,Ada Lovelace,intro-django,2026-11-20,90\n".encode())
    run_import(f"{HEADER}a4,ADA@newmail.example,Ada Lovelace,intro-django,2026-11-20,90\n".encode())
    change = LearnerEmailChange.objects.get()
    assert (change.old_email, change.new_email) == ("ada@example.com", "ada@newmail.example")


# Names as people have them ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "printed"),
    [
        ("Madonna", "Madonna"),
        ("Sukarno", "Sukarno"),
        ('"Lovelace, Ada"', "Ada Lovelace"),
        ('" Lovelace ,  Ada "', "Ada Lovelace"),
        ('"Sukarno,"', "Sukarno"),
        ('"Ada Lovelace, PhD"', "Ada Lovelace, PhD"),
        ('"Lovelace, Ada, Countess"', "Lovelace, Ada, Countess"),
    ],
)
def test_single_word_and_last_first_names_are_names(course, run_on_commit, mailoutbox, sent, printed):
    with run_on_commit():
        report = run_import(f"{HEADER}n1,n1@example.com,{sent},intro-django,2026-11-20,90\n".encode())
    assert (report.created, report.rejected, report.held) == (1, 0, 0)
    certificate = Certificate.objects.get(enrollment__learner__external_id="n1")
    assert certificate.current_version.holder_name == printed
    assert len(mailoutbox) == 1


def test_a_single_word_name_from_first_name_alone_is_a_name(course):
    header = b"learner_id,email,first_name,last_name,course,completed_at\n"
    data = header + b"s1,s@example.com,Sukarno,,intro-django,2026-11-20\n"
    assert run_import(data).rejected == 0
    assert Learner.objects.get(external_id="s1").full_name == "Sukarno"


# Held for staff, never dropped ------------------------------------------------------------------------------

TOMORROW_PLUS = (timezone.localdate() + timedelta(days=3)).isoformat()
HELD_ROWS = [
    ("missing email", "h1,,Ann Lee,intro-django,2026-11-20,90", "missing email"),
    ("invalid email", "h1,ann at example,Ann Lee,intro-django,2026-11-20,90", "invalid email 'ann at example'"),
    ("html", "h1,ann@example.com,<b>Ann</b> Lee,intro-django,2026-11-20,90", "name looks like markup"),
    ("script", "h1,ann@example.com,<script>alert(1)</script>,intro-django,2026-11-20,90", "name looks like markup"),
    ("bbcode", "h1,ann@example.com,[url=http://x.example]Ann[/url],intro-django,2026-11-20,90", "looks like markup"),
    (
        "hyperlink",
        'h1,ann@example.com,"=HYPERLINK(""http://x.example"",""Ann"")",intro-django,2026-11-20,90',
        "formula",
    ),
    ("plus", "h1,ann@example.com,+cmd|' /C calc'!A0,intro-django,2026-11-20,90", "spreadsheet formula"),
    ("at", "h1,ann@example.com,@SUM(1+9)*cmd,intro-django,2026-11-20,90", "spreadsheet formula"),
    ("future", f"h1,ann@example.com,Ann Lee,intro-django,{TOMORROW_PLUS},90", "is in the future"),
    (
        "before course",
        "h1,ann@example.com,Ann Lee,intro-django,2019-05-01,90",
        "before the course started (2020-01-01)",
    ),
]


@pytest.mark.parametrize(("kind", "row", "reason"), HELD_ROWS, ids=[kind for kind, _, _ in HELD_ROWS])
def test_each_kind_of_wrong_row_is_imported_held_with_its_line_and_reason_and_never_emailed(
    course, run_on_commit, mailoutbox, kind, row, reason
):
    Course.objects.filter(pk=course.pk).update(cohort_start=date(2020, 1, 1))
    with run_on_commit():
        report = run_import(f"{HEADER}ok,ok@example.com,Ok Row,intro-django,2026-11-20,90\n{row}\n".encode())
    assert (report.created, report.rejected, report.held) == (2, 0, 1)
    [(line, held_reason)] = report.held_rows
    assert line == 3 and reason in held_reason
    assert "1 imported and held for staff review" in report.summary()
    held = Certificate.objects.get(enrollment__learner__external_id="h1")
    assert held.pipeline_state == "held" and held.state_reason
    assert recipients(mailoutbox) == ["ok@example.com"]  # only the sound row's


def test_a_status_that_contradicts_the_completion_date_is_held_until_staff_approve(course, run_on_commit, mailoutbox):
    header = b"learner_id,email,name,course,status,completed_at\n"
    data = header + b"c1,c@example.com,Cy Ode,intro-django,Not started,2026-11-20\n"
    with run_on_commit():
        report = run_import(data)
    assert report.held_rows == [(2, "status 'Not started' but a completion date '2026-11-20'")]
    certificate = Certificate.objects.get(enrollment__learner__external_id="c1")
    assert certificate.pipeline_state == "held" and "Not started" in certificate.state_reason
    assert mailoutbox == []
    with run_on_commit():  # an "in progress" export later keeps the completion and the hold
        run_import(data.replace(b"Not started,2026-11-20", b"In progress,"))
    certificate.refresh_from_db()
    assert certificate.pipeline_state == "held" and mailoutbox == []
    with run_on_commit():
        issuance.certificate_approve(certificate_id=certificate.pk, by=UserFactory())
    certificate.refresh_from_db()
    assert certificate.pipeline_state == "emailed" and recipients(mailoutbox) == ["c@example.com"]


def test_the_lms_sending_sound_facts_releases_a_held_completion(course, run_on_commit, mailoutbox):
    with run_on_commit():
        run_import(f"{HEADER}f1,f@example.com,Fay Lee,intro-django,{TOMORROW_PLUS},90\n".encode())
    assert mailoutbox == []
    with run_on_commit():
        report = run_import(f"{HEADER}f1,f@example.com,Fay Lee,intro-django,2026-01-20,90\n".encode())
    assert (report.updated, report.held) == (1, 0)
    assert Certificate.objects.get().pipeline_state == "emailed" and len(mailoutbox) == 1


@pytest.mark.parametrize("name", ['"=HYPERLINK(""http://x.example"",""Ann"")"', "<script>alert(1)</script>"])
def test_a_formula_or_markup_name_is_never_printed_even_when_approved_until_staff_fix_it(
    course, run_on_commit, mailoutbox, name
):
    with run_on_commit():
        run_import(f"{HEADER}m1,m@example.com,{name},intro-django,2026-11-20,90\n".encode())
    certificate = Certificate.objects.get()
    staff = UserFactory()
    with run_on_commit(), pytest.raises(CertificateStillHasProblems, match="name looks like"):
        issuance.certificate_approve(certificate_id=certificate.pk, by=staff)
    assert not certificate.versions.exists() and mailoutbox == []
    with run_on_commit():
        fixed = issuance.certificate_fix_holder(
            certificate_id=certificate.pk, full_name="Ann Lee", preferred_name="", email="m@example.com", by=staff
        )
    fixed.refresh_from_db()
    assert fixed.pipeline_state == "emailed" and fixed.current_version.holder_name == "Ann Lee"
    assert len(mailoutbox) == 1


def test_a_missing_address_is_fixed_by_staff_and_then_emailed(course, run_on_commit, mailoutbox):
    with run_on_commit():
        run_import(f"{HEADER}e9,,Eve Nine,intro-django,2026-11-20,90\n".encode())
    certificate = Certificate.objects.get()
    assert certificate.state_reason == "learner has no email address" and mailoutbox == []
    with run_on_commit():
        issuance.certificate_fix_holder(
            certificate_id=certificate.pk, full_name="Eve Nine", preferred_name="", email="eve@example.com", by=None
        )
    assert recipients(mailoutbox) == ["eve@example.com"]


def test_a_markup_name_from_the_webhook_is_held_by_the_same_rule(course, run_on_commit, mailoutbox):
    record = services.CompletionRecord(
        learner_id="w1",
        course_key="intro-django",
        completed_at=timezone.now(),
        email="w@example.com",
        full_name="<img src=x onerror=alert(1)>",
    )
    with run_on_commit():
        result = services.completion_ingest(record=record, source="webhook")
    assert "name looks like markup" in result.held
    assert Certificate.objects.get().pipeline_state == "held" and mailoutbox == []


def test_not_finished_rows_with_problems_are_recorded_but_not_counted_held(course):
    report = run_import(f"{HEADER}q1,,<b>Q</b>,intro-django,,\n".replace(",,\n", ",,\n").encode())
    assert (report.created, report.rejected, report.held) == (1, 0, 0)
    assert report.not_finished == 1


def test_exports_neutralise_a_formula_that_reached_a_cell():
    assert neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)" and neutralise("@SUM(1)") == "'@SUM(1)"
