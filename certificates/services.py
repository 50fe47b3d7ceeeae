"""Writes for certificates: issue, render, email, approve, revoke, sweep.

Every step is idempotent and guarded by the certificate's status, so a task that runs twice, or two
workers racing, change nothing the second time. Work is enqueued only after commit.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from datetime import timedelta
from decimal import Decimal
from functools import partial

from anymail.exceptions import AnymailInvalidAddress, AnymailRecipientsRefused
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django_q.tasks import async_task

from courses import rules
from courses.models import Course
from learners.models import Decision, Enrollment, Learner
from learners.services import enrollment_record_decision
from verification import codes

from . import pdf
from .emails import build_certificate_email
from .errors import (
    ALREADY_REVOKED,
    NOT_HELD,
    CertificateAlreadyRevoked,
    CertificateError,
    CertificateNotHeld,
    CertificateStillHasProblems,
)
from .models import (
    VALID_STATUSES,
    Certificate,
    CertificateEvent,
    Delivery,
    DeliveryStatus,
    Purpose,
    Status,
    SuppressedAddress,
    TrackingEvent,
    pdf_upload_to,
    preview_upload_to,
)
from .ratelimit import rate_limiter

logger = logging.getLogger(__name__)

MISSING_NAME = "learner has no name to print"
INVALID_EMAIL = "learner's email address is not valid: {email!r}"
UNPRINTABLE_NAME = "name has characters the certificate fonts cannot print: {chars}"
UNPRINTABLE_TEXT = "{what} has characters the certificate fonts cannot print: {chars}"
BAD_CUSTOM_FIELDS = "{what} custom fields must be an object of label: value"
AWAITING_REVIEW = "awaiting manual review ({reason})"
ADDRESS_SUPPRESSED = "{email} {reason} earlier: not mailed again until the learner's email is corrected"
SEND_INTERRUPTED = "the worker stopped while sending; the email may or may not have gone out: check, then resend"

# Exceptions that mean "this address will never work": retrying would only annoy the provider.
PERMANENT_EMAIL_ERRORS = (AnymailInvalidAddress, AnymailRecipientsRefused, ValueError)  # ValueError: bad address


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        # 5xx is final; 4xx (mailbox busy, greylisting) is worth another try.
        return all(code >= 500 for code, _ in error.recipients.values()) if error.recipients else True
    return isinstance(error, PERMANENT_EMAIL_ERRORS)


def _enqueue_after_commit(task: str, *args: object) -> None:
    transaction.on_commit(partial(async_task, task, *args))


def _log(certificate: Certificate, kind: str, message: str = "", *, actor=None, **data: object) -> None:
    logger.info("certificate %s (%s): %s %s", certificate.display_code, certificate.holder_name, kind, message)
    CertificateEvent.objects.create(
        certificate=certificate,
        kind=kind,
        message=message[:500],
        actor=actor,
        actor_label=actor.get_username() if actor else "system",
        data=data,
    )


def _data_problems(*, holder_name: str, email: str) -> list[str]:
    problems = []
    if not holder_name:
        problems.append(MISSING_NAME)
    else:
        missing = pdf.uncovered_characters(holder_name)
        if missing:
            problems.append(UNPRINTABLE_NAME.format(chars=" ".join(missing)))
    try:
        validate_email(email)
    except ValidationError:
        problems.append(INVALID_EMAIL.format(email=email))
    return problems


def _printing_problems(snapshot: dict) -> list[str]:
    """Everything else the certificate prints must be printable too: a box anywhere is a defect."""
    texts = {
        "course title": snapshot["course_title"],
        "organisation name": snapshot["organisation_name"],
        "instructor name": snapshot["instructor_name"],
        "instructor title": snapshot["instructor_title"],
        "cohort": snapshot["cohort"],
        "custom fields": " ".join(f"{label} {value}" for label, value in snapshot["custom_fields"]),
        f"date of issue in locale {snapshot['locale']!r}": pdf.format_issue_date(
            snapshot["issued_on"], snapshot["locale"]
        ),
    }
    problems = []
    for what, value in texts.items():
        missing = pdf.uncovered_characters(value or "")
        if missing:
            problems.append(UNPRINTABLE_TEXT.format(what=what, chars=" ".join(missing)))
    return problems


def _cohort(enrollment: Enrollment) -> str:
    course = enrollment.course
    name = enrollment.cohort or course.cohort_name
    if not (course.cohort_start and course.cohort_end) or enrollment.cohort:
        return name
    locale = course.locale or course.organisation.locale
    dates = f"{pdf.format_issue_date(course.cohort_start, locale)} – {pdf.format_issue_date(course.cohort_end, locale)}"
    return f"{name}, {dates}" if name else dates


def _custom_fields(enrollment: Enrollment) -> list[list[str]]:
    """Course-level fields, then the learner's own (which win on the same label), as printable pairs."""
    for what, fields in (("course", enrollment.course.custom_fields), ("learner's", enrollment.custom_fields)):
        if fields and not isinstance(fields, dict):
            raise CustomFieldsInvalid(BAD_CUSTOM_FIELDS.format(what=what))
    merged = {**(enrollment.course.custom_fields or {}), **(enrollment.custom_fields or {})}
    pairs = []
    for label, value in merged.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(item) for item in value)
        if str(value).strip():
            pairs.append([str(label).strip(), str(value).strip()])
    return pairs


class CustomFieldsInvalid(CertificateError, ValueError):
    pass


def _snapshot(enrollment: Enrollment, *, custom_fields_valid: bool = True) -> dict[str, object]:
    """What a certificate prints, copied from the learner and course at this moment."""
    learner, course = enrollment.learner, enrollment.course
    organisation = course.organisation
    return {
        "holder_name": learner.certificate_name,
        "recipient_email": learner.email,
        "course_title": course.title,
        "instructor_name": course.instructor_name,
        "instructor_title": course.instructor_title,
        "organisation_name": organisation.name,
        "template_family": course.template_family,
        "completed_at": enrollment.completed_at,
        "issued_on": timezone.localdate(),
        "score": enrollment.score,
        "cohort": _cohort(enrollment),
        "custom_fields": _custom_fields(enrollment) if custom_fields_valid else [],
        "accent_color": course.accent_color or organisation.accent_color,
        "secondary_color": course.secondary_color or organisation.secondary_color,
        "page_size": course.page_size or organisation.page_size,
        "locale": course.locale or organisation.locale,
        "logo_path": organisation.logo.name or "",
        "signature_path": course.signature.name or "",
    }


@transaction.atomic
def certificate_issue_for_enrollment(*, enrollment_id: int) -> Certificate | None:
    """Apply the course's rule to a completion and issue (or hold) its certificate; safe to call twice.

    Returns the enrollment's current certificate, or None when the rule says it does not qualify.
    """
    # The row lock serialises concurrent completions of one enrollment; the partial unique
    # constraint on current certificates is the backstop.
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("learner", "course__organisation")
        .get(pk=enrollment_id)
    )
    course = enrollment.course
    decision = rules.evaluate(
        rule=course.issuance_rule,
        threshold=course.threshold,
        completed=enrollment.completed_at is not None,
        score=enrollment.score,
        attendance=enrollment.attendance,
    )
    # Recorded even when nothing changes below, so the sweep does not keep re-asking.
    enrollment_record_decision(enrollment_id=enrollment.pk, decision=decision)
    current = enrollment.certificates.current().first()
    if current is not None and current.status != Status.HELD:
        return current  # issued once, never twice
    if current is None and enrollment.certificates.filter(status=Status.REVOKED).exists():
        return None  # a revoked certificate stays revoked; only staff may issue again
    if decision.outcome == rules.Outcome.NOT_ELIGIBLE and current is None:
        return None

    try:
        snapshot = _snapshot(enrollment)
        problems = []
    except CustomFieldsInvalid as exc:  # held with the reason, not a crash for every completion
        snapshot = _snapshot(enrollment, custom_fields_valid=False)
        problems = [str(exc)]
    problems += _data_problems(holder_name=snapshot["holder_name"], email=snapshot["recipient_email"])
    problems += _printing_problems(snapshot)
    approved = current is not None and current.approved_at is not None
    if decision.outcome == rules.Outcome.NEEDS_REVIEW and not approved:
        problems.append(AWAITING_REVIEW.format(reason=decision.reason))
    elif decision.outcome == rules.Outcome.NOT_ELIGIBLE:
        problems.append(f"no longer eligible: {decision.reason}")
    reason = "; ".join(problems)
    status = Status.HELD if problems else Status.ISSUED
    issued_at = timezone.now() if status == Status.ISSUED else None

    if current is None:
        version = (enrollment.certificates.aggregate(last=Max("version"))["last"] or 0) + 1
        current = Certificate.objects.create(
            enrollment=enrollment,
            version=version,
            code=codes.new_code(),
            status=status,
            status_reason=reason,
            issued_at=issued_at,
            **snapshot,
        )
        _log(current, "held" if problems else "issued", reason or decision.reason)
    else:
        previous_reason = current.status_reason
        for field, value in snapshot.items():
            setattr(current, field, value)
        current.status, current.status_reason, current.issued_at = status, reason, issued_at
        current.attempts = 0
        current.save()
        if status == Status.ISSUED:
            _log(current, "issued", f"released: {decision.reason}")
        elif reason != previous_reason:
            _log(current, "held", reason)
    if status == Status.ISSUED:
        _enqueue_after_commit("certificates.tasks.certificate_render_task", current.pk)
    return current


def content_for(certificate: Certificate) -> pdf.CertificateContent:
    """The renderer's input, from the certificate's frozen snapshot only."""
    return pdf.CertificateContent(
        holder_name=certificate.holder_name,
        course_title=certificate.course_title,
        organisation_name=certificate.organisation_name,
        issued_on=certificate.issued_on,
        code=certificate.display_code,
        verify_url=certificate.verify_url,
        template_family=certificate.template_family,
        instructor_name=certificate.instructor_name,
        instructor_title=certificate.instructor_title,
        score=certificate.score,
        cohort=certificate.cohort,
        custom_fields=tuple((label, value) for label, value in certificate.custom_fields),
    )


def _read(name: str) -> bytes | None:
    if not name:
        return None
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def design_for(certificate: Certificate) -> pdf.Design:
    return pdf.Design(
        accent=certificate.accent_color,
        secondary=certificate.secondary_color,
        page_size=certificate.page_size,
        locale=certificate.locale,
        logo=_read(certificate.logo_path),
        signature=_read(certificate.signature_path),
    )


def _store(field, name: str, data: bytes) -> None:
    if field.storage.exists(name):  # left by a try that died before its commit
        field.storage.delete(name)
    field.save(name, ContentFile(data), save=False)


def _record_failure(*, certificate_id: int, step: str, error: Exception, expected: str, retry: str, final: str) -> None:
    """Count a failed try; past the limit, stop and tell staff why. A status changed meanwhile wins."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
        message = f"{step} failed: {type(error).__name__}: {error}"[:500]
        if certificate.status != expected:  # e.g. revoked while we were working
            _log(certificate, f"{step}_failed", message)
            return
        certificate.attempts += 1
        if certificate.attempts >= settings.CERTIFICATE_MAX_ATTEMPTS:
            certificate.status = final
            certificate.status_reason = f"gave up after {certificate.attempts} tries; last: {message}"[:500]
        else:
            certificate.status = retry
            certificate.status_reason = message
        certificate.save(update_fields=["attempts", "status", "status_reason", "updated_at"])
        _log(certificate, f"{step}_failed", message, attempt=certificate.attempts)


def certificate_render(*, certificate_id: int) -> Certificate:
    """Render and store the PDF of an issued certificate; does nothing if it is already rendered."""
    try:
        with transaction.atomic():
            certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
            if certificate.status != Status.ISSUED:
                return certificate
            data = pdf.render_pdf(content_for(certificate), design_for(certificate))
            _store(certificate.pdf, pdf_upload_to(certificate, ""), data)
            _store(certificate.preview, preview_upload_to(certificate, ""), pdf.render_preview_png(data))
            certificate.pdf_sha256 = hashlib.sha256(data).hexdigest()
            certificate.renderer_version = pdf.RENDERER_VERSION
            certificate.status, certificate.status_reason, certificate.attempts = Status.RENDERED, "", 0
            certificate.rendered_at = timezone.now()
            certificate.save()
            _log(certificate, "rendered", f"{len(data)} bytes", sha256=certificate.pdf_sha256)
            _enqueue_after_commit("certificates.tasks.certificate_email_task", certificate.pk)
            return certificate
    except Exception as exc:
        logger.exception("rendering certificate %s failed", certificate_id)
        _record_failure(
            certificate_id=certificate_id,
            step="render",
            error=exc,
            expected=Status.ISSUED,
            retry=Status.ISSUED,
            final=Status.HELD,
        )
        raise


def _current_recipient(certificate: Certificate) -> str:
    """Where the learner reads mail now: a changed address wins over the one at issue, if valid."""
    current = certificate.enrollment.learner.email
    if current != certificate.recipient_email and not _data_problems(
        holder_name=certificate.holder_name, email=current
    ):
        Certificate.objects.filter(pk=certificate.pk).update(recipient_email=current)
        certificate.recipient_email = current
    return certificate.recipient_email


def certificate_email(*, certificate_id: int) -> bool:
    """Email a rendered certificate to its holder, exactly once; returns whether this call sent it."""
    certificate = Certificate.objects.select_related("enrollment__learner").get(pk=certificate_id)
    if certificate.status != Status.RENDERED:
        return False
    pending = certificate.deliveries.filter(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]).first()
    if pending is not None:  # one email on its way already (perhaps waiting to retry): never a second
        return delivery_send(delivery_id=pending.pk)
    try:
        with transaction.atomic():
            delivery, _ = Delivery.objects.get_or_create(
                certificate=certificate, recipient=_current_recipient(certificate), purpose=Purpose.FIRST_SEND
            )
    except IntegrityError:  # another worker created it a moment ago
        delivery = Delivery.objects.get(
            certificate=certificate, recipient=certificate.recipient_email, purpose=Purpose.FIRST_SEND
        )
    return delivery_send(delivery_id=delivery.pk)


def delivery_send(*, delivery_id: int) -> bool:
    """Send one delivery if it is due; returns whether this call sent it. Safe to run twice at once.

    The delivery is claimed (QUEUED -> SENDING in one UPDATE) before anything is sent: of two workers
    only one sends, and a worker that dies mid-send leaves it SENDING for the sweep to report, never
    to resend. Transient failures go back to QUEUED with a growing delay; permanent ones fail.
    """
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    delivery = Delivery.objects.select_related(
        "certificate__enrollment__course__organisation", "certificate__enrollment__learner"
    ).get(pk=delivery_id)
    certificate = delivery.certificate
    if certificate.status not in VALID_STATUSES:  # revoked, superseded or held since it was queued
        _delivery_failed(delivery, f"certificate is {certificate.status}: not sent")
        return False
    current = _current_recipient(certificate)
    if current != delivery.recipient:
        # The learner's address changed while this waited: it goes to the new one, still only once.
        try:
            with transaction.atomic():
                Delivery.objects.filter(pk=delivery.pk).update(recipient=current)
                delivery.recipient = current
        except IntegrityError:
            pass  # that address already has its own record for this purpose; keep this one as it was
    suppressed = SuppressedAddress.objects.filter(email__iexact=delivery.recipient).first()
    if suppressed is not None:
        _delivery_failed(delivery, ADDRESS_SUPPRESSED.format(reason=suppressed.reason, email=delivery.recipient))
        return False
    try:
        with certificate.pdf.open("rb") as handle:
            data = handle.read()
        course = certificate.enrollment.course
        message = build_certificate_email(
            certificate,
            data,
            recipient=delivery.recipient,
            reply_to=course.organisation.reply_to_email,
            paragraph=course.email_paragraph,
            message_id=delivery.message_id,
        )
        message.metadata = {"delivery_id": str(delivery.pk)}  # returned by anymail tracking events
        rate_limiter.wait()
        message.send()
    except Exception as exc:
        if _is_permanent(exc):
            _delivery_failed(delivery, f"recipient refused: {exc}")
            return False
        logger.warning("delivery %s failed (try %s): %s", delivery_id, delivery.attempts, exc)
        _delivery_retry_or_fail(delivery, exc)
        return False
    esp_message_id = getattr(getattr(message, "anymail_status", None), "message_id", None)
    if isinstance(esp_message_id, set):  # one id per recipient: we send to one
        esp_message_id = ",".join(sorted(map(str, esp_message_id)))
    with transaction.atomic():
        sent_at = timezone.now()
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.SENT,
            sent_at=sent_at,
            last_error="",
            esp_message_id="" if esp_message_id is None else str(esp_message_id)[:200],
        )
        # Only RENDERED becomes EMAILED: a revocation that landed during the send must stand.
        Certificate.objects.filter(pk=certificate.pk, status__in=[Status.RENDERED, Status.DELIVERY_FAILED]).update(
            status=Status.EMAILED, status_reason="", attempts=0, updated_at=sent_at
        )
        Certificate.objects.filter(pk=certificate.pk).update(emailed_at=sent_at)
        _log(certificate, "emailed", f"{delivery.get_purpose_display().lower()} to {delivery.recipient}")
    return True


def _delivery_failed(delivery: Delivery, reason: str) -> None:
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error=reason[:500])
        if delivery.purpose == Purpose.FIRST_SEND:
            Certificate.objects.filter(pk=delivery.certificate_id, status=Status.RENDERED).update(
                status=Status.DELIVERY_FAILED, status_reason=reason[:500], updated_at=timezone.now()
            )
        _log(delivery.certificate, "email_failed", reason, delivery=delivery.pk)


def _delivery_retry_or_fail(delivery: Delivery, error: Exception) -> None:
    reason = f"{type(error).__name__}: {error}"[:500]
    if delivery.attempts >= settings.EMAIL_MAX_ATTEMPTS:
        _delivery_failed(delivery, f"gave up after {delivery.attempts} tries; last: {reason}")
        return
    delay = min(settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (delivery.attempts - 1), 3600)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.QUEUED, last_error=reason, next_attempt_at=timezone.now() + timedelta(seconds=delay)
        )
        _log(delivery.certificate, "email_retry", f"try {delivery.attempts} failed, next in {delay}s: {reason}")


class ResendLimitReached(CertificateError, PermissionError):
    pass


class AddressSuppressed(CertificateError, ValueError):
    pass


RESEND_LIMIT = "you have asked for this email {count} times today; please try again tomorrow"


def certificate_email_resend(*, certificate_ids: list[int], by, learner_request: bool = False) -> int:
    """Email certificates again to their holders' current addresses; returns how many were queued.

    Staff may resend any number; a learner asking from the dashboard gets a few a day.
    """
    queued = 0
    for certificate_id in certificate_ids:
        with transaction.atomic():
            certificate = (
                Certificate.objects.select_for_update().select_related("enrollment__learner").get(pk=certificate_id)
            )
            if (
                certificate.status not in (Status.EMAILED, Status.DELIVERY_FAILED, Status.RENDERED)
                or not certificate.pdf
            ):
                continue  # held, revoked, superseded or not rendered yet
            if certificate.deliveries.filter(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]).exists():
                continue  # an email is already on its way (or waiting to retry): a second would double it
            if learner_request:
                learner = Learner.objects.select_for_update().get(pk=certificate.enrollment.learner_id)
                suppressed = SuppressedAddress.objects.filter(email__iexact=learner.email).first()
                if suppressed is not None:
                    raise AddressSuppressed(ADDRESS_SUPPRESSED.format(reason=suppressed.reason, email=learner.email))
                count = Delivery.objects.filter(
                    certificate__enrollment__learner=learner,
                    purpose=Purpose.RESEND,
                    requested_by=by,
                    created_at__gte=timezone.now() - timedelta(days=1),
                ).count()
                if count >= settings.LEARNER_RESENDS_PER_DAY:
                    raise ResendLimitReached(RESEND_LIMIT.format(count=count))
            delivery = Delivery.objects.create(
                certificate=certificate,
                recipient=_current_recipient(certificate),
                purpose=Purpose.RESEND,
                requested_by=by if getattr(by, "pk", None) else None,
            )
            _log(
                certificate,
                "resend_requested",
                f"to {delivery.recipient}",
                actor=by if getattr(by, "pk", None) else None,
            )
            _enqueue_after_commit("certificates.tasks.delivery_send_task", delivery.pk)
            queued += 1
    return queued


@transaction.atomic
def certificate_approve(*, certificate_id: int, by) -> Certificate:
    """Staff approve a certificate held for manual review; it is issued if its data is sound."""
    # Enrollment first, then certificate: the same lock order as issuing, so the two cannot deadlock.
    enrollment_id = Certificate.objects.values_list("enrollment_id", flat=True).get(pk=certificate_id)
    Enrollment.objects.select_for_update().filter(pk=enrollment_id).exists()
    certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
    if certificate.status != Status.HELD:
        raise CertificateNotHeld(NOT_HELD)
    certificate.approved_at, certificate.approved_by = timezone.now(), by
    certificate.save(update_fields=["approved_at", "approved_by", "updated_at"])
    _log(certificate, "approved", actor=by)
    result = certificate_issue_for_enrollment(enrollment_id=certificate.enrollment_id)
    if result is not None and result.status == Status.HELD:
        raise CertificateStillHasProblems(result.status_reason)
    return result


@transaction.atomic
def certificate_revoke(*, certificate_id: int, by, reason: str) -> Certificate:
    """Revoke a certificate: the verify page shows it as revoked from now on."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
    if certificate.status == Status.REVOKED:
        raise CertificateAlreadyRevoked(ALREADY_REVOKED)
    certificate.status, certificate.status_reason, certificate.revoked_at = Status.REVOKED, reason[:500], timezone.now()
    certificate.save(update_fields=["status", "status_reason", "revoked_at", "updated_at"])
    _log(certificate, "revoked", reason, actor=by)
    return certificate


def pipeline_sweep() -> dict[str, int]:
    """Re-nudge work that has waited too long: the queue may lose a task, the database never does."""
    cutoff = timezone.now() - timedelta(seconds=settings.CERTIFICATE_STUCK_AFTER)
    counts = {"issue": 0, "render": 0, "email": 0, "retry": 0, "interrupted": 0}
    pending = Enrollment.objects.filter(
        completed_at__isnull=False, decision=Decision.PENDING, updated_at__lt=cutoff
    ).values_list("pk", flat=True)
    for enrollment_id in pending.iterator():
        async_task("certificates.tasks.certificate_issue_task", enrollment_id)
        counts["issue"] += 1
    for status, task, key in (
        (Status.ISSUED, "certificates.tasks.certificate_render_task", "render"),
        (Status.RENDERED, "certificates.tasks.certificate_email_task", "email"),
    ):
        for certificate_id in (
            Certificate.objects.filter(status=status, updated_at__lt=cutoff).values_list("pk", flat=True).iterator()
        ):
            async_task(task, certificate_id)
            counts[key] += 1
    due = Q(next_attempt_at__lte=timezone.now()) | Q(next_attempt_at__isnull=True, created_at__lt=cutoff)
    for delivery_id in Delivery.objects.filter(due, status=DeliveryStatus.QUEUED).values_list("pk", flat=True):
        async_task("certificates.tasks.delivery_send_task", delivery_id)
        counts["retry"] += 1
    # A send that never finished is not retried: a doubled email is worse than asking staff.
    interrupted_cutoff = timezone.now() - timedelta(seconds=settings.CERTIFICATE_STUCK_AFTER * 5)
    for delivery in Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=interrupted_cutoff):
        if Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.FAILED, last_error=SEND_INTERRUPTED
        ):
            _delivery_failed(delivery, SEND_INTERRUPTED)
            counts["interrupted"] += 1
    return counts


SAMPLE_HOLDER = "Alex Sample"


def certificate_preview(*, course_id: int, holder_name: str = SAMPLE_HOLDER) -> tuple[bytes, bytes]:
    """A sample certificate for a course as it would be issued now: (PDF, PNG). Nothing is saved."""
    course = Course.objects.select_related("organisation").get(pk=course_id)
    enrollment = Enrollment(
        learner=Learner(full_name=holder_name or SAMPLE_HOLDER),
        course=course,
        completed_at=timezone.now(),
        score=Decimal("92"),
    )
    certificate = Certificate(code=codes.new_code(), version=1, **_snapshot(enrollment))
    data = pdf.render_pdf(content_for(certificate), design_for(certificate))
    return data, pdf.render_preview_png(data)


#: anymail's normalised event types that say the address must not be mailed again.
SUPPRESSING_EVENTS = {"bounced": "bounced", "complained": "complained", "rejected": "was rejected"}
TRACKED_EVENTS = {"delivered", "bounced", "complained", "rejected", "opened", "clicked", "deferred"}
TRACKING_RANK = {"": 0, "deferred": 1, "delivered": 2, "rejected": 3, "bounced": 4, "complained": 5}


def delivery_record_tracking(
    *,
    event_type: str,
    esp_message_id: str = "",
    recipient: str = "",
    event_id: str = "",
    occurred_at=None,
    metadata: dict | None = None,
    description: str = "",
) -> bool:
    """Apply one ESP tracking event to its delivery; an event seen before changes nothing.

    Returns whether the event was new. A bounce or complaint suppresses the address until the
    learner's email is corrected (a new address is not suppressed).
    """
    if event_type not in TRACKED_EVENTS:
        return False
    # The ESP's own message id first: our metadata could come from another deployment on one account.
    delivery = Delivery.objects.filter(esp_message_id=esp_message_id).first() if esp_message_id else None
    delivery_id = str((metadata or {}).get("delivery_id", ""))
    if delivery is None and delivery_id.isdigit() and not esp_message_id:
        delivery = Delivery.objects.filter(pk=int(delivery_id)).first()
    recipient = (recipient or "")[:254]
    stamp = occurred_at.isoformat() if occurred_at else ""
    key = event_id or hashlib.sha256(f"{esp_message_id}|{event_type}|{recipient}|{stamp}".encode()).hexdigest()
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(
                event_key=f"{event_type}:{key}"[:200],
                delivery=delivery,
                event_type=event_type,
                esp_message_id=esp_message_id[:200],
                recipient=recipient[:254],
                description=description[:500],
                occurred_at=occurred_at,
            )
            if delivery is not None:
                if event_type in ("opened", "clicked"):
                    field = "opened_at" if event_type == "opened" else "clicked_at"
                    Delivery.objects.filter(pk=delivery.pk, **{f"{field}__isnull": True}).update(
                        **{field: occurred_at or timezone.now()}
                    )
                elif TRACKING_RANK[event_type] >= TRACKING_RANK.get(delivery.tracking_status, 0):
                    # Events arrive out of order: a late "delivered" must not hide a bounce.
                    Delivery.objects.filter(pk=delivery.pk).update(tracking_status=event_type)
                _log(delivery.certificate, f"email_{event_type}", description or recipient)
            address = recipient or (delivery.recipient if delivery else "")
            if event_type in SUPPRESSING_EVENTS and address:
                SuppressedAddress.objects.get_or_create(
                    email=address.lower()[:254],
                    defaults={"reason": SUPPRESSING_EVENTS[event_type], "description": description[:500]},
                )
    except IntegrityError:
        return False  # the ESP sent this event before
    return True
