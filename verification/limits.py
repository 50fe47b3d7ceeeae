"""Lookups are rate-limited per client, in the cache (Redis when configured): page, file check and
API count together, so switching channel does not buy more guesses. docs/VERIFY_API.md has the
arithmetic of why guessing a code is hopeless within the limit."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

#: Lookups by code: the page, the file check and the API.
LOOKUPS = "verify:ip"
#: The files a page loads (image, logo) and the PDF and LinkedIn links: several per page view, so
#: counted apart, at four times the rate; each still needs a code, so guessing is limited here too.
ASSETS = "verify-assets:ip"


def _rate(group: str) -> str:
    count, period = settings.VERIFY_LOOKUPS_PER_IP.split("/")
    return settings.VERIFY_LOOKUPS_PER_IP if group == LOOKUPS else f"{int(count) * 4}/{period}"


def _retry_after(request: HttpRequest, group: str) -> int | None:
    """Seconds until this client may look up again, or None while it is within the limit."""
    usage = get_usage(request, group=group, key="ip", rate=_rate(group), method=ALL, increment=True)
    if usage and usage["should_limit"]:
        return max(1, int(usage["time_left"]))
    return None


def lookup_limited(*, json: bool = False, group: str = LOOKUPS):
    """Refuse a client over the limit with 429 and Retry-After (a page for people, JSON for the API)."""

    def decorate(view):
        @wraps(view)
        def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "OPTIONS":
                return view(request, *args, **kwargs)
            wait = _retry_after(request, group)
            if wait is None:
                return view(request, *args, **kwargs)
            message = f"Too many lookups from your network. Try again in {wait} seconds."
            if json:
                response = JsonResponse({"error": "rate_limited", "message": message}, status=429)
                response["Access-Control-Allow-Origin"] = "*"
            else:
                response = render(request, "verification/rate_limited.html", {"wait": wait}, status=429)
            response["Retry-After"] = str(wait)
            return response

        return limited

    return decorate
