"""Pace sending so a burst of certificates does not trip the email provider's rate limit."""

from __future__ import annotations

import threading
import time

from django.conf import settings


class RateLimiter:
    """At most ``EMAIL_MAX_PER_SECOND`` sends a second from this worker process (0: no limit).

    Per process on purpose: no shared state to fail. With N worker processes (Q_WORKERS, times the
    number of machines), set it to the provider's limit divided by N.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        rate = settings.EMAIL_MAX_PER_SECOND
        if not rate:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + 1.0 / rate
        if start > now:
            time.sleep(start - now)


rate_limiter = RateLimiter()
