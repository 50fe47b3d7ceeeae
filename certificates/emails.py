"""The certificate email: built from a certificate's frozen snapshot, sent through Django's email API."""

from __future__ import annotations

import re
from email.headerregistry import Address
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.urls import reverse

from .models import CertificateVersion

#: How deliveries of certificate versions name us to the delivery app, and their purposes.
COMPOSER = "certificate"
FIRST_SEND, REISSUE_NOTICE, RESEND = "first_send", "reissue_notice", "resend"

_WHITESPACE = re.compile(r"\s+")
# Control characters become spaces; direction overrides, embeddings, isolates and marks vanish, so a
# name cannot reorder the text around it in a mail client.
_UNPRINTABLE = {
    **dict.fromkeys([*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)], " "),
    **dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C], None),
}


def single_line(value: str) -> str:
    """One line of plain text: a newline in a name must never become a header, nor an override a trick."""
    return _WHITESPACE.sub(" ", (value or "").translate(_UNPRINTABLE)).strip()


def linkedin_add_to_profile_url(certificate: CertificateVersion) -> str:
    """The link we print: through our verify site, which counts it and sends the browser on to LinkedIn."""
    return f"{certificate.certificate.verify_url}linkedin/add/"


def linkedin_share_url(certificate: CertificateVersion) -> str:
    return f"{certificate.certificate.verify_url}linkedin/share/"


def linkedin_add_to_profile_target(certificate: CertificateVersion) -> str:
    """LinkedIn's "add certification to profile" form, filled in from the version."""
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


def _is_single_address(value: str) -> bool:
    """Reply-To takes exactly one valid address: anything else ("a@x, b@y", a newline) is dropped."""
    try:
        validate_email(value or "")
    except ValidationError:
        return False
    return True


def linkedin_share_target(certificate: CertificateVersion) -> str:
    return "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": certificate.certificate.verify_url})


_HONORIFICS = {"dr", "dr.", "prof", "prof.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "mx", "mx.", "sir", "dame"}


def greeting_name(holder: str) -> str:
    """The name to greet with: the first given name where names put it first, else the whole name.

    Chinese, Japanese and Korean names put the family name first, and a greeting by family name alone
    reads oddly; those, and single-word names, are greeted in full.
    """
    words = holder.split()
    if len(words) <= 1 or any("\u2e80" <= char <= "\u9fff" or "\uac00" <= char <= "\ud7af" for char in holder):
        return holder
    while len(words) > 1 and words[0].lower() in _HONORIFICS:
        words = words[1:]
    return words[0]


def build_certificate_email(
    certificate: CertificateVersion,
    pdf_bytes: bytes,
    *,
    recipient: str = "",
    reply_to: str = "",
    paragraph: str = "",
    reissue: bool = False,
    personal_link: str = "",
) -> EmailMultiAlternatives:
    """The message telling a learner their certificate (or its corrected version) is ready, PDF attached.

    ``certificate`` is the version being sent: what it says comes from that version's snapshot.
    ``personal_link`` signs the learner in and opens their dashboard (made when the email is sent).
    """
    dashboard = settings.SITE_URL + reverse("dashboard:home")
    holder = single_line(certificate.holder_name)
    context = {
        "certificate": certificate,
        "first_name": greeting_name(holder),
        "score": f"{certificate.score.normalize():f}%"
        if certificate.score is not None and certificate.template_family in ("achievement", "assessment")
        else "",
        "custom_fields": [(single_line(label), single_line(value)) for label, value in certificate.custom_fields],
        "paragraph": paragraph.strip(),
        "verify_url": certificate.verify_url,
        "dashboard_url": personal_link or dashboard,
        "download_url": personal_link or dashboard,
        "reissue": reissue,
        "linkedin_url": linkedin_add_to_profile_url(certificate),
        "linkedin_share_url": linkedin_share_url(certificate),
    }
    headers = {"X-Laurel-Certificate": certificate.certificate.code}
    subject = "Your corrected certificate for {}" if reissue else "Your certificate for {}"
    message = EmailMultiAlternatives(
        subject=single_line(subject.format(certificate.course_title)),
        body=render_to_string("emails/certificate.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[str(Address(display_name=holder, addr_spec=single_line(recipient or certificate.recipient_email)))],
        reply_to=[reply_to] if _is_single_address(reply_to) else None,
        headers=headers,
    )
    message.attach_alternative(render_to_string("emails/certificate.html", context), "text/html")
    message.attach(f"certificate-{certificate.display_code}.pdf", pdf_bytes, "application/pdf")
    return message
