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
from delivery.signals import delivery_settled, delivery_tracked

pytestmark = pytest.mark.django_db

REFUSED = set()


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
        assert services.deliveries_sweep(stuck_after=120) == {"retry": 1, "interrupted": 0}
        assert services.deliveries_sweep(stuck_after=120) == {"retry": 0, "interrupted": 0}  # nudge recorded
    assert len(mailoutbox) == 1


def test_an_interrupted_send_is_reported_never_resent(heard, mailoutbox):
    delivery = request()
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, claimed_at=timezone.now())
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
