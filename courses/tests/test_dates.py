from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template

from courses.dates import format_certificate_date, language_tag
from courses.models import validate_locale

DAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    "locale, written",
    [
        ("fr", "3 décembre 2026"),
        ("de-CH", "3. Dezember 2026"),  # as the course form accepts it, with a hyphen
        ("de_CH", "3. Dezember 2026"),
        ("en", "December 3, 2026"),
        ("en-GB", "3 December 2026"),
        ("ja", "2026年12月3日"),
        ("", "December 3, 2026"),
        ("xx", "December 3, 2026"),
        ("not a locale!", "December 3, 2026"),
    ],
)
def test_a_date_is_written_in_the_locale_or_else_in_english(locale, written):
    assert format_certificate_date(DAY, locale) == written


def test_a_timestamp_is_dated_by_the_sites_time_zone(settings):
    settings.TIME_ZONE = "Pacific/Auckland"  # UTC+13 in December
    late_in_utc = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    assert format_certificate_date(late_in_utc, "fr") == "3 décembre 2026"
    settings.TIME_ZONE = "UTC"
    assert format_certificate_date(late_in_utc, "fr") == "2 décembre 2026"


def test_no_date_is_an_empty_string():
    assert format_certificate_date(None, "fr") == ""


def test_the_language_tag_is_the_one_dates_are_written_in():
    assert language_tag("de_CH") == "de-CH"
    assert language_tag("fr") == "fr"
    assert language_tag("xx") == "en"  # the date falls back to English, so does its tag


def _render(source: str, **context) -> str:
    return Template("{% load dates %}" + source).render(Context(context))


def test_the_time_tag_marks_a_date_not_in_english_with_its_language():
    assert _render("{% certificate_time day 'fr' %}", day=DAY) == (
        '<time datetime="2026-12-03" lang="fr">3 décembre 2026</time>'
    )
    assert _render("{% certificate_time day 'en' %}", day=DAY) == '<time datetime="2026-12-03">December 3, 2026</time>'
    assert _render("{% certificate_time day 'ar' %}", day=DAY) == (
        '<time datetime="2026-12-03" lang="ar" dir="rtl">3 ديسمبر 2026</time>'
    )
    assert _render("{% certificate_time day 'fr' %}", day=None) == ""


def test_the_filter_gives_the_plain_string():
    assert _render("{{ day|certificate_date:'de' }}", day=DAY) == "3. Dezember 2026"
    assert _render("{{ day|certificate_date:'de' }}", day=None) == ""


@pytest.mark.parametrize("locale", ["fr", "de-CH", "pt_BR", "ar", "ja", ""])
def test_a_course_accepts_locales_babel_writes_dates_in(locale):
    validate_locale(locale)


@pytest.mark.parametrize("locale", ["xx", "fr-", "en/US"])
def test_a_course_refuses_a_locale_that_would_quietly_print_english(locale):
    with pytest.raises(ValidationError, match="Unknown locale"):
        validate_locale(locale)
