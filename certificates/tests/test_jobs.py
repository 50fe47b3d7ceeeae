"""Bulk work from the desk: a course reissued after a confirmation page, in the background, with a
progress page that survives a worker dying; a ZIP of a course's PDFs; a formula-safe CSV."""

import csv
import hashlib
import importlib
import io
import zipfile
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates import pdf, signing
from certificates.models import (
    Certificate,
    CertificateVersion,
    Credential,
    ItemOutcome,
    JobState,
    Pipeline,
    StaffJob,
    StaffJobItem,
    VersionReason,
)
from certificates.services import jobs, lifecycle
from certificates.tests.factories import issued_certificate, staff_member
from courses.models import Course
from courses.tests.factories import CourseFactory
from delivery.models import Delivery
from learners.models import Enrollment, Learner

pytestmark = pytest.mark.django_db


def _member(group: str, username: str):
    return staff_member(group, username)


@pytest.fixture
def admin_user_():
    return _member("admin", "ada-admin")


@pytest.fixture
def admin_client_(client, admin_user_):
    client.force_login(admin_user_)
    return client


def _course_with_certificates(run_on_commit, n: int = 3, **course_fields):
    course = CourseFactory(title="Intro to Djngo", **course_fields)
    certificates = [issued_certificate(run_on_commit, course=course) for _ in range(n)]
    Course.objects.filter(pk=course.pk).update(title="Intro to Django")  # the typo fixed
    return course, certificates


def test_confirmation_page_counts_and_shows_before_and_after(admin_client_, run_on_commit):
    course, certificates = _course_with_certificates(run_on_commit)
    lifecycle.certificate_revoke(certificate_id=certificates[0].pk, by=None, reason="fraud")
    page = admin_client_.get(reverse("admin:certificates_reissue_course", args=[course.pk]))
    preview = page.context["preview"]
    assert (preview.total, preview.changing, preview.unchanged, len(preview.refused)) == (3, 2, 0, 1)
    html = page.content.decode()
    assert "Intro to Djngo" in html and "Intro to Django" in html and "Reissue 2 certificates" in html
    assert not StaffJob.objects.exists()  # looking changes nothing


def test_starting_a_course_reissue_does_no_reissue_in_the_request(
    admin_client_, run_on_commit, django_capture_on_commit_callbacks, mailoutbox
):
    course, certificates = _course_with_certificates(run_on_commit)
    mailoutbox.clear()
    url = reverse("admin:certificates_reissue_course", args=[course.pk])
    assert admin_client_.post(url, {"confirm": "1", "note": ""}).status_code == 200
    assert not StaffJob.objects.exists()  # no note, no job

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client_.post(url, {"confirm": "1", "note": "course title typo"})
    job = StaffJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/change/")
    assert CertificateVersion.objects.filter(number=2).count() == 0  # nothing done in the request
    assert len(callbacks) >= 1 and len(queries) < 40

    with run_on_commit():
        for callback in callbacks:
            callback()
    job.refresh_from_db()
    assert job.state == JobState.FINISHED and job.total == 3
    for certificate in certificates:
        current = Certificate.objects.get(pk=certificate.pk).current_version
        assert (current.number, current.course_title, current.note) == (2, "Intro to Django", "course title typo")
    assert sorted(m.to[0].split("<")[-1].rstrip(">") for m in mailoutbox) == sorted(
        c.enrollment.learner.email for c in certificates
    )

    page = admin_client_.get(reverse("admin:certificates_staffjob_change", args=[job.pk]))
    assert page.context["done"] == 3 and "3 / 3" in page.content.decode()


def test_support_cannot_reissue_a_course_or_export(client, run_on_commit):
    course, _ = _course_with_certificates(run_on_commit, n=1)
    client.force_login(_member("support", "sam"))
    for name in ("certificates_reissue_course", "certificates_export_zip", "certificates_export_csv"):
        assert client.get(reverse(f"admin:{name}", args=[course.pk])).status_code == 403
    course_page = client.get(reverse("admin:courses_course_change", args=[course.pk])).content.decode()
    assert "Reissue all its certificates" not in course_page


def test_a_job_survives_its_worker_dying_and_nothing_is_done_twice(admin_user_, run_on_commit, mailoutbox):
    course, certificates = _course_with_certificates(run_on_commit, n=5)
    mailoutbox.clear()
    with mock.patch.object(jobs, "enqueue_after_commit"):  # the queue loses the job's tasks
        job = jobs.reissue_job_start(
            certificate_ids=[c.pk for c in certificates], note="typo", by=admin_user_, course_id=course.pk
        )
    claimed = jobs._claim(job.pk)  # a worker claims a batch, then dies before doing it
    assert len(claimed) == 5
    assert jobs.staff_jobs_sweep(stuck_after=3600) == {"job_items_released": 0, "jobs_nudged": 0}

    with run_on_commit():
        counts = jobs.staff_jobs_sweep(stuck_after=-1)  # later: the claims are old, the job has waited
    assert counts == {"job_items_released": 5, "jobs_nudged": 1}
    job.refresh_from_db()
    assert job.state == JobState.FINISHED
    assert StaffJobItem.objects.filter(job=job, outcome=ItemOutcome.REISSUED).count() == 5
    with run_on_commit():  # a second run, and the sweep again: nothing more happens
        assert jobs.staff_job_work(job_id=job.pk) == 0
        jobs.staff_jobs_sweep(stuck_after=-1)
    assert CertificateVersion.objects.filter(certificate__in=certificates).count() == 10
    assert len(mailoutbox) == 5


def test_certificates_that_cannot_be_reissued_are_reported_not_lost(admin_client_, admin_user_, run_on_commit):
    course, certificates = _course_with_certificates(run_on_commit, n=3)
    lifecycle.certificate_revoke(certificate_id=certificates[0].pk, by=None, reason="fraud")
    with run_on_commit():
        job = jobs.reissue_job_start(
            certificate_ids=[c.pk for c in certificates], note="typo", by=admin_user_, course_id=course.pk
        )
    outcomes = dict(StaffJobItem.objects.filter(job=job).values_list("certificate_id", "outcome"))
    assert outcomes[certificates[0].pk] == ItemOutcome.FAILED
    page = admin_client_.get(reverse("admin:certificates_staffjob_change", args=[job.pk])).content.decode()
    assert certificates[0].display_code in page and "revoked" in page


def test_reissue_selected_from_the_certificate_list_confirms_first(admin_client_, run_on_commit):
    _course, certificates = _course_with_certificates(run_on_commit, n=2)
    changelist = reverse("admin:certificates_certificate_changelist")
    selected = {"action": "reissue", "_selected_action": [c.pk for c in certificates]}
    page = admin_client_.post(changelist, selected)
    assert page.status_code == 200 and page.context["preview"].changing == 2
    with run_on_commit():
        response = admin_client_.post(changelist, {**selected, "confirm": "1", "note": "renamed"})
    assert response.status_code == 302
    job = StaffJob.objects.get()
    assert (job.state, job.reason) == (JobState.FINISHED, VersionReason.BULK_REISSUE)


def test_zip_of_a_course_is_built_in_the_background_and_downloaded(admin_client_, run_on_commit):
    course, certificates = _course_with_certificates(run_on_commit, n=2)
    url = reverse("admin:certificates_export_zip", args=[course.pk])
    assert "2 issued certificates" in admin_client_.get(url).content.decode()  # a link only asks
    assert not StaffJob.objects.exists()
    with run_on_commit():
        response = admin_client_.post(url)
    job = StaffJob.objects.get()
    assert response["Location"].endswith(f"/{job.pk}/change/") and job.state == JobState.FINISHED
    download = admin_client_.get(reverse("admin:certificates_staffjob_download", args=[job.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = sorted(archive.namelist())
    assert names == sorted([f"{c.display_code}-v1.pdf" for c in certificates] + ["index.csv"])
    version = certificates[0].current_version
    data = archive.read(f"{certificates[0].display_code}-v1.pdf")
    assert data.startswith(b"%PDF-") and hashlib.sha256(data).hexdigest() == version.pdf_sha256


def test_csv_export_is_formula_safe(admin_client_, run_on_commit):
    course = CourseFactory(slug="sheets")
    issued_certificate(run_on_commit, course=course, full_name="=HYPERLINK(evil)")
    response = admin_client_.get(reverse("admin:certificates_export_csv", args=[course.pk]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["holder_name"] == "'=HYPERLINK(evil)"
    assert response["Content-Disposition"].startswith('attachment; filename="sheets-certificates-')


def test_the_changelists_csv_export_action_exports_the_selection(admin_client_, run_on_commit):
    chosen, other = issued_certificate(run_on_commit), issued_certificate(run_on_commit)
    held = issued_certificate(run_on_commit, email="broken")
    response = admin_client_.post(
        reverse("admin:certificates_certificate_changelist"),
        {"action": "export_csv", "_selected_action": [chosen.pk, held.pk]},
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["code"], row["status"]) for row in rows] == [
        (chosen.display_code, "emailed"),
        (held.display_code, "held"),
    ]
    assert other.display_code not in {row["code"] for row in rows}


# -- a bulk reissue at scale ---------------------------------------------------------------------------


def _fast_renderer():
    """The renderer is not what this test is about: a stand-in makes distinct bytes per content."""
    render = mock.patch.object(
        pdf, "render_pdf", side_effect=lambda content, design, template=None: b"%PDF-1.4 " + repr(content).encode()
    )
    png = mock.patch.object(pdf, "render_preview_png", return_value=b"\x89PNG stand-in")
    sign = mock.patch.object(signing, "sign_pdf", side_effect=lambda data: data)  # the stand-in is no PDF
    return render, png, sign


def _emailed_certificates(n: int) -> tuple[Course, list[int]]:
    """n certificates as the pipeline leaves them (issued, rendered, emailed), written in bulk."""
    now = timezone.now()
    course = CourseFactory(title="Old title")
    learners = Learner.objects.bulk_create(
        [
            Learner(external_id=f"bulk-{i}", full_name=f"Bulk Learner {i}", email=f"bulk{i}@example.com")
            for i in range(n)
        ]
    )
    enrollments = Enrollment.objects.bulk_create(
        [Enrollment(learner=learner, course=course, completed_at=now, decision="eligible") for learner in learners]
    )
    from certificates import codes

    certificates = Certificate.objects.bulk_create(
        [
            Certificate(
                enrollment=enrollment,
                code=codes.new_code(),
                pipeline_state=Pipeline.EMAILED,
                issued_at=now,
                emailed_at=now,
            )
            for enrollment in enrollments
        ]
    )
    from certificates.services.snapshot import snapshot_of

    versions = []
    for certificate, enrollment in zip(certificates, enrollments, strict=True):
        snapshot, _ = snapshot_of(enrollment)
        versions.append(
            CertificateVersion(
                certificate=certificate,
                number=1,
                issued_at=now,
                rendered_at=now,
                pdf_sha256=hashlib.sha256(certificate.code.encode()).hexdigest(),
                **snapshot,
            )
        )
    CertificateVersion.objects.bulk_create(versions)
    Delivery.objects.bulk_create(
        [
            Delivery(
                composer="certificate", reference=str(v.pk), recipient=v.recipient_email, status="sent", sent_at=now
            )
            for v in versions
        ]
    )
    Course.objects.filter(pk=course.pk).update(title="New title")
    return course, [c.pk for c in certificates]


def test_bulk_reissue_gives_each_certificate_one_new_version_and_each_learner_one_notice(
    admin_client_, client, run_on_commit, django_capture_on_commit_callbacks, mailoutbox
):
    n = 60  # 2,000 with four worker threads on PostgreSQL: the next test
    course, ids = _emailed_certificates(n)
    url = reverse("admin:certificates_reissue_course", args=[course.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client_.post(url, {"confirm": "1", "note": "course renamed"})
    assert response.status_code == 302 and len(queries) < 40  # the same few queries for 60 or 2,000
    assert not CertificateVersion.objects.filter(number=2).exists()

    render, png, sign = _fast_renderer()
    with render, png, sign, run_on_commit():
        for callback in callbacks:  # the workers
            callback()

    _assert_one_new_version_each(client, ids, mailoutbox)


def _assert_one_new_version_each(client, ids: list[int], mailoutbox) -> None:
    n = len(ids)
    job = StaffJob.objects.get()
    assert job.state == JobState.FINISHED
    assert StaffJobItem.objects.filter(job=job, outcome=ItemOutcome.REISSUED).count() == n
    assert CertificateVersion.objects.filter(certificate_id__in=ids, number=2, is_current=True).count() == n
    assert CertificateVersion.objects.filter(certificate_id__in=ids).count() == 2 * n  # exactly one new each
    assert CertificateVersion.objects.filter(certificate_id__in=ids, number=1, superseded_at__isnull=False).count() == n
    assert Certificate.objects.filter(pk__in=ids, pipeline_state=Pipeline.EMAILED).count() == n
    recipients = [m.to[0] for m in mailoutbox]
    assert len(recipients) == n and len(set(recipients)) == n  # one notice per learner
    old = Certificate.objects.get(pk=ids[0])
    page = client.get(f"/verify/{old.display_code}/v1/")
    assert page.status_code == 200 and "Superseded" in page.content.decode()
    assert old.credential_state == Credential.ACTIVE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_2000_certificates_reissued_by_four_workers_at_once(client, mailoutbox):
    """The Friday-afternoon case: a course renamed after 2,000 learners finished. The request only
    writes the job; four workers (threads with their own connections) share it by SKIP LOCKED."""
    if connection.vendor != "postgresql":
        pytest.skip("four workers sharing a job is tested on PostgreSQL (SQLite serialises all writers)")
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    admin = _member("admin", "ada-admin")
    client.force_login(admin)
    course, ids = _emailed_certificates(2000)
    queued = []
    with mock.patch.object(jobs, "enqueue_after_commit", side_effect=lambda task, *args, **kw: queued.append(args)):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                reverse("admin:certificates_reissue_course", args=[course.pk]), {"confirm": "1", "note": "renamed"}
            )
    assert response.status_code == 302 and len(queries) < 40 and len(queued) == jobs.RUNNERS
    assert not CertificateVersion.objects.filter(number=2).exists()

    def run_inline(task: str, *args, **options):
        # The task itself, in the worker's thread: the same code a django-q2 worker runs, without the
        # sync-mode queue machinery (a new connection and queue per task) that would dominate here.
        module, name = task.rsplit(".", 1)
        return getattr(importlib.import_module(module), name)(*args)

    def worker(job_id: int) -> int:
        try:
            return jobs.staff_job_work(job_id=job_id)
        finally:
            connections.close_all()

    render, png, sign = _fast_renderer()
    inline = [
        mock.patch(f"{module}.async_task", run_inline)
        for module in ("certificates.services.handoff", "delivery.services.requests")
    ]
    with render, png, sign, inline[0], inline[1], ThreadPoolExecutor(max_workers=jobs.RUNNERS) as pool:
        done = list(pool.map(worker, [args[0] for args in queued]))
    # Every worker took a share; a task that used up its time slice queued its continuation, which
    # ran as the next task in the same thread.
    assert all(count > 0 for count in done)
    _assert_one_new_version_each(client, ids, mailoutbox)


def test_a_worker_stops_after_its_time_slice_and_queues_the_rest(admin_user_, run_on_commit):
    course, certificates = _course_with_certificates(run_on_commit, n=3)
    with mock.patch.object(jobs, "enqueue_after_commit"):
        job = jobs.reissue_job_start(
            certificate_ids=[c.pk for c in certificates], note="typo", by=admin_user_, course_id=course.pk
        )
    with mock.patch.object(jobs, "CLAIM_BATCH", 1), mock.patch.object(jobs, "enqueue_after_commit") as queued:
        assert jobs.staff_job_work(job_id=job.pk, slice_seconds=0) == 0  # no time at all: nothing claimed
        queued.assert_called_once_with("certificates.tasks.staff_job_work_task", job.pk)
    with run_on_commit():
        jobs.staff_job_work(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FINISHED


def test_an_item_given_back_meanwhile_is_not_done_twice(admin_user_, run_on_commit):
    course, certificates = _course_with_certificates(run_on_commit, n=1)
    with mock.patch.object(jobs, "enqueue_after_commit"):
        job = jobs.reissue_job_start(certificate_ids=[certificates[0].pk], note="typo", by=admin_user_)
    [item] = jobs._claim(job.pk)
    jobs.staff_jobs_sweep(stuck_after=-1)  # the sweep thinks this worker died; another claims it
    [again] = jobs._claim(job.pk)
    jobs._reissue_item(job, item)  # the first worker wakes up: its claim is gone, its reissue rolls back
    assert not CertificateVersion.objects.filter(number=2).exists()
    jobs._reissue_item(job, again)
    assert CertificateVersion.objects.filter(number=2).count() == 1
    assert StaffJobItem.objects.get(pk=item.pk).outcome == ItemOutcome.REISSUED


def test_a_zip_that_never_finishes_is_marked_failed(admin_user_, run_on_commit):
    course, _ = _course_with_certificates(run_on_commit, n=1)
    with mock.patch.object(jobs, "enqueue_after_commit"):
        job = jobs.export_zip_start(course_id=course.pk, by=admin_user_)
    StaffJob.objects.filter(pk=job.pk).update(attempts=jobs.ZIP_ATTEMPTS)  # killed each time before
    assert jobs.export_zip_build(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "gave up" in job.error
