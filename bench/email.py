# ruff: noqa: E501
"""Email benchmark: 2,000 certificate emails (PDF attached) to a local SMTP server.

    .venv/bin/python bench/email.py [--count 2000]

Compares one SMTP connection reused for every message with one connection per message, through
Django's SMTP backend. The server (aiosmtpd, discarding messages) runs in its own process.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is bench/email.py: keep it from shadowing the standard library's email package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    port = free_port()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DEBUG="false",
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        DATABASE_URL="sqlite:///:memory:",
    )
    import django

    django.setup()
    from django.core.mail import get_connection

    from certificates import codes, pdf
    from certificates.emails import build_certificate_email
    from certificates.models import Certificate, CertificateVersion
    from certificates.services.rendering import content_for

    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        certificate = CertificateVersion(
            pk=1,
            certificate=Certificate(pk=1, code=codes.new_code()),
            number=1,
            holder_name="Ada Lovelace",
            recipient_email="ada@example.org",
            course_title="Data Analysis with Python",
            organisation_name="Demo Academy",
            template_family="achievement",
            instructor_name="Prof. Mateus Oliveira",
            issued_on=date(2026, 11, 26),
            score=Decimal("92"),
            cohort="Spring 2026 cohort",
            custom_fields=[["Skills", "pandas, SQL"]],
        )
        content = content_for(certificate)
        attachment = pdf.render_pdf(content)
        messages = [
            build_certificate_email(certificate, attachment, recipient=f"learner{i}@example.org")
            for i in range(args.count)
        ]
        size_kb = len(messages[0].message().as_bytes()) / 1024
        print(f"{args.count} messages of {size_kb:.0f} KB each (PDF {len(attachment) / 1024:.0f} KB)")

        started = time.perf_counter()
        with get_connection() as connection:  # one connection, kept open
            sent = connection.send_messages(messages)
        reused = time.perf_counter() - started
        print(f"  one connection reused:   {reused:6.1f} s, {sent / reused:6.0f} messages/s")

        started = time.perf_counter()
        for message in messages:
            message.connection = None
            message.send()  # opens and closes a connection each time
        per_message = time.perf_counter() - started
        print(f"  one connection each:     {per_message:6.1f} s, {args.count / per_message:6.0f} messages/s")
        print(f"  reusing is {per_message / reused:.1f}x faster")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
