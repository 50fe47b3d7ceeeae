"""django-q2 entry points for email delivery. Thin: ids in, one service, safe to run twice."""

from __future__ import annotations

from . import services


def delivery_send_task(delivery_id: int) -> bool:
    return services.delivery_send(delivery_id=delivery_id)
