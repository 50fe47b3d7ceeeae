"""Certificate dates in templates, written as the PDF writes them (courses/dates.py).

``{{ value|certificate_date:locale }}`` gives the plain string (text emails, meta descriptions);
``{% certificate_time value locale %}`` marks it up for a page whose language stays English:
``<time datetime="2026-12-03" lang="fr">3 décembre 2026</time>``, so a screen reader pronounces
the date in its own language, and a right-to-left date is isolated from the English around it.
"""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from courses.dates import calendar_date, format_certificate_date, is_right_to_left, language_tag

register = template.Library()

#: The language pages and emails are written in; a date in it needs no ``lang`` of its own.
PAGE_LANGUAGE = "en"


@register.filter
def certificate_date(value: date | datetime | None, locale: str = "") -> str:
    return format_certificate_date(value, locale)


@register.simple_tag
def certificate_time(value: date | datetime | None, locale: str = "") -> SafeString:
    if value is None:
        return mark_safe("")
    tag = language_tag(locale)
    language = format_html(' lang="{}"', tag) if tag.split("-")[0] != PAGE_LANGUAGE else ""
    direction = mark_safe(' dir="rtl"') if is_right_to_left(locale) else ""
    return format_html(
        '<time datetime="{}"{}{}>{}</time>',
        calendar_date(value).isoformat(),
        language,
        direction,
        format_certificate_date(value, locale),
    )
