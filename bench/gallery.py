"""Render one certificate per script into docs/scripts/*.png for docs/SCRIPTS.md.

.venv/bin/python bench/gallery.py
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/email.py must not shadow the standard library's email package (Django needs it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from certificates import pdf  # noqa: E402
from certificates.tests.scripts import SAMPLES  # noqa: E402

#: The date of issue in a locale of the script's readers, where Babel has one.
DATE_LOCALES = {
    "Latin": "fr", "Vietnamese (Latin)": "vi", "Cyrillic": "ru", "Greek": "el", "Chinese (Simplified)": "zh",
    "Chinese (Traditional)": "zh_Hant_TW", "Japanese": "ja", "Japanese (kanji only)": "ja", "Korean": "ko",
    "Arabic": "ar", "Urdu (Nastaliq)": "ur", "Hebrew": "he", "Devanagari": "hi", "Bengali": "bn",
    "Gurmukhi": "pa", "Gujarati": "gu", "Oriya": "or", "Tamil": "ta", "Telugu": "te", "Kannada": "kn",
    "Malayalam": "ml", "Sinhala": "si", "Thai": "th", "Lao": "lo", "Khmer": "km", "Myanmar": "my",
    "Tibetan": "bo", "Armenian": "hy", "Georgian": "ka", "Ethiopic": "am", "Mongolian": "mn",
}  # fmt: skip
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
    for old in out.glob("*.png"):
        old.unlink()
    for label, sample in SAMPLES.items():
        locale = sample.locale or DATE_LOCALES.get(label, "en")
        data = pdf.render_pdf(replace(BASE, holder_name=sample.name), pdf.Design(locale=locale))
        (out / f"{slug(label)}.png").write_bytes(thumbnail(data))
        print(f"{label:<24} {sample.name:<28} {len(data) / 1024:5.1f} KB")


def slug(label: str) -> str:
    return "".join(char if char.isalnum() else "-" for char in label.lower()).strip("-").replace("--", "-")


def thumbnail(pdf_bytes: bytes, width: int = 720) -> bytes:
    """The whole certificate as a small PNG (a 64-colour palette keeps 47 of them near 2 MB)."""
    import pypdfium2
    from PIL import Image

    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        page = document[0]
        image = page.render(scale=width / page.get_size()[0]).to_pil().convert("RGB")
    finally:
        document.close()
    out = io.BytesIO()
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
    return out.getvalue()


if __name__ == "__main__":
    main()
