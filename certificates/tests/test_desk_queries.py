"""Every admin page that lists things runs the same number of queries for 10 rows and for 1,000."""

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates import codes
from certificates.models import Case, CaseKind, Certificate, CertificateEvent, CertificateVersion, Pipeline
from certificates.tests.factories import staff_member
from courses.tests.factories import CourseFactory
from delivery.models import Delivery, DeliveryStatus
from learners.models import Enrollment, Learner

pytestmark = pytest.mark.django_db

LISTS = [
    "certificates_certificate",
    "certificates_heldcertificate",
    "certificates_reviewcertificate",
    "certificates_case",
    "certificates_namecorrection",
    "certificates_deliveryproblem",
    "certificates_certificateevent",
    "learners_learner",
    "learners_enrollment",
    "delivery_delivery",
]


def _rows(n: int, start: int) -> None:
    """n learners, each with an emailed certificate, a held one, a case, a bounced email and events."""
    now = timezone.now()
    course, review = CourseFactory(), CourseFactory(manual_review=True)
    learners = Learner.objects.bulk_create(
        [
            Learner(external_id=f"q-{start + i}", full_name=f"Zoë Müller {i}", email=f"q{start + i}@example.com")
            for i in range(n)
        ]
    )
    for learner in learners:
        learner.search_text = learner.search_key
    Learner.objects.bulk_update(learners, ["search_text"])
    done = Enrollment.objects.bulk_create(
        [Enrollment(learner=learner, course=course, completed_at=now, decision="eligible") for learner in learners]
    )
    held = Enrollment.objects.bulk_create(
        [Enrollment(learner=learner, course=review, completed_at=now, decision="needs_review") for learner in learners]
    )
    issued = Certificate.objects.bulk_create(
        [
            Certificate(
                enrollment=e, code=codes.new_code(), pipeline_state=Pipeline.EMAILED, issued_at=now, emailed_at=now
            )
            for e in done
        ]
    )
    Certificate.objects.bulk_create(
        [
            Certificate(
                enrollment=e, code=codes.new_code(), pipeline_state=Pipeline.HELD, state_reason="awaiting review"
            )
            for e in held
        ]
        + [
            Certificate(
                enrollment=Enrollment.objects.create(learner=learner, course=CourseFactory(), completed_at=now),
                code=codes.new_code(),
                pipeline_state=Pipeline.HELD,
                state_reason="name has characters the certificate fonts cannot print: U+E000 (a private-use character)",
            )
            for learner in learners[:3]
        ]
    )
    versions = CertificateVersion.objects.bulk_create(
        [
            CertificateVersion(
                certificate=c,
                number=1,
                issued_at=now,
                holder_name="Zoë Müller",
                recipient_email="q@example.com",
                course_title="Course",
                organisation_name="Org",
                template_family="completion",
                completed_at=now,
                issued_on=now.date(),
                rendered_at=now,
                pdf_sha256=hashlib.sha256(c.code.encode()).hexdigest(),
            )
            for c in issued
        ]
    )
    Delivery.objects.bulk_create(
        [
            Delivery(
                composer="certificate",
                reference=str(v.pk),
                recipient=v.recipient_email,
                status=DeliveryStatus.SENT,
                sent_at=now,
                tracking_status="bounced",
                last_error="mailbox unknown",
            )
            for v in versions
        ]
    )
    CertificateEvent.objects.bulk_create(
        [CertificateEvent(certificate=c, kind="issued", to_state="issued") for c in issued]
    )
    Case.objects.bulk_create(
        [
            Case(
                kind=CaseKind.NAME_CORRECTION, learner=c.enrollment.learner, certificate=c, requested_name="Zoe Muller"
            )
            for c in issued
        ]
    )


def _queries(client, name: str, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(f"admin:{name}_changelist"), params)
    assert response.status_code == 200, name
    return len(captured)


@pytest.mark.parametrize("name", LISTS)
def test_list_pages_run_a_fixed_number_of_queries(client, name):
    client.force_login(staff_member("admin", "q-admin"))
    _rows(10, 0)
    small = _queries(client, name)
    searched_small = _queries(client, name, q="zoe muller")
    _rows(990, 10)
    assert _queries(client, name) == small
    assert _queries(client, name, q="zoe muller") == searched_small
