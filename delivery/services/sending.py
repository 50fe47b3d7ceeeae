"""Sending one delivery: claim, send, retry, settle.

A delivery is claimed (QUEUED -> SENDING in one UPDATE) before anything is sent, so of two workers
only one sends. A worker that dies once its message began to go (``submitted_at``) leaves it SENDING
for the sweep to report, never to resend; one that dies before, for the sweep to send again.
Transient failures go back to QUEUED with a doubling delay; permanent ones fail at once. The
message itself is built at send time by the composer the delivery names, and everything a send
needs but the exchange itself (the connection, the message's bytes) is done before the claim, so
the window in which a killed worker leaves a send that may or may not have gone out is the SMTP
(or API) exchange and the UPDATE after it.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from anymail.exceptions import AnymailInvalidAddress, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .. import composers
from ..errors import ADDRESS_SUPPRESSED, SEND_INTERRUPTED, DoNotSend
from ..models import Delivery, DeliveryStatus
from ..ratelimit import rate_limiter
from ..selectors import address_suppression
from ..signals import delivery_settled

logger = logging.getLogger(__name__)

# Exceptions that mean "this address will never work": retrying would only annoy the provider.
PERMANENT_EMAIL_ERRORS = (AnymailInvalidAddress, AnymailRecipientsRefused, ValueError)  # ValueError: bad address


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        # 5xx is final; 4xx (mailbox busy, greylisting) is worth another try.
        return all(code >= 500 for code, _ in error.recipients.values()) if error.recipients else True
    return isinstance(error, PERMANENT_EMAIL_ERRORS)


def delivery_send(*, delivery_id: int) -> bool:
    """Send one delivery if it is due; returns whether this call sent it. Safe to run twice at once.

    The message is built before the delivery is claimed. Building it reads the attachment from
    storage (over the network, from a bucket), and a worker killed meanwhile (the OOM killer) must
    leave the delivery queued for the sweep to send: claimed, it would be reported as a send that
    may or may not have gone out, when it never started. The claim then takes the delivery only as
    it was when the message was built (same recipient, same try).
    """
    now = timezone.now()
    due = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    delivery = due.first()
    if delivery is None:
        return False
    suppressed = message = problem = None
    try:
        suppressed = address_suppression(delivery.recipient)
        if suppressed is None:
            message = composers.get(delivery.composer)(delivery)
    except DATABASE_UNAVAILABLE:
        # Nothing was claimed or sent: the delivery stays queued and the sweep nudges it again.
        logger.warning("delivery %s: database unavailable before sending; left queued", delivery_id)
        return False
    except DoNotSend as exc:
        problem = str(exc)
    except Exception as exc:  # e.g. the attachment is missing: nothing was sent, so say so now
        logger.exception("composing delivery %s failed", delivery_id)
        problem = f"could not build the message: {type(exc).__name__}: {exc}"
    ready = _Ready(delivery, message) if message is not None else None
    try:
        return _claim_and_send(delivery, due, now, ready=ready, problem=problem, suppressed=suppressed)
    finally:
        if ready is not None:
            ready.close()


class _Ready:
    """A message with everything but the send itself done before the delivery is claimed: the rate
    limit waited for, the connection opened (TCP, TLS, login) and, for SMTP, the MIME flattened to
    bytes. A worker killed while it is being made leaves the delivery queued; one killed after the
    claim but before the message itself began to go (``submitted_at``) leaves it for the sweep to
    send again; only a kill from then until the UPDATE after the send leaves one that may have gone."""

    def __init__(self, delivery: Delivery, message) -> None:
        message.extra_headers["Message-ID"] = delivery.message_id
        message.metadata = {"delivery_id": str(delivery.pk)}  # returned by anymail tracking events
        self.message, self.error = message, None
        rate_limiter.wait()
        try:
            message.connection = get_connection()
            message.connection.open()
            if isinstance(message.connection, SMTPBackend):
                message.connection.connection.ehlo_or_helo_if_needed()  # smtplib would greet at the send
                flattened = _Flattened(message.message())
                message.message = lambda: flattened
        except Exception as exc:  # the server refused us: a try, counted once the delivery is claimed
            self.error = exc

    def send(self, delivery: Delivery) -> None:
        """Send it, marking the delivery submitted just before the message can be delivered: for SMTP
        once the whole message but the line that ends it has gone; for an ESP before its call.

        Raises ``MayHaveGone`` when the SMTP end line went but no answer came back (a timeout, a
        dropped connection): the server may have kept the message, so it must not be sent again."""
        if self.error is not None:
            raise self.error
        smtp = getattr(self.message.connection, "connection", None)
        if not isinstance(smtp, smtplib.SMTP):
            _mark_submitted(delivery)
            self.message.send()
            return
        progress = _hold_the_end_of_data(smtp, lambda: _mark_submitted(delivery))
        try:
            self.message.send()
        except Exception as exc:
            # An answer to the end line (SMTPDataError: 4xx, 5xx) says the server did not keep it.
            if progress.ended and not isinstance(exc, smtplib.SMTPResponseException):
                raise MayHaveGone(f"no answer after the message was sent: {type(exc).__name__}: {exc}") from exc
            raise

    def close(self) -> None:
        connection = getattr(self.message, "connection", None)
        if connection is not None:
            try:
                connection.close()
            except Exception:  # the message went (or not) already; a connection that will not close is no news
                logger.debug("closing the email connection failed", exc_info=True)


#: How smtplib's ``data()`` ends the message it sends: a line holding a single dot.
END_OF_DATA = b"\r\n.\r\n"


@dataclass
class _Progress:
    held: bool = False  # the message was sent but its end line, and the mark was made
    ended: bool = False  # the end line went too: from here the server may keep the message


def _hold_the_end_of_data(smtp: smtplib.SMTP, before_the_end: Callable[[], None]) -> _Progress:
    """On this connection, send each message but its last line, run ``before_the_end``, then send it.

    A server delivers a message only once it has read the line that ends it: a connection that drops
    before then (the worker killed) leaves nothing delivered. So a send is marked submitted as late
    as it can be, and a worker killed any earlier is sent again by the sweep, not reported to staff
    as one that may have gone. If ``before_the_end`` fails, the connection is dropped, not closed
    with QUIT: the server would read QUIT as part of the message and wait for the rest."""
    send = smtp.send
    data = smtp.data
    progress = _Progress()

    def send_holding_the_end(payload) -> None:
        if not progress.held and isinstance(payload, bytes) and payload.endswith(END_OF_DATA):
            progress.held = True
            send(payload[: -len(END_OF_DATA) + 2])  # the body, with its last line break
            try:
                before_the_end()
            except BaseException:
                smtp.close()
                raise
            send(payload[-len(END_OF_DATA) + 2 :])
            progress.ended = True
            return
        send(payload)

    def data_holding_the_end(msg):
        progress.held = progress.ended = False  # each message on the connection
        smtp.send = send_holding_the_end  # only while smtplib sends the message itself
        try:
            reply = data(msg)
        finally:
            smtp.send = send
        if not progress.held:  # an smtplib that sends the message otherwise: marked late rather than never
            logger.error("smtplib sent a message without its end line in one piece; marked after it went")
            try:
                before_the_end()
            except Exception:  # it went: recorded as sent if the claim is still ours, never sent again from here
                logger.exception("marking a message that went failed")
        return reply

    smtp.data = data_holding_the_end  # this connection only: smtplib's sendmail calls self.data
    return progress


class MayHaveGone(Exception):
    """The SMTP end line went and no answer came: the server may have kept the message."""


class NoLongerOurs(Exception):
    """The sweep gave the claim back (this worker outlived it): another send will take it."""


def _mark_submitted(delivery: Delivery) -> None:
    if not _ours(delivery).update(submitted_at=timezone.now()):
        raise NoLongerOurs(f"delivery {delivery.pk} was given back before its message went")


class _Flattened:
    """A MIME message as Django's SMTP backend reads it (``as_bytes``), flattened once, ahead."""

    def __init__(self, mime) -> None:
        self._mime, self._bytes = mime, {"\r\n": mime.as_bytes(linesep="\r\n")}

    def as_bytes(self, linesep: str = "\n") -> bytes:
        if linesep not in self._bytes:
            self._bytes[linesep] = self._mime.as_bytes(linesep=linesep)
        return self._bytes[linesep]

    def __getattr__(self, name: str):
        return getattr(self._mime, name)


def _claim_and_send(delivery: Delivery, due, now: datetime, *, ready, problem, suppressed) -> bool:
    claimed = due.filter(recipient=delivery.recipient, attempts=delivery.attempts).update(
        status=DeliveryStatus.SENDING, claimed_at=now, submitted_at=None, attempts=F("attempts") + 1
    )
    if not claimed:
        if due.exists():  # changed while the message was built (a corrected address): build it again
            return delivery_send(delivery_id=delivery.pk)
        return False  # another worker has it, or it has gone
    delivery.status, delivery.claimed_at, delivery.attempts = DeliveryStatus.SENDING, now, delivery.attempts + 1
    if problem is not None:
        _settle_failed(delivery, problem)
        return False
    if suppressed is not None:
        _settle_failed(delivery, ADDRESS_SUPPRESSED.format(reason=suppressed.reason, email=delivery.recipient))
        return False
    message = ready.message
    try:
        ready.send(delivery)
    except NoLongerOurs:
        logger.warning("delivery %s: claim given back meanwhile; not sent by this worker", delivery.pk)
        return False
    except MayHaveGone as exc:  # as the sweep would say of a worker killed there: for staff, not resent
        logger.warning("delivery %s: %s", delivery.pk, exc)
        _settle_failed(delivery, SEND_INTERRUPTED)
        return False
    except Exception as exc:
        if _is_permanent(exc):
            _settle_failed(delivery, f"recipient refused: {exc}")
            return False
        logger.warning("delivery %s failed (try %s): %s", delivery.pk, delivery.attempts, exc)
        _retry_or_fail(delivery, exc)
        return False
    esp_message_id = getattr(getattr(message, "anymail_status", None), "message_id", None)
    if isinstance(esp_message_id, set):  # one id per recipient: we send to one
        esp_message_id = ",".join(sorted(map(str, esp_message_id)))
    # Sent is recorded on its own first: whatever the listeners do, this email is never sent again.
    # It has gone: if the database is restarting, wait for it rather than leave the send looking
    # interrupted (staff would be asked to resend an email the learner already has).
    delivery.sent_at = timezone.now()
    _write_through_outage(
        lambda: _ours(delivery).update(
            status=DeliveryStatus.SENT,
            sent_at=delivery.sent_at,
            last_error="",
            esp_message_id="" if esp_message_id is None else str(esp_message_id)[:200],
        )
    )
    with transaction.atomic():
        announce_settled(delivery, sent=True)
    return True


#: What a database that is restarting or failing over raises (IntegrityError and the like are not it).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def _write_through_outage(write: Callable[[], object]) -> None:
    """Run a write that must not be lost, trying again each second while the database cannot be
    reached, for up to DELIVERY_DATABASE_PATIENCE seconds; then the error is raised."""
    deadline = time.monotonic() + settings.DELIVERY_DATABASE_PATIENCE
    while True:
        try:
            write()
            return
        except DATABASE_UNAVAILABLE:
            if time.monotonic() >= deadline or connection.in_atomic_block:
                raise
            connection.close()  # a broken connection is never reused; the next try opens a new one
            time.sleep(1)


def announce_settled(delivery: Delivery, *, sent: bool, reason: str = "") -> None:
    delivery_settled.send(
        sender=Delivery,
        delivery_id=delivery.pk,
        composer=delivery.composer,
        reference=delivery.reference,
        purpose=delivery.purpose,
        recipient=delivery.recipient,
        sent=sent,
        reason=reason,
    )


def _ours(delivery: Delivery):
    """The delivery as long as this worker's claim holds: every write after a claim goes through it,
    so a worker that outlived its claim (given back by the sweep, taken by another) changes nothing."""
    return Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_at=delivery.claimed_at)


def _settle_failed(delivery: Delivery, reason: str) -> None:
    with transaction.atomic():
        if _ours(delivery).update(status=DeliveryStatus.FAILED, last_error=reason[:500]):
            announce_settled(delivery, sent=False, reason=reason[:500])


def _retry_or_fail(delivery: Delivery, error: Exception) -> None:
    reason = f"{type(error).__name__}: {error}"[:500]
    if delivery.attempts >= settings.EMAIL_MAX_ATTEMPTS:
        _settle_failed(delivery, f"gave up after {delivery.attempts} tries; last: {reason}")
        return
    delay = min(settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (delivery.attempts - 1), 3600)
    _ours(delivery).update(
        status=DeliveryStatus.QUEUED, last_error=reason, next_attempt_at=timezone.now() + timedelta(seconds=delay)
    )
