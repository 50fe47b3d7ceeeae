import pytest
import time_machine
from django.utils import timezone


@pytest.fixture
def one_rate_window():
    """The clock stands still: a test that counts requests against a per-minute allowance must not
    see the allowance's window roll over between its requests (django-ratelimit's windows are fixed
    spans of time.time(), so a slow request near a boundary starts a fresh count)."""
    with time_machine.travel(timezone.now(), tick=False):
        yield
