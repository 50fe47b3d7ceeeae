"""Counting lookups: how often each certificate was verified, and how, without slowing the page.

A count is added in the web process's memory and written in one statement at most every
LOOKUP_COUNT_FLUSH_SECONDS (and when the process exits), so a page view is never a database
write. A process killed without warning loses at most that many seconds of counts: these are
statistics for staff, not records. Nothing about the visitor (address, agent, referrer) is kept.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter
from datetime import date

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ..models import LookupChannel, LookupCount

logger = logging.getLogger(__name__)

_pending: Counter[tuple[int, date, str]] = Counter()
_lock = threading.Lock()
_last_flush = time.monotonic()


def lookup_count(certificate_id: int, channel: LookupChannel | str) -> None:
    """Count one lookup of a certificate by a channel (page, API, file check, LinkedIn link)."""
    global _last_flush
    with _lock:
        _pending[(certificate_id, timezone.localdate(), str(channel))] += 1
        due = time.monotonic() - _last_flush >= settings.LOOKUP_COUNT_FLUSH_SECONDS
        if due:
            _last_flush = time.monotonic()
    if due:
        lookup_counts_flush()


def lookup_counts_flush() -> int:
    """Write the counts kept in memory; returns how many rows it wrote. Never raises: if the
    database refuses (locked, gone), the counts stay in memory for the next try."""
    with _lock:
        batch = dict(_pending)
        _pending.clear()
    if not batch:
        return 0
    table = connection.ops.quote_name(LookupCount._meta.db_table)
    # One upsert adds to the day's row (SQLite 3.24+ and PostgreSQL share this syntax).
    sql = (
        f"INSERT INTO {table} (certificate_id, day, channel, count) VALUES (%s, %s, %s, %s) "
        f"ON CONFLICT (certificate_id, day, channel) DO UPDATE SET count = {table}.count + excluded.count"
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, [(cid, day, channel, n) for (cid, day, channel), n in batch.items()])
    except DatabaseError:
        logger.warning("lookup counts not written yet (%s rows kept for the next try)", len(batch), exc_info=True)
        with _lock:
            _pending.update(batch)
        return 0
    return len(batch)


def _flush_at_exit() -> None:
    try:
        lookup_counts_flush()
    except Exception:  # the process is going away; nothing to tell
        pass


atexit.register(_flush_at_exit)
