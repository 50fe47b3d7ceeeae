"""The certificate email: built from a certificate's frozen snapshot, sent through Django's email API."""

from __future__ import annotations

import re
from email.headerregistry import Address
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Certificate

_WHITESPACE = re.compile(r"\s+")


def single_line(value: str) -> str:
    """Collapse newlines and runs of whitespace: a newline in a name must never become a header."""
    return _WHITESPACE.sub(" ", value or "").strip()


def linkedin_add_to_profile_url(certificate: Certificate) -> str:
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": certificate.course_title,
        "organizationName": certificate.organisation_name,
        "issueYear": certificate.issued_on.year,
        "issueMonth": certificate.issued_on.month,
        "certUrl": certificate.verify_url,
        "certId": certificate.display_code,
    }
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


def build_certificate_email(
    certificate: Certificate, pdf_bytes: bytes, *, reply_to: str = ""
) -> EmailMultiAlternatives:
    """The message telling a learner their certificate is ready, with the PDF attached."""
    holder = single_line(certificate.holder_name)
    context = {
        "certificate": certificate,
        "first_name": holder.split(" ")[0] if holder else "",
        "verify_url": certificate.verify_url,
        "dashboard_url": settings.SITE_URL + reverse("learners:dashboard"),
        "linkedin_url": linkedin_add_to_profile_url(certificate),
    }
    subject = single_line(f"Your certificate for {certificate.course_title}")
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/certificate.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[str(Address(display_name=holder, addr_spec=single_line(certificate.recipient_email)))],
        reply_to=[reply_to] if reply_to else None,
        headers={"X-Laurel-Certificate": certificate.code},
    )
    message.attach_alternative(render_to_string("emails/certificate.html", context), "text/html")
    message.attach(f"certificate-{certificate.display_code}.pdf", pdf_bytes, "application/pdf")
    return message
