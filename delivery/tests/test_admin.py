import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from delivery.models import Delivery, SuppressedAddress, TrackingEvent

pytestmark = pytest.mark.django_db


def make_events(count: int) -> None:
    start = Delivery.objects.count()
    for index in range(start, start + count):
        delivery = Delivery.objects.create(composer="test", reference=str(index), recipient=f"a{index}@example.com")
        TrackingEvent.objects.create(event_key=f"k{index}", delivery=delivery, event_type="delivered")
        SuppressedAddress.objects.create(email=f"a{index}@example.com", reason="bounced")


@pytest.mark.parametrize("model", ["delivery", "trackingevent", "suppressedaddress"])
def test_delivery_lists_run_a_constant_number_of_queries(client, model):
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    url = reverse(f"admin:delivery_{model}_changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context.captured_queries)

    make_events(1)
    with_one = queries()
    make_events(20)
    assert queries() == with_one
