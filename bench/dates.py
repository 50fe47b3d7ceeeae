"""Certificate dates: what writing one in its locale costs, against Django's own date filter.

    .venv/bin/python bench/dates.py [--rounds 3]

The floor is Django's ``|date:"j F Y"`` (what the pages used before), timed in the same round;
each figure is a ratio to it (best of seven runs of 20,000 calls).
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from datetime import UTC, date, datetime
from pathlib import Path

# bench/email.py must not shadow the standard library's email package (Django needs it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.template import Context, Template  # noqa: E402
from django.utils.dateformat import format as django_format  # noqa: E402

from courses.dates import format_certificate_date  # noqa: E402

CALLS = 20_000
DAY = date(2026, 12, 3)
STAMP = datetime(2026, 12, 3, 10, tzinfo=UTC)


def microseconds(call) -> float:
    return min(timeit.repeat(call, number=CALLS, repeat=7)) / CALLS * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    old_tag, new_tag = Template('{{ d|date:"j F Y" }}'), Template("{% load dates %}{% certificate_time d 'fr' %}")
    context = Context({"d": DAY})
    for round_number in range(1, args.rounds + 1):
        floor = microseconds(lambda: django_format(DAY, "j F Y"))
        print(f"round {round_number}: floor (Django's date format, j F Y) {floor:.1f} us")
        for locale in ("en", "fr", "de-CH", "ar", "ja", "xx"):
            spent = microseconds(lambda locale=locale: format_certificate_date(DAY, locale))
            print(f"  format_certificate_date({locale!r}) {spent:.1f} us, {spent / floor:.2f}x the floor")
        spent = microseconds(lambda: format_certificate_date(STAMP, "fr"))
        print(f"  a timestamp (to TIME_ZONE first) {spent:.1f} us, {spent / floor:.2f}x the floor")
        old, new = microseconds(lambda: old_tag.render(context)), microseconds(lambda: new_tag.render(context))
        print(f"  in a template: |date {old:.1f} us, certificate_time {new:.1f} us, {new / old:.2f}x")


if __name__ == "__main__":
    main()
