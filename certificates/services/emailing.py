"""Emailing certificates through the delivery app: first sends, reissue notices, resends.

The delivery app knows addresses and messages, not certificates: a delivery names our composer and a
version id, we build the message when it is sent (``compose``), and it tells us how it ended
(``certificate_record_delivery``, from its ``delivery_settled`` signal).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from delivery.errors import DoNotSend
from delivery.models import Delivery, DeliveryStatus
from delivery.selectors import address_suppression, deliveries_for, delivery_pending, requests_since
from delivery.services import delivery_repoint, delivery_request, delivery_send
from learners.models import CompletionSource, Learner
from learners.services import LearnerError, learner_update_details
from learners.services.accounts import EMAIL_LINK_SCOPE, sign_in_url

from ..emails import COMPOSER, FIRST_SEND, REISSUE_NOTICE, RESEND, build_certificate_email
from ..errors import RESEND_LIMIT, AddressSuppressed, InvalidAddress, ResendLimitReached
from ..models import RENDERED_STATES, Certificate, CertificateVersion, Credential, Pipeline
from ..transitions import log_event, transition
from .handoff import EMAIL_TASK, enqueue_after_commit
from .snapshot import email_problem

ADDRESS_SUPPRESSED = "{email} {reason} earlier: not mailed again until the learner's email is corrected"


def compose(delivery: Delivery):
    """The email for one delivery of a certificate version, built from its frozen snapshot."""
    version = (
        CertificateVersion.objects.select_related("certificate__enrollment__course__organisation")
        .filter(pk=int(delivery.reference))
        .first()
    )
    if version is None:
        raise DoNotSend("no such certificate version")
    certificate = version.certificate
    if not certificate.is_valid:
        raise DoNotSend(f"certificate is {certificate.get_credential_state_display().lower()}: not sent")
    if not version.is_current:
        raise DoNotSend(f"version {version.number} was replaced by a newer one: not sent")
    if not version.pdf:
        raise DoNotSend("the PDF is not ready: not sent")
    with version.pdf.open("rb") as handle:
        data = handle.read()
    course = certificate.enrollment.course
    link = sign_in_url(
        learner_id=certificate.enrollment.learner_id,
        scope=EMAIL_LINK_SCOPE,
        next_path=f"{reverse('dashboard:home')}#certificate-{certificate.pk}",
    )
    return build_certificate_email(
        version,
        data,
        recipient=delivery.recipient,
        reply_to=course.organisation.reply_to_email,
        paragraph=course.email_paragraph,
        reissue=delivery.purpose == REISSUE_NOTICE,
        personal_link=link,
    )


def _address_for(certificate: Certificate, version: CertificateVersion) -> str:
    """Where the learner reads mail now: a corrected address wins over the one at issue, if valid."""
    current = certificate.enrollment.learner.email
    return current if current and not email_problem(current) else version.recipient_email


def certificate_email(*, certificate_id: int) -> bool:
    """Email a rendered certificate's current version to its holder, once; True if this call sent it.

    Its first version gets the certificate email; a later one the short "corrected certificate" notice.
    """
    certificate = Certificate.objects.select_related("enrollment__learner").get(pk=certificate_id)
    if certificate.pipeline_state != Pipeline.RENDERED or not certificate.is_valid:
        return False  # a suspended or revoked certificate waits, still rendered: reinstating sends it
    version = certificate.versions.current().get()
    pending = delivery_pending(composer=COMPOSER, references=[version.pk])
    if pending is not None:  # one email on its way already (perhaps waiting to retry): never a second
        return delivery_send(delivery_id=pending.pk)
    delivery, _ = delivery_request(
        composer=COMPOSER,
        reference=version.pk,
        recipient=_address_for(certificate, version),
        purpose=FIRST_SEND if version.number == 1 or certificate.emailed_at is None else REISSUE_NOTICE,
        enqueue=False,
    )
    if delivery.status == DeliveryStatus.SENT:  # it went out, but we never heard: record it now
        certificate_record_delivery(
            reference=delivery.reference, purpose=delivery.purpose, recipient=delivery.recipient, sent=True, reason=""
        )
        return False
    return delivery_send(delivery_id=delivery.pk)


def certificate_record_delivery(*, reference: str, purpose: str, recipient: str, sent: bool, reason: str) -> None:
    """Record how an email of a version ended; runs in the delivery's own transaction.

    Only the current version's own email moves the pipeline (a resend only out of a failure), so a
    late email of an old version never stands in for the new version's notice.
    """
    version = (
        CertificateVersion.objects.filter(pk=int(reference))
        .values("certificate_id", "is_current", "certificate__credential_state")
        .first()
    )
    if version is None:
        return
    certificate_id = version["certificate_id"]
    what = f"{purpose.replace('_', ' ')} to {recipient}"
    moves = version["is_current"] and version["certificate__credential_state"] == Credential.ACTIVE
    if sent:
        now = timezone.now()
        if not moves or not transition(
            certificate_id,
            from_=[Pipeline.DELIVERY_FAILED] if purpose == RESEND else [Pipeline.RENDERED, Pipeline.DELIVERY_FAILED],
            to=Pipeline.EMAILED,
            kind="emailed",
            reason=what,
            state_reason="",
            emailed_at=Coalesce(F("emailed_at"), now),
        ):
            log_event(certificate_id, "emailed", what)  # a resend, or the state moved on meanwhile
            Certificate.objects.filter(pk=certificate_id, emailed_at__isnull=True).update(emailed_at=now)
        return
    message = f"{what} failed: {reason}"
    if (
        purpose == RESEND
        or not moves
        or not transition(
            certificate_id,
            from_=Pipeline.RENDERED,
            to=Pipeline.DELIVERY_FAILED,
            kind="email_failed",
            reason=message,
            state_reason=reason[:500],
        )
    ):
        log_event(certificate_id, "email_failed", message)


#: ESP events that say the address does not work: the certificate did not reach its holder after all.
UNDELIVERED_EVENTS = ("bounced", "rejected")


def certificate_record_tracking(*, reference: str, purpose: str, event_type: str, description: str) -> None:
    """Note what the ESP said about one of a certificate's emails; a bounce of the current version's
    own email means it never arrived: the certificate is delivery-failed again, so a corrected
    address sends it once more."""
    version = CertificateVersion.objects.filter(pk=int(reference)).values("certificate_id", "is_current").first()
    if version is None:
        return
    certificate_id = version["certificate_id"]
    if (
        event_type in UNDELIVERED_EVENTS
        and purpose != RESEND
        and version["is_current"]
        and transition(
            certificate_id,
            from_=Pipeline.EMAILED,
            to=Pipeline.DELIVERY_FAILED,
            kind=f"email_{event_type}",
            reason=description,
            version=int(reference),
            state_reason=f"the email {event_type}: {description}"[:500],
        )
    ):
        return
    log_event(certificate_id, f"email_{event_type}", description, version=int(reference))


def certificate_follow_address(*, certificate: Certificate, email: str) -> None:
    """The learner's address changed: a waiting email goes to the new one, a failed one is sent again.

    Called whenever the learner's details are recorded; does nothing if nothing needs to change.
    """
    if email_problem(email) or certificate.pipeline_state not in RENDERED_STATES:
        return
    version = certificate.versions.current().only("pk").get()
    pending = delivery_pending(composer=COMPOSER, references=[version.pk])
    if pending is not None:
        if pending.recipient != email and delivery_repoint(delivery_id=pending.pk, recipient=email):
            log_event(certificate, "email_address_changed", f"waiting email now goes to {email}", version=version)
        return
    if certificate.pipeline_state != Pipeline.DELIVERY_FAILED:
        return
    last = deliveries_for(composer=COMPOSER, references=[version.pk]).order_by("-pk").first()
    if last is not None and last.recipient.lower() == email.lower():
        return  # the same address that failed: staff resend it on purpose
    if transition(
        certificate.pk,
        from_=Pipeline.DELIVERY_FAILED,
        to=Pipeline.RENDERED,
        kind="email_address_changed",
        reason=f"address corrected to {email}: email queued again",
        version=version,
        state_reason="",
    ):
        enqueue_after_commit(EMAIL_TASK, certificate.pk)


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
            if certificate.pipeline_state not in RENDERED_STATES or not certificate.is_valid:
                continue  # held, being reissued, suspended or revoked
            version = certificate.versions.current().get()
            if delivery_pending(composer=COMPOSER, references=[version.pk]) is not None:
                continue  # an email is already on its way (or waiting to retry): a second would double it
            recipient = _address_for(certificate, version)
            if learner_request:
                learner = Learner.objects.select_for_update().get(pk=certificate.enrollment.learner_id)
                suppressed = address_suppression(recipient)
                if suppressed is not None:
                    raise AddressSuppressed(ADDRESS_SUPPRESSED.format(reason=suppressed.reason, email=recipient))
                versions = CertificateVersion.objects.filter(certificate__enrollment__learner=learner)
                count = requests_since(
                    composer=COMPOSER,
                    references=versions.values_list("pk", flat=True),
                    purpose=RESEND,
                    by=by,
                    since=timezone.now() - timedelta(days=1),
                )
                if count >= settings.LEARNER_RESENDS_PER_DAY:
                    raise ResendLimitReached(RESEND_LIMIT.format(count=count))
            delivery_request(
                composer=COMPOSER, reference=version.pk, recipient=recipient, purpose=RESEND, requested_by=by
            )
            log_event(certificate, "resend_requested", f"to {recipient}", actor=by, version=version)
            queued += 1
    return queued


def certificate_correct_address(*, certificate_id: int, email: str, by) -> tuple[Certificate, bool]:
    """Staff correct the address a certificate's email failed at: the learner's address changes (history
    kept) and the certificate is emailed to the new one. Returns (certificate, whether an email is on
    its way): none goes to a certificate that is not valid."""
    email = (email or "").strip()
    if problem := email_problem(email):
        raise InvalidAddress(problem)
    with transaction.atomic():
        certificate = Certificate.objects.select_related("enrollment__learner").get(pk=certificate_id)
        learner = certificate.enrollment.learner
        try:
            learner_update_details(
                learner_id=learner.pk,
                email=email,
                full_name=learner.full_name,
                preferred_name=learner.preferred_name,
                source=CompletionSource.ADMIN,
            )
        except LearnerError as exc:
            raise InvalidAddress(str(exc)) from exc
        log_event(certificate, "address_corrected", f"{learner.email} → {email}", actor=by)
        certificate_follow_address(certificate=certificate, email=email)
        certificate = Certificate.objects.select_related("enrollment__learner").get(pk=certificate_id)
        version = certificate.current_version
        # Rendered: its email task is queued (follow_address just put it back) and will send it.
        sent = certificate.pipeline_state == Pipeline.RENDERED or (
            version is not None and delivery_pending(composer=COMPOSER, references=[version.pk]) is not None
        )
        if not sent:  # a complaint, or a resend that bounced: follow_address sends only failed first emails
            sent = bool(certificate_email_resend(certificate_ids=[certificate_id], by=by))
    return Certificate.objects.select_related("enrollment__learner").get(pk=certificate_id), sent
