"""Writes for email delivery: queue, claim, send, retry, settle, track, sweep.

A delivery is claimed (QUEUED -> SENDING in one UPDATE) before anything is sent, so of two workers
only one sends (``sending``); the sweep sends again what was claimed but never began to go and
reports what began and never finished (``sweep``). ``requests`` asks for emails; ``tracking``
applies what the ESP reports afterwards.
"""

from .requests import delivery_forget_addresses, delivery_repoint, delivery_request
from .sending import delivery_send
from .sweep import deliveries_sweep
from .tracking import delivery_record_tracking

__all__ = [
    "deliveries_sweep",
    "delivery_forget_addresses",
    "delivery_record_tracking",
    "delivery_repoint",
    "delivery_request",
    "delivery_send",
]
