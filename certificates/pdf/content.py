"""What a certificate says (CertificateContent) and how it is dressed (Design): the renderer's input."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from reportlab.lib.pagesizes import A4, landscape, letter

PAGE_SIZES = {"A4": landscape(A4), "LETTER": landscape(letter)}


@dataclass(frozen=True, slots=True)
class CertificateContent:
    holder_name: str
    course_title: str
    organisation_name: str
    issued_on: date
    code: str  # display form, e.g. K7QM-3XWD-9PHT-R2VA
    verify_url: str
    template_family: str = "completion"
    instructor_name: str = ""
    instructor_title: str = ""
    score: Decimal | None = None
    cohort: str = ""
    custom_fields: tuple[tuple[str, str], ...] = ()  # (label, value), printed in this order
    phrase: str = ""  # the course's own words between the name and the course; blank: the template's
    completed_on: date | None = None
    #: A preview for staff, never a certificate: marked SAMPLE across the page, and its ID and QR
    #: code say so instead of pointing at a verify page.
    sample: bool = False


SAMPLE_CODE = "SAMPLE-NOT-VALID"
SAMPLE_QR = "SAMPLE - this is a preview, not a certificate"


def as_sample(content: CertificateContent) -> CertificateContent:
    return replace(content, code=SAMPLE_CODE, verify_url="", sample=True)


@dataclass(frozen=True, slots=True)
class Design:
    accent: str = "#1F4E79"
    secondary: str = ""  # the inner frame, the rule under the name and the ornaments; blank: the accent
    ink: str = "#1A1A1A"
    muted: str = "#5A6470"
    page_size: str = "A4"  # or "LETTER"
    locale: str = "en"  # for the date of issue
    logo: bytes | None = field(default=None, repr=False)  # PNG or JPEG
    signature: bytes | None = field(default=None, repr=False)
    #: Artwork drawn under everything: a PNG or JPEG stretched to the page, or a one-page PDF.
    background: bytes | None = field(default=None, repr=False)

    def page(self) -> tuple[float, float]:
        return PAGE_SIZES.get(self.page_size.upper(), PAGE_SIZES["A4"])
