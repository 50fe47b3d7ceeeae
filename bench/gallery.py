"""Render one certificate per script into docs/scripts/*.png for docs/SCRIPTS.md.

.venv/bin/python bench/gallery.py
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from certificates import pdf  # noqa: E402
from certificates.tests.scripts import NAMES_BY_SCRIPT  # noqa: E402

LOCALES = {
    "Latin": "fr",
    "Cyrillic": "ru",
    "Greek": "el",
    "Chinese": "zh",
    "Japanese": "ja",
    "Korean": "ko",
    "Arabic": "ar",
    "Hebrew": "he",
    "Devanagari": "hi",
    "Bengali": "bn",
    "Tamil": "ta",
    "Thai": "th",
    "Khmer": "km",
}
BASE = pdf.CertificateContent(
    holder_name="",
    course_title="Introduction to Data Analysis",
    organisation_name="Demo Academy",
    issued_on=date(2026, 11, 26),
    code="K7QM-3XWD-9PHT-R2VA",
    verify_url="https://certs.example.org/verify/K7QM-3XWD-9PHT-R2VA/",
    instructor_name="Dr. Ada Okafor",
    instructor_title="Lead Instructor",
)


def main() -> None:
    out = ROOT / "docs" / "scripts"
    out.mkdir(parents=True, exist_ok=True)
    for script, name in NAMES_BY_SCRIPT.items():
        data = pdf.render_pdf(replace(BASE, holder_name=name), pdf.Design(locale=LOCALES[script]))
        (out / f"{script.lower()}.png").write_bytes(pdf.render_preview_png(data))
        print(f"{script:<11} {name:<28} {len(data) / 1024:5.1f} KB")


if __name__ == "__main__":
    main()
