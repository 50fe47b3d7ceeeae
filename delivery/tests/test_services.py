"""The delivery app on its own: a composer of its own, no certificates anywhere."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMessage
from django.dispatch import receiver
from django.utils import timezone

from delivery import composers, services
from delivery.errors import DoNotSend
from delivery.models import Delivery, DeliveryStatus, SuppressedAddress, TrackingEvent
from delivery.services import sending, sweep
from delivery.signals import delivery_settled, delivery_tracked

pytestmark = pytest.mark.django_db

REFUSED = set()
SWEPT_NOTHING = {"retry": 0, "released": 0, "interrupted": 0}
SWEPT_ONE = {"retry": 1, "released": 0, "interrupted": 0}  # one delivery due again, re-queued


def compose(delivery: Delivery) -> EmailMessage:
    if delivery.reference in REFUSED:
        raise DoNotSend("withdrawn: not sent")
    return EmailMessage(subject=f"Note {delivery.reference}", body="Hello", to=[delivery.recipient])


composers.register("note", compose)


@pytest.fixture
def heard():
    settled, tracked = [], []

    @receiver(delivery_settled, weak=False, dispatch_uid="test.settled")
    def on_settled(sender, **kwargs):
        settled.append((kwargs["reference"], kwargs["sent"], kwargs["reason"]))

    @receiver(delivery_tracked, weak=False, dispatch_uid="test.tracked")
    def on_tracked(sender, **kwargs):
        tracked.append((kwargs["reference"], kwargs["purpose"], kwargs["event_type"]))

    yield settled, tracked
    delivery_settled.disconnect(dispatch_uid="test.settled")
    delivery_tracked.disconnect(dispatch_uid="test.tracked")


def request(reference="1", recipient="ada@example.com", purpose="first_send") -> Delivery:
    delivery, _ = services.delivery_request(
        composer="note", reference=reference, recipient=recipient, purpose=purpose, enqueue=False
    )
    return delivery


def test_a_first_send_is_requested_once_and_sent_once(mailoutbox, heard):
    first = request()
    assert request().pk == first.pk  # asked again: the same delivery
    assert services.delivery_send(delivery_id=first.pk) is True
    assert services.delivery_send(delivery_id=first.pk) is False  # nothing left to claim
    assert [m.subject for m in mailoutbox] == ["Note 1"]
    assert mailoutbox[0].extra_headers["Message-ID"] == Delivery.objects.get().message_id
    assert heard[0] == [("1", True, "")]
    assert request().pk == first.pk  # sent: still the one


def test_resends_are_each_their_own_request(mailoutbox):
    a, b = request(purpose="resend"), request(purpose="resend")
    assert a.pk != b.pk


def test_a_suppressed_address_is_not_mailed(mailoutbox, heard):
    SuppressedAddress.objects.create(email="ada@example.com", reason="bounced")
    delivery = request(recipient="Ada@Example.com")
    assert services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "not mailed again" in delivery.last_error
    assert mailoutbox == [] and heard[0][0][1] is False


def test_a_composer_can_refuse_and_a_new_request_may_follow_a_failure(mailoutbox):
    REFUSED.add("9")
    try:
        delivery = request(reference="9")
        assert services.delivery_send(delivery_id=delivery.pk) is False
    finally:
        REFUSED.discard("9")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.FAILED, "withdrawn: not sent")
    again = request(reference="9")
    assert again.pk != delivery.pk and services.delivery_send(delivery_id=again.pk) is True


def test_transient_failures_back_off_then_send(monkeypatch, settings, mailoutbox):
    settings.EMAIL_RETRY_BASE_SECONDS = 60
    real = EmailMessage.send
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionRefusedError("down")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", flaky)
    delivery = request()
    assert services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED and delivery.next_attempt_at > timezone.now()
    assert services.delivery_send(delivery_id=delivery.pk) is False  # not due yet
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert services.deliveries_sweep(stuck_after=120) == SWEPT_ONE
        assert services.deliveries_sweep(stuck_after=120) == {
            "retry": 0,
            "released": 0,
            "interrupted": 0,
        }  # nudge recorded
    assert len(mailoutbox) == 1


def test_an_interrupted_send_is_reported_never_resent(heard, mailoutbox):
    delivery = request()
    now = timezone.now()  # claimed, and its message had begun to go: it may have arrived
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, claimed_at=now, submitted_at=now)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert services.deliveries_sweep(stuck_after=60)["interrupted"] == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and mailoutbox == []
    assert heard[0][0][1] is False


def test_tracking_is_applied_once_and_a_bounce_suppresses(heard, mailoutbox):
    delivery = request()
    services.delivery_send(delivery_id=delivery.pk)
    event = {"event_type": "bounced", "recipient": "ada@example.com", "event_id": "e1"}
    event["metadata"] = {"delivery_id": str(delivery.pk)}
    assert services.delivery_record_tracking(**event) is True
    assert services.delivery_record_tracking(**event) is False  # the ESP retried
    delivery.refresh_from_db()
    assert delivery.tracking_status == "bounced" and TrackingEvent.objects.count() == 1
    assert SuppressedAddress.objects.filter(email="ada@example.com").exists()
    assert heard[1] == [("1", "first_send", "bounced")]
    # A bounced first send does not count as sent: a corrected address may get its own.
    assert request(recipient="ada@right.example").pk != delivery.pk


def test_a_failing_listener_never_turns_a_sent_email_into_a_failure(mailoutbox):
    @receiver(delivery_settled, weak=False, dispatch_uid="test.broken")
    def broken(sender, **kwargs):
        raise RuntimeError("listener bug")

    delivery = request()
    try:
        with pytest.raises(RuntimeError):
            services.delivery_send(delivery_id=delivery.pk)
    finally:
        delivery_settled.disconnect(dispatch_uid="test.broken")
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT  # and so it is never sent again


def _database_down_for(monkeypatch, calls: int, *, when):
    """Make the first ``calls`` UPDATEs that ``when(kwargs)`` picks fail as a restarting server would."""
    from django.db import OperationalError
    from django.db.models import QuerySet

    real, failed = QuerySet.update, []

    def update(self, **kwargs):
        if self.model is Delivery and when(kwargs) and len(failed) < calls:
            failed.append(kwargs)
            raise OperationalError("the database system is shutting down")
        return real(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update)
    monkeypatch.setattr(sending.time, "sleep", lambda seconds: None)
    return failed


@pytest.mark.django_db(transaction=True)  # the retry reconnects: no test transaction around it
def test_a_send_is_recorded_once_the_database_is_back(monkeypatch, settings, mailoutbox, heard):
    settings.DELIVERY_DATABASE_PATIENCE = 30
    failed = _database_down_for(monkeypatch, 3, when=lambda kwargs: kwargs.get("status") == DeliveryStatus.SENT)
    delivery = request()
    assert services.delivery_send(delivery_id=delivery.pk) is True
    delivery.refresh_from_db()
    assert len(failed) == 3 and delivery.status == DeliveryStatus.SENT and delivery.sent_at is not None
    assert len(mailoutbox) == 1 and heard[0] == [("1", True, "")]
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert services.deliveries_sweep(stuck_after=60) == {
            "retry": 0,
            "released": 0,
            "interrupted": 0,
        }  # nothing to report


@pytest.mark.django_db(transaction=True)  # the retry reconnects: no test transaction around it
def test_a_database_gone_for_longer_than_the_patience_leaves_the_send_for_staff(monkeypatch, settings, mailoutbox):
    from django.db import OperationalError

    settings.DELIVERY_DATABASE_PATIENCE = 0
    _database_down_for(monkeypatch, 100, when=lambda kwargs: kwargs.get("status") == DeliveryStatus.SENT)
    delivery = request()
    with pytest.raises(OperationalError):
        services.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING and len(mailoutbox) == 1  # the sweep reports it, never resends


def test_a_database_gone_before_sending_gives_the_claim_back_and_it_is_sent_once_later(monkeypatch, mailoutbox):
    from django.db import OperationalError

    def database_gone(delivery):
        raise OperationalError("server closed the connection unexpectedly")

    composers.register("flaky-db", database_gone)
    delivery, _ = services.delivery_request(
        composer="flaky-db", reference="7", recipient="ada@example.com", purpose="first_send", enqueue=False
    )
    assert services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error, mailoutbox) == (DeliveryStatus.QUEUED, "", [])

    composers.register("flaky-db", compose)  # the database is back
    with time_machine.travel(timezone.now() + timedelta(seconds=121)):
        assert services.deliveries_sweep(stuck_after=120) == {
            "retry": 1,
            "released": 0,
            "interrupted": 0,
        }  # tasks run inline
        assert services.delivery_send(delivery_id=delivery.pk) is False  # sent by the sweep's nudge already
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and [m.to for m in mailoutbox] == [["ada@example.com"]]


class Killed(BaseException):
    """What a worker's process sees of a SIGKILL: nothing after this point runs, no handler, no finally."""


def test_a_worker_killed_while_building_the_message_leaves_it_queued_and_it_is_sent_once_later(heard, mailoutbox):
    def killed(delivery):  # e.g. reading the PDF from the bucket when the OOM killer strikes
        raise Killed

    composers.register("killed-composing", killed)
    delivery, _ = services.delivery_request(
        composer="killed-composing", reference="8", recipient="ada@example.com", purpose="first_send", enqueue=False
    )
    with pytest.raises(Killed):
        services.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    # Not claimed: the sweep will not report "may or may not have gone out" for a send that never started.
    assert (delivery.status, delivery.attempts, mailoutbox) == (DeliveryStatus.QUEUED, 0, [])

    composers.register("killed-composing", compose)  # the next worker builds it
    with time_machine.travel(timezone.now() + timedelta(seconds=121)):
        assert services.deliveries_sweep(stuck_after=120) == {
            "retry": 1,
            "released": 0,
            "interrupted": 0,
        }  # tasks run inline
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert services.deliveries_sweep(stuck_after=120) == SWEPT_NOTHING
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    assert [m.to for m in mailoutbox] == [["ada@example.com"]] and heard[0] == [("8", True, "")]


def test_an_address_corrected_while_the_message_is_built_gets_the_only_email(mailoutbox):
    def corrected_meanwhile(delivery):
        message = compose(delivery)
        services.delivery_repoint(delivery_id=delivery.pk, recipient="ada@new.example.com")  # another process
        return message

    composers.register("corrected-meanwhile", corrected_meanwhile)
    delivery, _ = services.delivery_request(
        composer="corrected-meanwhile", reference="9", recipient="ada@example.com", purpose="first_send", enqueue=False
    )
    assert services.delivery_send(delivery_id=delivery.pk) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.recipient, delivery.attempts) == (DeliveryStatus.SENT, "ada@new.example.com", 1)
    assert [m.to for m in mailoutbox] == [["ada@new.example.com"]]


def test_only_the_exchange_itself_is_left_after_the_claim(smtp_server, monkeypatch, heard):
    """A worker killed after the claim leaves a send that may have gone out, for staff: so the claim
    comes after everything else a send needs (connection, greeting, the message as bytes)."""
    seen_at_claim = []
    claim_and_send = sending._claim_and_send

    def spy(delivery, due, now, *, ready, **kwargs):
        seen_at_claim.append(
            (smtp_server.greetings, ready.message.connection.connection is not None, ready.message.message())
        )
        return claim_and_send(delivery, due, now, ready=ready, **kwargs)

    monkeypatch.setattr(sending, "_claim_and_send", spy)
    delivery = request(reference="9")
    assert services.delivery_send(delivery_id=delivery.pk) is True

    [(greetings, connected, flattened)] = seen_at_claim
    assert greetings == 1 and connected
    assert isinstance(flattened, sending._Flattened)
    [sent] = smtp_server.messages  # the bytes made ahead are the ones sent (smtplib ends the DATA with CRLF)
    assert sent.rstrip(b"\r\n") == flattened.as_bytes(linesep="\r\n").rstrip(b"\r\n")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1) and heard[0] == [("9", True, "")]


def test_a_server_refusing_connections_counts_a_try_and_leaves_it_for_a_retry(settings, heard):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    delivery = request(reference="10")
    assert services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 1)
    assert "ConnectionRefusedError" in delivery.last_error and delivery.next_attempt_at is not None
    assert heard[0] == []


def test_a_worker_killed_after_the_claim_before_its_message_went_is_sent_again_once(smtp_server, monkeypatch, heard):
    """Killed in the envelope (after MAIL FROM, before DATA): the server cannot have delivered it."""
    import smtplib

    delivery = request(reference="11")
    with monkeypatch.context() as dying:
        dying.setattr(smtplib.SMTP, "rcpt", lambda self, *args, **kwargs: (_ for _ in ()).throw(Killed()))
        with pytest.raises(Killed):
            services.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.submitted_at, smtp_server.messages) == (DeliveryStatus.SENDING, None, [])

    with time_machine.travel(timezone.now() + timedelta(seconds=30)):  # a live worker may still be on it
        assert services.deliveries_sweep(stuck_after=120) == SWEPT_NOTHING
    with time_machine.travel(timezone.now() + timedelta(seconds=121)):
        assert services.deliveries_sweep(stuck_after=120) == {"retry": 1, "released": 1, "interrupted": 0}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2) and delivery.submitted_at is not None
    assert len(smtp_server.messages) == 1 and heard[0] == [("11", True, "")]


def test_the_send_is_marked_submitted_after_the_whole_message_but_its_end_line(smtp_server, monkeypatch):
    """The server delivers a message only once it has read its end line (a single dot), so the mark
    that makes a killed send one for staff comes as late as that: after the body, before the dot."""
    import smtplib

    sent = []
    send, mark = smtplib.SMTP.send, sending._mark_submitted
    monkeypatch.setattr(smtplib.SMTP, "send", lambda self, payload: (sent.append(payload), send(self, payload))[1])
    monkeypatch.setattr(sending, "_mark_submitted", lambda delivery: (sent.append("mark"), mark(delivery))[1])
    delivery = request(reference="14")
    assert services.delivery_send(delivery_id=delivery.pk) is True

    at = sent.index("mark")
    assert sent[at - 2] == "data\r\n" and sent[at - 1].endswith(b"\r\n") and b"Subject:" in sent[at - 1]
    assert sent[at + 1] == b".\r\n"
    [message] = smtp_server.messages
    assert message.rstrip(b"\r\n") == sent[at - 1].rstrip(b"\r\n").replace(b"\r\n..", b"\r\n.")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.submitted_at is not None


def test_a_worker_killed_with_all_but_the_end_of_its_message_sent_is_sent_again_once(smtp_server, monkeypatch, heard):
    """Killed after the body went, before its end line: the server dropped the unfinished message,
    so the sweep gives the claim back and the email is sent once, not reported as maybe sent."""
    delivery = request(reference="15")
    with monkeypatch.context() as dying:
        dying.setattr(sending, "_mark_submitted", lambda delivery: (_ for _ in ()).throw(Killed()))
        with pytest.raises(Killed):
            services.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.submitted_at) == (DeliveryStatus.SENDING, None)
    assert smtp_server.messages == []

    with time_machine.travel(timezone.now() + timedelta(seconds=121)):
        assert services.deliveries_sweep(stuck_after=120) == {"retry": 1, "released": 1, "interrupted": 0}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert len(smtp_server.messages) == 1 and heard[0] == [("15", True, "")]


def _answer_to_the_end_line(monkeypatch, answer):
    """What smtplib reads after the message's end line: ``answer(real answer)`` instead."""
    import smtplib

    send, getreply, ended = smtplib.SMTP.send, smtplib.SMTP.getreply, []

    def send_noting_the_end(self, payload):
        if payload == b".\r\n":
            ended.append(True)
        return send(self, payload)

    def getreply_after_the_end(self):
        reply = getreply(self)
        if ended:
            ended.clear()
            return answer(reply)
        return reply

    monkeypatch.setattr(smtplib.SMTP, "send", send_noting_the_end)
    monkeypatch.setattr(smtplib.SMTP, "getreply", getreply_after_the_end)


def test_no_answer_after_the_end_line_is_a_send_for_staff_never_sent_again(smtp_server, monkeypatch, heard):
    """The server kept the message but its answer was lost (a timeout, a dropped connection): a retry
    would send it twice, so the delivery is reported as the sweep reports a worker killed there."""
    import smtplib

    from delivery.errors import SEND_INTERRUPTED

    def lost(reply):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed: timed out")

    _answer_to_the_end_line(monkeypatch, lost)
    delivery = request(reference="16")
    assert services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error, delivery.next_attempt_at) == (
        DeliveryStatus.FAILED,
        SEND_INTERRUPTED,
        None,
    )
    assert len(smtp_server.messages) == 1 and heard[0] == [("16", False, SEND_INTERRUPTED)]
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert services.deliveries_sweep(stuck_after=120) == SWEPT_NOTHING
    assert len(smtp_server.messages) == 1


def test_a_refusal_of_the_message_after_its_end_line_is_tried_again(smtp_server, monkeypatch, heard):
    """An answer to the end line (451) says the server did not keep it: an ordinary retry."""
    _answer_to_the_end_line(monkeypatch, lambda reply: (451, b"4.3.0 try again later"))
    delivery = request(reference="17")
    assert services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 1) and "451" in delivery.last_error
    assert heard[0] == []


def test_an_smtplib_that_sends_the_end_line_otherwise_still_gets_the_send_marked(smtp_server, monkeypatch, caplog):
    monkeypatch.setattr(sending, "END_OF_DATA", b"\x00never sent\x00")
    delivery = request(reference="18")
    assert services.delivery_send(delivery_id=delivery.pk) is True
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.submitted_at is not None
    assert "without its end line in one piece" in caplog.text and len(smtp_server.messages) == 1


def test_each_message_of_a_connection_is_held_before_its_end_line(smtp_server, settings):
    """The hold is made per message: a second message on the same connection is marked too."""
    import smtplib

    marks = []
    with smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT) as smtp:
        progress = sending._hold_the_end_of_data(smtp, lambda: marks.append(len(smtp_server.messages)))
        for number in (1, 2):
            smtp.sendmail("a@example.com", ["b@example.com"], f"Subject: {number}\r\n\r\nbody {number}\r\n")
            assert progress.held and progress.ended
    assert marks == [0, 1]  # each mark came before the server had that message
    assert [m.split(b"\r\n", 1)[0] for m in smtp_server.messages] == [b"Subject: 1", b"Subject: 2"]


def test_a_worker_that_outlived_its_claim_does_not_send_what_the_sweep_gave_back(smtp_server, monkeypatch):
    import smtplib

    delivery = request(reference="12")
    rcpt = smtplib.SMTP.rcpt

    def slow_rcpt(self, *args, **kwargs):  # meanwhile the sweep decides this worker is dead
        with time_machine.travel(timezone.now() + timedelta(seconds=121)):
            services.deliveries_sweep(stuck_after=120)  # released; its send task is queued (inline: sent)
        return rcpt(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "rcpt", slow_rcpt)
    monkeypatch.setattr(sweep, "async_task", lambda *args, **kwargs: None)  # the next worker comes later
    assert services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED and smtp_server.messages == []  # for the next worker, once


def test_a_worker_that_outlived_its_claim_never_undoes_the_next_workers(smtp_server, monkeypatch):
    """Its claim given back and taken by another worker, a late failure of the first changes nothing."""
    import smtplib

    delivery = request(reference="13")
    taken_over_at = timezone.now() + timedelta(seconds=121)

    def rcpt_then_busy(self, address, *args, **kwargs):
        with time_machine.travel(taken_over_at):
            services.deliveries_sweep(stuck_after=120)  # the first worker looks dead: given back
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, claimed_at=taken_over_at)
        raise smtplib.SMTPRecipientsRefused({address: (451, b"mailbox busy")})  # transient: would retry

    monkeypatch.setattr(smtplib.SMTP, "rcpt", rcpt_then_busy)
    monkeypatch.setattr(sweep, "async_task", lambda *args, **kwargs: None)
    assert services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claimed_at, delivery.last_error) == (DeliveryStatus.SENDING, taken_over_at, "")
