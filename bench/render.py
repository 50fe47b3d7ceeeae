# ruff: noqa: E501  (an HTML/CSS template and report lines read better unwrapped)
"""Rendering benchmark: our reportlab renderer against an equivalent WeasyPrint design, same run.

    .venv/bin/pip install -r bench/requirements.txt     # WeasyPrint, for the comparison only
    .venv/bin/python bench/render.py [--count 500] [--weasyprint-count 50] [--branded]
    .venv/bin/python bench/render.py --sign [--count 300]

--branded prints the demo logo and signature (certificates/demo/) on every certificate.
--sign measures only signing (PAdES B-B, as the pipeline stores it): the CPU time of --count
signatures of real certificates, beside the floor and the render.

Reports median ms per certificate, certificates per second on one core, median and max PDF size, and
the peak RSS of this process (measured before WeasyPrint is imported, which runs in a child process).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
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

from certificates import codes, fonts, pdf, signing  # noqa: E402
from certificates.tests.scripts import SAMPLES  # noqa: E402

COURSES = [
    "Introduction to Data Analysis",
    "Clinical Ethics Assessment",
    "Основы SQL",
    "التحليل الإحصائي",
    "数据科学导论",
]


Item = tuple[pdf.CertificateContent, pdf.Design]
LOGO = ROOT / "certificates" / "demo" / "logo.png"
SIGNATURE = ROOT / "certificates" / "demo" / "signature-okafor.png"


def contents(count: int, *, branded: bool = False) -> list[Item]:
    """Certificates rotating through every sampled script (in its locale where it has one), the three
    families and both paper sizes."""
    samples = list(SAMPLES.values())
    # Read once: 500 copies of the images (23 KB a certificate) would count 12 MB against the
    # renderer's peak RSS, where a worker holds one certificate at a time.
    logo, signature = LOGO.read_bytes(), SIGNATURE.read_bytes()
    items = []
    for index in range(count):
        code = codes.display(codes.new_code())
        sample = samples[index % len(samples)]
        content = pdf.CertificateContent(
            holder_name=sample.name,
            course_title=COURSES[index % len(COURSES)],
            organisation_name="Demo Academy",
            issued_on=date(2026, 11, 26),
            code=code,
            verify_url=f"https://certs.example.org/verify/{code}/",
            template_family=("completion", "achievement", "assessment")[index % 3],
            instructor_name="Dr. Ada Okafor",
            instructor_title="Lead Instructor",
            score=Decimal(60 + index % 40),
        )
        design = pdf.Design(locale=sample.locale or "en", page_size=("A4", "LETTER")[index // 3 % 2])
        if branded:
            design = replace(design, logo=logo, signature=signature)
        items.append((content, design))
    return items


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_ours(items: list[Item]) -> dict[str, float]:
    for content, design in items[: len(SAMPLES)]:
        pdf.render_pdf(content, design)  # load each script's face once, as a long-running worker has
    times, cpu_times, sizes, signing_times, signed_sizes = [], [], [], [], []
    started = time.perf_counter()
    for content, design in items:
        t0, c0 = time.perf_counter(), time.process_time()
        data = pdf.render_pdf(content, design)
        times.append((time.perf_counter() - t0) * 1000)
        cpu_times.append((time.process_time() - c0) * 1000)  # less disturbed by other processes
        sizes.append(len(data) / 1024)
    total = time.perf_counter() - started
    rss = peak_rss_mb()  # the renderer's; pyHanko's imports come after
    signing.sign_pdf(data)  # load the key once, as a worker does
    for content, design in items[:100]:  # what the pipeline stores and sends: the signed file
        data = pdf.render_pdf(content, design)
        t0 = time.perf_counter()
        signed = signing.sign_pdf(data)
        signing_times.append((time.perf_counter() - t0) * 1000)
        signed_sizes.append(len(signed) / 1024)
    return {
        "median_ms": statistics.median(times),
        "median_cpu_ms": statistics.median(cpu_times),
        "p95_ms": sorted(times)[int(len(times) * 0.95) - 1],
        "per_second": len(items) / total,
        "median_kb": statistics.median(sizes),
        "max_kb": max(sizes),
        "peak_rss_mb": rss,
        "signing_median_ms": statistics.median(signing_times),
        "signed_median_kb": statistics.median(signed_sizes),
        "signed_max_kb": max(signed_sizes),
    }


def bench_floor(count: int = 300) -> dict[str, float]:
    """The floor: a one-line reportlab page (Helvetica, no fonts to embed), as issue 15 defines it."""
    from reportlab.pdfgen.canvas import Canvas

    times, cpu_times = [], []
    for index in range(count):
        t0, c0 = time.perf_counter(), time.process_time()
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=pdf.PAGE_SIZES["A4"], invariant=True, pageCompression=1)
        canvas.drawString(72, 500, f"Certificate {index}")
        canvas.showPage()
        canvas.save()
        times.append((time.perf_counter() - t0) * 1000)
        cpu_times.append((time.process_time() - c0) * 1000)
    return {"median_ms": statistics.median(times), "median_cpu_ms": statistics.median(cpu_times)}


def bench_signing(items: list[Item]) -> dict[str, float]:
    """Each certificate rendered, then signed: the CPU time of the signature alone (the figure that
    moves least with the machine's load), and the render's beside it."""
    pages = [pdf.render_pdf(content, design) for content, design in items]
    signing.sign_pdf(pages[0])  # load the key once, as a worker does
    render_cpu, sign_cpu, sign_wall = [], [], []
    for (content, design), page in zip(items, pages, strict=True):
        c0 = time.process_time()
        pdf.render_pdf(content, design)
        render_cpu.append((time.process_time() - c0) * 1000)
        t0, c0 = time.perf_counter(), time.process_time()
        signing.sign_pdf(page)
        sign_cpu.append((time.process_time() - c0) * 1000)
        sign_wall.append((time.perf_counter() - t0) * 1000)
    return {
        "render_cpu_ms": statistics.median(render_cpu),
        "sign_cpu_ms": statistics.median(sign_cpu),
        "sign_wall_ms": statistics.median(sign_wall),
    }


def weasy_html(content: pdf.CertificateContent) -> str:
    import qrcode
    import qrcode.image.svg

    svg = io.BytesIO()
    qrcode.make(content.verify_url, image_factory=qrcode.image.svg.SvgPathImage, border=0).save(svg)
    chain = [spec for spec in fonts.all_font_files() if spec is not fonts.SANS]  # the serif first
    faces = "".join(
        f"@font-face {{ font-family: 'laurel-{i}'; src: url('file://{spec.path}'); }}" for i, spec in enumerate(chain)
    )
    serif = ", ".join(f"'laurel-{i}'" for i in range(len(chain)))
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>{faces}
@page {{ size: A4 landscape; margin: 0 }}
body {{ margin: 0; font-family: {serif}; color: #1a1a1a }}
.page {{ box-sizing: border-box; width: 297mm; height: 210mm; border: 6px solid #1F4E79; padding: 12px; text-align: center }}
.inner {{ border: 1px solid #1F4E79; height: 100%; box-sizing: border-box; padding: 40px 60px; position: relative }}
.org {{ color: #5a6470; font-size: 13pt }} h1 {{ color: #1F4E79; font-size: 32pt; font-weight: normal; margin: 16px 0 }}
.name {{ font-size: 40pt; border-bottom: 1px solid #1F4E79; display: inline-block; padding: 0 40px }}
.course {{ font-size: 22pt }} .muted {{ color: #5a6470; font-size: 12pt }}
.foot {{ position: absolute; bottom: 40px; left: 60px; right: 60px; display: flex; justify-content: space-between; align-items: flex-end }}
.qr svg {{ width: 84pt; height: 84pt }}
</style></head><body><div class="page"><div class="inner">
<div class="org">{content.organisation_name}</div><h1>Certificate of Completion</h1>
<div class="muted">This certifies that</div><div class="name">{content.holder_name}</div>
<div class="muted">has successfully completed</div><div class="course">{content.course_title}</div>
<div class="foot"><div>{content.instructor_name}<br><span class="muted">{content.instructor_title}</span></div>
<div>26 November 2026<br><span class="muted">Date of issue</span></div>
<div>Certificate ID<br>{content.code}</div><div class="qr">{svg.getvalue().decode()}</div></div>
<div class="muted">Verify this certificate: {content.verify_url}</div></div></div></body></html>"""


def bench_weasyprint(items: list[Item]) -> dict[str, float] | None:
    """Runs in a child process so WeasyPrint's memory does not count against ours."""
    payload = base64.b64encode(json.dumps([weasy_html(content) for content, _ in items]).encode()).decode()
    child = subprocess.run(
        [sys.executable, "-c", _WEASY_CHILD], input=payload, capture_output=True, text=True, cwd=ROOT
    )
    if child.returncode != 0:
        print(f"WeasyPrint comparison skipped: {child.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(child.stdout)


_WEASY_CHILD = """
import base64, json, statistics, sys, time
import weasyprint
pages = json.loads(base64.b64decode(sys.stdin.read()))
weasyprint.HTML(string=pages[0]).write_pdf()
times, sizes = [], []
for html in pages:
    t0 = time.perf_counter()
    data = weasyprint.HTML(string=html).write_pdf()
    times.append((time.perf_counter() - t0) * 1000)
    sizes.append(len(data) / 1024)
print(json.dumps({"median_ms": statistics.median(times), "median_kb": statistics.median(sizes), "max_kb": max(sizes)}))
"""


def report_signing(items: list[Item]) -> None:
    for content, design in items[: len(SAMPLES)]:
        pdf.render_pdf(content, design)  # each script's face loaded once, as in a long-running worker
    floor = bench_floor()
    signed = bench_signing(items)
    print(f"signing ({len(items)} certificates, PAdES B-B as stored):")
    print(
        f"  floor (a one-line reportlab page): CPU {floor['median_cpu_ms']:.2f} ms;"
        f" render: CPU {signed['render_cpu_ms']:.1f} ms;"
        f" signing: CPU {signed['sign_cpu_ms']:.2f} ms (wall {signed['sign_wall_ms']:.2f} ms),"
        f" {signed['sign_cpu_ms'] / signed['render_cpu_ms']:.2f}x the render, medians"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--weasyprint-count", type=int, default=50)
    parser.add_argument("--branded", action="store_true", help="the demo logo and signature on every certificate")
    parser.add_argument("--sign", action="store_true", help="measure only signing, beside the floor and the render")
    args = parser.parse_args()
    items = contents(args.count, branded=args.branded)
    if args.sign:
        report_signing(items)
        return
    before = bench_floor()
    ours = bench_ours(items)
    after = bench_floor()
    floor = min((before, after), key=lambda measured: measured["median_cpu_ms"])
    scripts = len({sample.script for sample in SAMPLES.values()})
    print(f"ours ({args.count} certificates, names in {scripts} scripts):")
    print(
        f"  median {ours['median_ms']:.1f} ms (CPU {ours['median_cpu_ms']:.1f} ms), p95 {ours['p95_ms']:.1f} ms,"
        f" {ours['per_second']:.0f} certificates/s on one core"
    )
    print(
        f"  PDF size median {ours['median_kb']:.1f} KB, max {ours['max_kb']:.1f} KB; peak RSS {ours['peak_rss_mb']:.0f} MB"
    )
    print(
        f"  floor (a one-line reportlab page, best of before and after): median {floor['median_ms']:.2f} ms"
        f" (CPU {floor['median_cpu_ms']:.2f} ms); ours is {ours['median_cpu_ms'] / floor['median_cpu_ms']:.1f}x"
        " the floor in CPU"
    )
    print(
        f"  signing (PAdES B-B, as stored): median {ours['signing_median_ms']:.1f} ms more;"
        f" signed size median {ours['signed_median_kb']:.1f} KB, max {ours['signed_max_kb']:.1f} KB"
    )
    weasy = bench_weasyprint(items[: args.weasyprint_count]) if args.weasyprint_count else None
    if weasy:
        print(f"WeasyPrint ({args.weasyprint_count} certificates, same text, fonts and QR code):")
        print(
            f"  median {weasy['median_ms']:.1f} ms, PDF size median {weasy['median_kb']:.1f} KB, max {weasy['max_kb']:.1f} KB"
        )
        print(f"ours is {weasy['median_ms'] / ours['median_ms']:.1f}x faster (median to median)")


if __name__ == "__main__":
    main()
