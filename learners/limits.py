"""Rate limits on sign-in, counted in the cache (Redis in production) by django-ratelimit."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from .services.accounts import normalize_address


def _hit(request: HttpRequest, *, group: str, key, rate: str) -> bool:
    """Count one attempt; True when it is over the limit."""
    usage = get_usage(request, group=group, key=key, rate=rate, method=ALL, increment=True)
    return bool(usage and usage["should_limit"])


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()  # no address or username in cache keys


def sign_in_link_limited(request: HttpRequest, email: str) -> bool:
    """Per client IP and per address: both are counted, either can refuse."""
    by_ip = _hit(request, group="sign-in-link:ip", key="ip", rate=settings.SIGN_IN_LINKS_PER_IP)
    address = _digest(normalize_address(email))
    by_address = _hit(
        request, group="sign-in-link:address", key=lambda _g, _r: address, rate=settings.SIGN_IN_LINKS_PER_ADDRESS
    )
    return by_ip or by_address


def password_limited(request: HttpRequest, username: str) -> bool:
    """Checked before the password is (hashing one costs real CPU): per IP and per username."""
    by_ip = _hit(request, group="password:ip", key="ip", rate=settings.PASSWORD_TRIES_PER_IP)
    name = _digest((username or "").strip().lower())
    by_name = _hit(
        request, group="password:username", key=lambda _g, _r: name, rate=settings.PASSWORD_TRIES_PER_USERNAME
    )
    return by_ip or by_name
