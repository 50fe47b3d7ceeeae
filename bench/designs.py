"""Render each template family on A4 and Letter into docs/designs/*.png for docs/DESIGNS.md.

.venv/bin/python bench/designs.py

The demo organisation's logo and an instructor's signature (certificates/demo/) are on every page;
the last pictures show a short and a very long name, and names in right-to-left and Indic scripts.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[1]
# bench/email.py must not shadow the standard library's email package (Django needs it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django.setup()  # the fonts read FONT_CACHE_DIR from the settings

from certificates import pdf  # noqa: E402

DEMO = ROOT / "certificates" / "demo"
WIDTH = 1100  # pixels across: enough to judge the typography, small enough for a README

BASE = pdf.CertificateContent(
    holder_name="Zoë Ångström",
    course_title="Data Analysis with Python",
    organisation_name="Demo Academy",
    issued_on=date(2026, 11, 26),
    code="K7QM-3XWD-9PHT-R2VA",
    verify_url="https://certs.example.org/verify/K7QM-3XWD-9PHT-R2VA/",
    instructor_name="Dr. Ada Okafor",
    instructor_title="Lead Instructor",
    score=Decimal("92.5"),
    cohort="Autumn 2026 cohort",
    custom_fields=(("Hours", "24"), ("Skills", "pandas, SQL")),
)
#: The demo courses' colours: the default blue, green and gold, and a teal.
COLOURS = {"completion": ("#1F4E79", ""), "achievement": ("#0B6E4F", "#C9A227"), "assessment": ("#1D5C7A", "")}
EXTRA = {
    "completion-a4-short-name": ("completion", "A4", dict(holder_name="Al")),
    "completion-letter-long-name": (
        "completion",
        "LETTER",
        dict(holder_name="Maximiliana Josefina Alessandra Bartholomew-Fitzgerald de la Cruz Ortega"),
    ),
    "achievement-a4-arabic": ("achievement", "A4", dict(holder_name="محمد عبد الله", course_title="التحليل الإحصائي")),
    "assessment-letter-devanagari": ("assessment", "LETTER", dict(holder_name="अर्जुन क्षत्रिय")),
}


def picture(content: pdf.CertificateContent, design: pdf.Design) -> tuple[bytes, int]:
    import pypdfium2

    data = pdf.render_pdf(content, design)
    document = pypdfium2.PdfDocument(data)
    try:
        page = document[0]
        image = page.render(scale=WIDTH / page.get_size()[0]).to_pil().convert("RGB")
    finally:
        document.close()
    out = io.BytesIO()
    image.quantize(128).save(out, format="PNG", optimize=True)
    return out.getvalue(), len(data)


def main() -> None:
    out = ROOT / "docs" / "designs"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    logo, signature = (DEMO / "logo.png").read_bytes(), (DEMO / "signature-okafor.png").read_bytes()
    jobs = {
        f"{family}-{size.lower()}": (family, size, {}) for family in pdf.FAMILIES for size in ("A4", "LETTER")
    } | EXTRA
    for name, (family, size, changes) in jobs.items():
        accent, secondary = COLOURS[family]
        design = pdf.Design(accent=accent, secondary=secondary, page_size=size, logo=logo, signature=signature)
        png, pdf_size = picture(replace(BASE, template_family=family, **changes), design)
        (out / f"{name}.png").write_bytes(png)
        print(f"{name:<32} PDF {pdf_size / 1024:5.1f} KB   PNG {len(png) / 1024:5.1f} KB")


if __name__ == "__main__":
    main()
