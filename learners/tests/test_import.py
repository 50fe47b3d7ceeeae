"""The nightly CSV import: every layout, encoding and delimiter, idempotent, honest about rejects."""

import csv
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest

from certificates.models import Certificate
from courses.models import Course
from courses.tests.factories import CourseFactory
from learners import services
from learners.csv_import import FileError
from learners.models import Enrollment, Learner
from learners.services import imports

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def course():
    return CourseFactory(slug="intro-django", title="Introduction to Django")


def run_import(path_or_bytes, tmp_path=None, **options) -> services.ImportReport:
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    return services.completions_import(handle=io.BytesIO(data), **options)


def enrollment(external_id: str) -> Enrollment:
    return Enrollment.objects.select_related("learner").get(learner__external_id=external_id)


def test_generic_layout_maps_the_headers_people_use(course, run_on_commit, mailoutbox):
    with run_on_commit():
        report = run_import(FIXTURES / "generic.csv")
    assert (report.layout, report.created, report.rejected, report.queued) == ("generic", 2, 0, 2)
    ada = enrollment("L-001")
    assert (ada.learner.full_name, ada.score, ada.attendance, ada.cohort) == ("Ada Lovelace", 91, 100, "Autumn 2026")
    assert ada.custom_fields == {"Hours": "24"}
    grace = enrollment("L-002")
    assert grace.learner.preferred_name == "Amazing Grace"
    assert grace.completed_at.isoformat() == "2026-11-21T08:30:00+00:00"
    assert {c.current_version.holder_name for c in Certificate.objects.all()} == {"Ada Lovelace", "Amazing Grace"}
    assert len(mailoutbox) == 2


@pytest.mark.parametrize(
    ("fixture", "layout", "completed", "not_completed", "score"),
    [
        ("moodle_completion.csv", "moodle", "M-100", "M-101", None),
        ("moodle_gradebook.csv", "moodle", "M-100", None, Decimal("91")),
        ("canvas_gradebook.csv", "canvas", "2001", None, Decimal("90")),
        ("openedx_grades.csv", "openedx", "301", "302", Decimal("92")),
        ("learndash_export.csv", "learndash", "41", "42", None),
    ],
)
def test_each_lms_layout_is_detected_and_mapped(course, fixture, layout, completed, not_completed, score):
    if layout == "canvas":  # a gradebook has no completion status: only for minimum-score courses
        Course.objects.filter(pk=course.pk).update(issuance_rule="min_score", threshold=70)
    if layout == "openedx":  # Open edX grade reports carry no names: the learners are known already
        Learner.objects.create(external_id="301", full_name="Ada Lovelace", email="ada@example.com")
        Learner.objects.create(external_id="302", full_name="Alan Turing", email="alan@example.com")
    report = run_import(FIXTURES / fixture, course="" if layout == "learndash" else "intro-django")
    assert report.layout == layout
    assert report.rejections == []
    # Canvas's export has no email column: a new learner whose login is not an email is held for staff.
    assert report.held_rows == ([(4, "missing email")] if layout == "canvas" else [])
    done = enrollment(completed)
    assert done.completed_at is not None and done.learner.full_name == "Ada Lovelace"
    if score is not None:
        assert done.score == score
    if not_completed:
        assert enrollment(not_completed).completed_at is None


def test_canvas_gradebook_is_refused_for_an_on_completion_course(course):
    with pytest.raises(FileError, match="no completion status"):
        run_import(FIXTURES / "canvas_gradebook.csv", course="intro-django")


def test_canvas_skips_points_possible_and_test_student_and_reorders_names(course):
    Course.objects.filter(pk=course.pk).update(issuance_rule="min_score", threshold=70)
    Learner.objects.create(external_id="2002", full_name="Alan Turing", email="alan@known.example")
    report = run_import(FIXTURES / "canvas_gradebook.csv", course="intro-django")
    assert (report.read, report.rejected) == (2, 0)
    assert enrollment("2001").learner.full_name == "Ada Lovelace"
    assert enrollment("2001").cohort == "Section A"
    assert enrollment("2002").learner.email == "alan@known.example"  # "alan" is a login, not an email


def test_moodle_completion_date_is_parsed(course):
    run_import(FIXTURES / "moodle_completion.csv", course="intro-django")
    assert enrollment("M-100").completed_at.date().isoformat() == "2026-03-03"


ROWS = [
    ["learner_id", "email", "name", "course", "completed_at", "score", "notes"],
    ["u1", "zoe@example.com", "Zoë Ångström", "intro-django", "2026-11-20", "88", "line one\nline two"],
    ["u2", "jose@example.com", "José Niño", "intro-django", "2026-11-20", "91", "  trailing   "],
]


def encoded(encoding: str, delimiter: str = ",", newline: str = "\r\n") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_ALL).writerows(ROWS)
    text = out.getvalue()
    if encoding == "utf-8-sig":
        return "\ufeff".encode() + text.encode("utf-8")
    return text.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_encodings_and_delimiters(course, encoding, delimiter):
    data = encoded(encoding, delimiter)
    if encoding == "utf-16-le":
        data = data  # no BOM: charset-normalizer must recognise it
    report = run_import(data)
    assert report.rejected == 0, report.rejections
    assert enrollment("u1").learner.full_name == "Zoë Ångström"
    assert enrollment("u2").learner.full_name == "José Niño"
    assert enrollment("u1").custom_fields == {"notes": "line one line two"}  # printed on one line


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_endings_and_multiline_cells(course, newline):
    report = run_import(encoded("utf-8", ",", newline))
    assert (report.created, report.rejected) == (2, 0)
    assert enrollment("u2").custom_fields == {"notes": "trailing"}


def test_rejected_rows_report_their_first_physical_line(course, tmp_path):
    data = (
        b"learner_id,email,name,course,completed_at,score\n"
        b'u1,a@example.com,"Multi\nline name",intro-django,2026-11-20,90\n'
        b"u2,a@example.com,Bad Score,intro-django,2026-11-20,101\n"
    )
    errors = tmp_path / "errors.csv"
    report = run_import(data, errors_path=errors)
    assert report.rejections == [(4, "score out of range: '101' (0–100)")]
    rows = list(csv.reader(errors.open(encoding="utf-8")))
    assert rows[0][:2] == ["line", "reason"] and rows[1][:3] == ["4", "score out of range: '101' (0–100)", "u2"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("u9,a@example.com,,intro-django,2026-11-20,90", "missing name"),
        (",a@example.com,Ann,intro-django,2026-11-20,90", "missing learner id"),
        ("u9,a@example.com,Ann,ABC101,2026-11-20,90", "unknown course ABC101"),
        ("u9,a@example.com,Ann,intro-django,20/31/2026,90", "unparseable completion date '20/31/2026'"),
        ("u9,a@example.com,Ann,intro-django,2026-11-20,-5", "score out of range: '-5' (0–100)"),
        ("u9,a@example.com,Ann,intro-django,2026-11-20,great", "score is not a number: 'great'"),
    ],
)
def test_every_rejection_reason_and_the_good_rows_still_import(course, row, reason):
    header = "learner_id,email,name,course,completed_at,score"
    data = f"{header}\n{row}\ngood,g@example.com,Good Row,intro-django,2026-11-20,90\n".encode()
    report = run_import(data)
    assert report.rejections == [(2, reason)]
    assert report.created == 1 and enrollment("good").completed_at is not None
    assert not Learner.objects.filter(external_id="u9").exists()  # nothing half-written


def test_importing_twice_changes_nothing_the_second_time(course, run_on_commit, mailoutbox):
    with run_on_commit():
        run_import(FIXTURES / "generic.csv")
    with run_on_commit():
        again = run_import(FIXTURES / "generic.csv")
    assert (again.created, again.updated, again.unchanged, again.queued) == (0, 0, 2, 0)
    assert Certificate.objects.count() == 2 and len(mailoutbox) == 2


def test_a_completion_that_arrived_by_webhook_is_not_duplicated(course, run_on_commit, mailoutbox):
    with run_on_commit():
        services.completion_ingest(
            record=services.CompletionRecord(
                learner_id="L-001",
                course_key="intro-django",
                email="ada@example.com",
                full_name="Ada Lovelace",
                completed_at=__import__("datetime").datetime.fromisoformat("2026-11-20T10:00:00+00:00"),
                score=Decimal("91"),
                attendance=Decimal("100"),
                cohort="Autumn 2026",
                custom_fields={"Hours": "24"},
            ),
            source="webhook",
        )
    with run_on_commit():
        report = run_import(FIXTURES / "generic.csv")
    assert report.unchanged == 1 and Enrollment.objects.filter(learner__external_id="L-001").count() == 1
    assert Certificate.objects.filter(enrollment__learner__external_id="L-001").count() == 1
    assert len(mailoutbox) == 2


def test_a_run_killed_half_way_and_rerun_reaches_the_same_state(course, monkeypatch):
    header = "learner_id,email,name,course,completed_at,score\n"
    data = (
        header + "".join(f"k{i},k{i}@example.com,K {i},intro-django,2026-11-20,{50 + i % 50}\n" for i in range(1200))
    ).encode()
    monkeypatch.setattr(imports, "IMPORT_BATCH", 100)
    real = imports._ingest_batch
    calls = {"n": 0}

    def dies_in_batch_7(records, **kwargs):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or the machine going away
        return real(records, **kwargs)

    with mock.patch.object(imports, "_ingest_batch", dies_in_batch_7), pytest.raises(KeyboardInterrupt):
        run_import(data)
    assert Enrollment.objects.count() == 600  # six whole batches committed, the seventh rolled back
    report = run_import(data)
    assert (report.created, report.unchanged, report.rejected) == (600, 600, 0)
    state = sorted(Enrollment.objects.values_list("learner__external_id", "score"))
    assert len(state) == 1200 and state[0] == ("k0", Decimal("50"))


def test_dry_run_reports_and_writes_nothing(course, run_on_commit, mailoutbox):
    with run_on_commit():
        report = run_import(FIXTURES / "generic.csv", dry_run=True)
    assert (report.created, report.queued) == (2, 2)
    assert not Learner.objects.exists() and not Certificate.objects.exists() and mailoutbox == []
    assert "would be created" in report.summary()


def test_create_courses_creates_unknown_courses_with_defaults(db):
    data = (
        b"learner_id,email,name,course,course_title,completed_at\nu1,a@example.com,Ann,NEW-101,New Course,2026-11-20\n"
    )
    assert run_import(data).rejections == [(2, "unknown course NEW-101")]
    report = run_import(data, create_courses=True)
    assert report.created == 1
    course = Course.objects.get(external_id="NEW-101")
    assert (course.slug, course.title, course.issuance_rule) == ("new-101", "New Course", "on_completion")


def test_map_option_covers_unusual_headers(course):
    data = b"Employee No,Work Email,Full Name,Course,Finished\nE7,e7@example.com,Eve Seven,intro-django,2026-11-20\n"
    report = run_import(data, mapping={"learner_id": "Employee No", "email": "Work Email", "completed_at": "Finished"})
    assert report.created == 1 and enrollment("E7").learner.email == "e7@example.com"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\r\n\r\n", "the file is empty"),
        (b"PK\x03\x04rest-of-a-zip", "spreadsheet"),
        (b"email,name\na@example.com,Ann\n", "no learner id column"),
    ],
)
def test_unusable_files_are_refused_whole(course, data, message):
    with pytest.raises(FileError, match=message):
        run_import(data)


def test_header_only_file_imports_nothing(course):
    report = run_import(b"learner_id,email,name,course,completed_at\r\n")
    assert (report.read, report.rejected) == (0, 0)


def test_single_course_exports_need_the_course(course):
    with pytest.raises(FileError, match="--course"):
        run_import(FIXTURES / "moodle_completion.csv")


def test_email_change_updates_the_same_learner_and_keeps_history(course, run_on_commit, mailoutbox):
    run_import(FIXTURES / "generic.csv")
    changed = (FIXTURES / "generic.csv").read_text().replace("ada@example.com", "ada@newmail.example")
    run_import(changed.encode())
    ada = Learner.objects.get(external_id="L-001")
    assert ada.email == "ada@newmail.example"
    assert list(ada.email_changes.values_list("old_email", "new_email")) == [("ada@example.com", "ada@newmail.example")]


@pytest.mark.django_db(transaction=True)  # the command runs in its own process and must see the course
def test_command_exit_codes_summary_and_errors_file(course, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes((FIXTURES / "generic.csv").read_bytes())
    bad = tmp_path / "bad.csv"
    bad.write_text("learner_id,email,name,course,completed_at\nu1,a@example.com,Ann,nope,2026-11-20\n")
    env_python = [sys.executable, "manage.py", "import_completions"]

    def run(*args):
        return subprocess.run([*env_python, *args], cwd=ROOT, capture_output=True, text=True, env=_env())

    first = run(str(good))
    assert first.returncode == 0, first.stderr
    assert (
        "2 rows read (generic, utf-8): 2 created, 0 updated, 0 unchanged, 0 rejected, 2 certificates queued"
        in first.stdout
    )
    second = run(str(bad), "--errors", str(tmp_path / "errors.csv"))
    assert second.returncode == 1 and "line 2: unknown course nope" in second.stderr
    assert (tmp_path / "errors.csv").exists()
    missing = run(str(tmp_path / "missing.csv"))
    assert missing.returncode == 2 and "cannot open" in missing.stderr
    polish = tmp_path / "polish.csv"
    polish.write_bytes(
        "learner_id,email,name,course,completed_at\np1,p@example.com,Łukasz Żółć,intro-django,2026-11-20\n".encode(
            "cp1250"
        )
    )
    assert run(str(polish), "--encoding", "cp1250").returncode == 0
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert run(str(empty)).returncode == 2
    assert Learner.objects.get(external_id="p1").full_name == "Łukasz Żółć"


def _env():
    import os

    from django.db import connection

    db = connection.settings_dict
    url = (
        f"sqlite:///{db['NAME']}"
        if connection.vendor == "sqlite"
        else (f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}")
    )
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test", "Q_SYNC": "1"}


def test_drop_folder_imports_each_file_once(course, tmp_path, settings):
    import os
    import time

    settings.COMPLETIONS_IMPORT_DIR = str(tmp_path)
    (tmp_path / "tuesday.csv").write_bytes((FIXTURES / "generic.csv").read_bytes())
    (tmp_path / "uploading.csv").write_bytes(b"learner_id,email")  # still being written: left alone
    old = time.time() - 600
    os.utime(tmp_path / "tuesday.csv", (old, old))
    from learners.tasks import completions_import_drop_folder_task

    [(name, summary)] = completions_import_drop_folder_task()
    assert name == "tuesday.csv" and "2 created" in summary
    assert completions_import_drop_folder_task() == []  # nothing left to take
    processed = sorted(p.name for p in (tmp_path / "processed").iterdir())
    assert any(p.endswith("tuesday.csv") for p in processed)
    assert any(p.endswith("tuesday.csv.report.txt") for p in processed)
    assert Enrollment.objects.count() == 2


def test_bulk_import_queues_issuance_in_batches_not_per_row(course, run_on_commit, mailoutbox):
    header = "learner_id,email,name,course,completed_at\n"
    data = (header + "".join(f"b{i},b{i}@example.com,B {i},intro-django,2026-11-20\n" for i in range(250))).encode()
    with mock.patch("certificates.services.handoff.async_task") as enqueue, run_on_commit():
        run_import(data)
    assert [call.args[0] for call in enqueue.call_args_list] == ["certificates.tasks.certificate_issue_batch_task"] * 3
    assert sum(len(call.args[1]) for call in enqueue.call_args_list) == 250


def test_a_batch_that_collides_with_a_concurrent_writer_is_redone_row_by_row(course, run_on_commit, mailoutbox):
    from django.db import IntegrityError

    real = imports._ingest_batch
    calls = {"n": 0}

    def collides_once(records, **kwargs):
        calls["n"] += 1
        result = real(records, **kwargs)
        if calls["n"] == 1:
            raise IntegrityError("duplicate key value violates unique constraint")  # after writing: rolled back
        return result

    with mock.patch.object(imports, "_ingest_batch", collides_once), run_on_commit():
        report = run_import(FIXTURES / "generic.csv")
    assert (report.created, report.rejected, report.queued) == (2, 0, 2)
    assert Enrollment.objects.count() == 2 and len(mailoutbox) == 2


def test_duplicate_rows_in_one_file_count_once(course):
    row = "dup,d@example.com,Dee Dup,intro-django,2026-11-20,80\n"
    report = run_import(("learner_id,email,name,course,completed_at,score\n" + row + row).encode())
    assert (report.created, report.unchanged) == (1, 1)
    assert Enrollment.objects.count() == 1


def test_drop_folder_reports_unusable_files_and_puts_back_abandoned_claims(course, tmp_path, settings):
    import os
    import time

    from learners.tasks import completions_import_drop_folder_task

    settings.COMPLETIONS_IMPORT_DIR = str(tmp_path)
    old = time.time() - 7200
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "processing").mkdir()
    abandoned = tmp_path / "processing" / "20261120T020000-monday.csv"
    abandoned.write_bytes((FIXTURES / "generic.csv").read_bytes())  # a worker died importing it
    for path in (tmp_path / "empty.csv", abandoned):
        os.utime(path, (old, old))
    results = dict(completions_import_drop_folder_task())
    assert results["empty.csv"] == "file not imported: the file is empty"
    assert "2 created" in results["monday.csv"]
    assert any(p.name.endswith("empty.csv.report.txt") for p in (tmp_path / "failed").iterdir())


def test_a_windows_1252_line_far_into_the_file_is_read_as_windows_1252(course):
    header = "learner_id,email,name,course,completed_at\n"
    ascii_rows = "".join(f"a{i},a{i}@example.com,Plain Name {i},intro-django,2026-11-20\n" for i in range(2000))
    data = (header + ascii_rows).encode("ascii") + "late,l@example.com,José Niño,intro-django,2026-11-20\n".encode(
        "cp1252"
    )
    assert len(data) > 64 * 1024
    report = run_import(data)
    assert (report.created, report.rejected, report.windows_1252_lines) == (2001, 0, 1)
    assert enrollment("late").learner.full_name == "José Niño"
    assert "1 line read as Windows-1252" in report.summary()


def test_a_file_mixing_utf8_and_windows_1252_rows_is_read_per_line_without_mojibake(course):
    header = b"learner_id,email,name,course,completed_at\n"
    utf8 = "u1,zoe@example.com,Zoë Ångström,intro-django,2026-11-20\n".encode()
    cp1252 = "c1,jose@example.com,José Niño,intro-django,2026-11-20\n".encode("cp1252")
    more_utf8 = "u2,li@example.com,李小龙 Łukasz,intro-django,2026-11-20\n".encode()
    report = run_import(header + utf8 + cp1252 + more_utf8)
    assert (report.created, report.rejected, report.windows_1252_lines) == (3, 0, 1)
    names = {key: enrollment(key).learner.full_name for key in ("u1", "c1", "u2")}
    assert names == {"u1": "Zoë Ångström", "c1": "José Niño", "u2": "李小龙 Łukasz"}


def test_one_undecodable_byte_rejects_its_line_and_the_rest_imports(course, tmp_path):
    header = b"learner_id,email,name,course,completed_at\n"
    good = [f"g{i},g{i}@example.com,Name {i},intro-django,2026-11-20\n".encode() for i in range(1000)]
    broken = b"bad,bad@example.com,Br\x81oken,intro-django,2026-11-20\n"  # 0x81: neither UTF-8 nor cp1252
    errors_path = tmp_path / "rejected.csv"
    report = run_import(header + b"".join([*good[:500], broken, *good[500:]]), errors_path=errors_path)
    assert (report.created, report.rejected) == (1000, 1)
    line, reason = report.rejections[0]
    assert line == 2 + 500 and reason == "line 502: byte 0x81 at position 23 is neither UTF-8 nor Windows-1252"
    assert not Learner.objects.filter(external_id="bad").exists()
    assert "0x81" in errors_path.read_text(encoding="utf-8")


def test_a_quote_never_closed_refuses_the_file_and_imports_nothing(course):
    rows = "".join(f"q{i},q{i}@example.com,Name {i},intro-django,2026-11-20\n" for i in range(100))
    data = (
        "learner_id,email,name,course,completed_at\n" + 'q-x,x@example.com,"Broken,intro-django,2026-11-20\n' + rows
    ).encode()
    with pytest.raises(FileError, match="line 2: a quoted cell runs over"):
        run_import(data)
    assert not Learner.objects.exists()


def test_a_new_learner_twice_in_one_batch_keeps_its_email_history(course):
    data = (
        b"learner_id,email,name,course,completed_at\n"
        b"twice,old@example.com,Tw Ice,intro-django,2026-11-20\n"
        b"twice,new@example.com,Tw Ice,intro-django,2026-11-20\n"
    )
    run_import(data)
    learner = Learner.objects.get(external_id="twice")
    assert learner.email == "new@example.com"
    assert list(learner.email_changes.values_list("old_email", "new_email")) == [("old@example.com", "new@example.com")]


def test_too_long_values_and_unsluggable_new_courses_are_rejected_rows_not_crashes(course):
    data = (
        "learner_id,email,name,course,completed_at\n"
        f"{'x' * 201},a@example.com,Ann,intro-django,2026-11-20\n"
        "u2,b@example.com,Bo,日本語,2026-11-20\n"
        "u3,c@example.com,Cy,intro-django,2026-11-20\n"
    ).encode()
    report = run_import(data, create_courses=True)
    assert report.rejections == [(2, "learner id longer than 200 characters"), (3, "unknown course 日本語")]
    assert report.created == 1


@pytest.mark.parametrize("status", ["In Progress", "in-progress", "IN_PROGRESS", "Not Started", "Enrolled", "Started"])
def test_learners_who_have_not_finished_are_recorded_and_counted_not_rejected(course, status):
    header = "learner_id,email,name,course,status,completed_at\n"
    rows = "w1,w1@example.com,Wanda One,intro-django,Completed,2026-11-20\n" + "".join(
        f"p{i},p{i}@example.com,Pat {i},intro-django,{status},\n" for i in range(5)
    )
    report = run_import((header + rows).encode())
    assert (report.created, report.rejected, report.not_finished, report.queued) == (6, 0, 5, 1)
    assert "5 not finished yet (recorded, no certificate)" in report.summary()
    assert enrollment("p0").completed_at is None


def test_every_problem_of_a_row_is_reported_and_bad_rows_name_their_line(course):
    header = "learner_id,email,name,course,completed_at,score\n"
    rows = (
        "ok1,ok1@example.com,Ana Lima,intro-django,2026-11-20,88\n"
        ",not-an-email,Bo,intro-django,2026-02-31,140\n"  # no id, bad email, 31 February, score over 100
        "short,short@example.com,Cy\n"  # missing fields
        "long,long@example.com,Di,intro-django,2026-11-20,90,surplus\n"  # an extra field
    )
    report = run_import((header + rows).encode())
    assert (report.created, report.rejected) == (1, 3)
    reasons = dict(report.rejections)
    assert set(reasons) == {3, 4, 5}
    for expected in ("missing learner id", "invalid email 'not-an-email'", "'2026-02-31'", "score out of range"):
        assert expected in reasons[3]
    assert reasons[4] == "fewer cells (3) than header columns (6)"
    assert reasons[5] == "more cells (7) than header columns (6)"


def test_a_finisher_with_an_invalid_address_is_imported_and_held_for_staff_not_dropped(course, run_on_commit):
    header = "learner_id,email,name,course,completed_at\n"
    rows = (
        "ok,ok@example.com,Ana Lima,intro-django,2026-11-20\n"
        "bad,ana at example dot com,Bea Lima,intro-django,2026-11-20\n"
    )
    with run_on_commit():
        report = run_import((header + rows).encode())
    assert (report.created, report.rejected, report.held) == (2, 0, 1)
    assert report.held_rows == [(3, "invalid email 'ana at example dot com'")]
    assert "1 imported and held for staff review" in report.summary()
    held = Certificate.objects.get(enrollment=enrollment("bad"))
    assert held.pipeline_state == "held" and "email address is not valid" in held.state_reason
    assert Certificate.objects.get(enrollment=enrollment("ok")).pipeline_state != "held"


def test_a_short_shift_jis_export_is_read_as_shift_jis_not_as_windows_1252(course):
    text = "learner_id,email,name,course,completed_at\n" + "".join(
        f"j{i},j{i}@example.jp,{name},intro-django,2026-11-20\n"
        for i, name in enumerate(["山田太郎", "佐藤花子", "鈴木一郎"])
    )
    report = run_import(text.encode("cp932"))
    assert (report.created, report.rejected) == (3, 0)
    assert enrollment("j0").learner.full_name == "山田太郎"


def test_a_status_that_is_not_finished_never_erases_a_completion_already_recorded(course):
    header = "learner_id,email,name,course,status,completed_at\n"
    run_import((header + "x1,x1@example.com,Xu Li,intro-django,Completed,2026-11-20\n").encode())
    completed = enrollment("x1").completed_at
    run_import((header + "x1,x1@example.com,Xu Li,intro-django,Expired,\n").encode())
    assert enrollment("x1").completed_at == completed


def test_a_typo_in_the_address_never_replaces_one_that_works(course):
    header = "learner_id,email,name,course,completed_at\n"
    run_import((header + "t1,tess@example.com,Tess Ong,intro-django,2026-11-20\n").encode())
    run_import((header + "t1,tess at example.com,Tess Ong,intro-django,2026-11-20\n").encode())
    assert enrollment("t1").learner.email == "tess@example.com"


def test_a_trailing_empty_header_column_does_not_reject_every_row(course):
    report = run_import(b"learner_id,email,name,course,completed_at,\nz1,z@example.com,Zed,intro-django,2026-11-20\n")
    assert (report.created, report.rejected) == (1, 0)


def test_an_undecodable_header_refuses_the_file_rather_than_misname_a_column(course):
    with pytest.raises(FileError, match="line 1 \\(the header\\): byte 0x81"):
        run_import(
            b"learner_id,email,name,course,completed_at,Abteilung\x81\nz1,z@example.com,Zed,intro-django,2026-11-20,V\n"
        )


def test_a_named_encoding_is_checked_over_the_whole_file_so_nothing_is_half_imported(course):
    header = b"learner_id,email,name,course,completed_at\n"
    rows = b"".join(f"n{i},n{i}@example.com,Name {i},intro-django,2026-11-20\n".encode() for i in range(3000))
    broken = b"bad,bad@example.com,Br\x81oken,intro-django,2026-11-20\n"  # 0x81: not Windows-1252
    with pytest.raises(FileError, match="not valid cp1252"):
        run_import(header + rows + broken, encoding="cp1252")
    assert not Learner.objects.exists()
