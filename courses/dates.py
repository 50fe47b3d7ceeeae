"""The one way a certificate's dates are written: in the certificate's locale, Babel's long format.

The PDF, the email, the verify page and the dashboard all call this, so a French course's learner
reads "3 décembre 2026" everywhere, never "3 December 2026" on one and "December 3, 2026" on another.
Staff pages keep their sortable ``Y-m-d H:i`` timestamps; the API keeps ISO dates.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from django.utils import timezone

FALLBACK_LOCALE = "en"


@lru_cache(maxsize=256)
def certificate_locale(locale: str) -> Locale:
    """The Babel locale for a course's locale code (``fr``, ``de-CH``, ``pt_BR``); English when unknown."""
    try:
        return Locale.parse((locale or FALLBACK_LOCALE).strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(FALLBACK_LOCALE)


def is_known_locale(locale: str) -> bool:
    """Whether Babel can write dates in ``locale`` (anything else would quietly print English)."""
    try:
        Locale.parse((locale or "").strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True


def calendar_date(value: date | datetime) -> date:
    """The day ``value`` falls on in the site's time zone (TIME_ZONE), the zone the PDF's date of
    issue is taken in; a timestamp read as UTC could be a day off."""
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def format_certificate_date(value: date | datetime | None, locale: str) -> str:
    """``value`` as the certificate writes it, e.g. ``3 décembre 2026`` for ``fr``; '' for no date."""
    if value is None:
        return ""
    return format_date(calendar_date(value), format="long", locale=certificate_locale(locale))


def language_tag(locale: str) -> str:
    """The BCP 47 tag for HTML's ``lang`` (``de-CH``), of the locale dates are actually written in."""
    parsed = certificate_locale(locale)
    return "-".join(part for part in (parsed.language, parsed.script, parsed.territory) if part)


def is_right_to_left(locale: str) -> bool:
    return certificate_locale(locale).text_direction == "rtl"
