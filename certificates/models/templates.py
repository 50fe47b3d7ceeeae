"""Certificate templates as data: the working copy staff edit, its wording per locale, and the frozen
versions that certificates print (docs/TEMPLATES.md).

A template is edited freely and printed by nothing until it is published; publishing checks it and
freezes it as a CertificateTemplateVersion, which the database keeps unchanged (a trigger refuses
UPDATE and DELETE on PostgreSQL). A certificate version records the template version that printed
it, so regenerating it prints the same bytes whatever happened to the template since.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from courses.models import HEX_COLOUR, Organisation, PageSize, TemplateFamily, validate_locale

from .. import pdf

BACKGROUND_MAX_BYTES = 2 * 1024 * 1024
BACKGROUND_MAX_PIXELS = 3508 * 2480  # A4 at 300 dpi: every render decodes it again


class Frame(models.TextChoices):
    CLASSIC = "classic", "Double frame with corner ornaments"
    BANDS = "bands", "Bands at the top and bottom"
    SIDEBAR = "sidebar", "Sidebars left and right"


class Emblem(models.TextChoices):
    NONE = "", "None (the logo centred at the top)"
    SEAL = "seal", "Rosette seal"
    SCORE = "score", "Score dial"


class Rule(models.TextChoices):
    DIAMOND = "diamond", "Line with a diamond"
    DOUBLE = "double", "Double line"
    PLAIN = "plain", "Plain line"


class FontRole(models.TextChoices):
    SERIF = "serif", "Serif (Noto Serif)"
    SANS = "sans", "Sans serif (Noto Sans)"


def validate_background(file) -> None:
    """PNG, JPEG, or a PDF of one page; small enough that every certificate can carry it."""
    if file.size > BACKGROUND_MAX_BYTES:
        raise ValidationError(
            f"The artwork is {file.size // 1024} KB; keep it under {BACKGROUND_MAX_BYTES // 1024} KB."
        )
    head = file.read(8)
    file.seek(0)
    if head.startswith(b"%PDF-"):
        import pikepdf

        try:
            with pikepdf.open(file) as document:
                pages = len(document.pages)
        except pikepdf.PdfError as exc:
            raise ValidationError(f"The artwork is not a PDF that can be read: {exc}") from exc
        finally:
            file.seek(0)
        if pages != 1:
            raise ValidationError(f"The artwork PDF has {pages} pages; it must have one.")
    elif not (head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8")):
        raise ValidationError("The artwork must be a PNG, a JPEG or a one-page PDF.")
    else:
        from PIL import Image

        try:
            with Image.open(file) as image:  # the header only: a small file can still be a huge picture
                width, height = image.size
        except OSError as exc:
            raise ValidationError(f"The artwork is not an image that can be read: {exc}") from exc
        finally:
            file.seek(0)
        if width * height > BACKGROUND_MAX_PIXELS:
            raise ValidationError(
                f"The artwork is {width} × {height} pixels; 3508 × 2480 (A4 at 300 dpi) is the most a page needs."
            )


class CertificateTemplate(models.Model):
    """The working copy of a design: what staff edit and preview. Certificates print its versions."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="certificate_templates")
    family = models.CharField(max_length=20, choices=TemplateFamily.choices)
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True, help_text="How commands name it, e.g. render_samples --template SLUG.")
    is_default = models.BooleanField(
        default=False,
        help_text="The organisation's template for this family: its courses' new certificates print its "
        "latest published version.",
    )
    frame = models.CharField(max_length=20, choices=Frame.choices, default=Frame.CLASSIC)
    emblem = models.CharField(max_length=20, choices=Emblem.choices, default=Emblem.NONE, blank=True)
    rule = models.CharField(max_length=20, choices=Rule.choices, default=Rule.DIAMOND)
    heading_size = models.PositiveSmallIntegerField(
        default=32, validators=[MinValueValidator(16), MaxValueValidator(44)], help_text="Points; 16 to 44."
    )
    heading_font = models.CharField(max_length=10, choices=FontRole.choices, default=FontRole.SERIF)
    name_font = models.CharField(max_length=10, choices=FontRole.choices, default=FontRole.SERIF)
    body_font = models.CharField(max_length=10, choices=FontRole.choices, default=FontRole.SANS)
    score_prominent = models.BooleanField(
        default=False, help_text="Print the first line with {score} larger, in the accent colour."
    )
    accent_color = models.CharField(max_length=7, default="#1F4E79", validators=[HEX_COLOUR])
    secondary_color = models.CharField(
        max_length=7, blank=True, validators=[HEX_COLOUR], help_text="Inner frame and name rule; blank: the accent."
    )
    ink_color = models.CharField(max_length=7, default="#1A1A1A", validators=[HEX_COLOUR])
    muted_color = models.CharField(max_length=7, default="#5A6470", validators=[HEX_COLOUR])
    page_size = models.CharField(max_length=10, choices=PageSize.choices, default=PageSize.A4)
    logo = models.ImageField(upload_to="branding/templates/", blank=True, help_text="Blank: the organisation's logo.")
    signature = models.ImageField(
        upload_to="branding/templates/", blank=True, help_text="Blank: the course's signature, if it has one."
    )
    background = models.FileField(
        upload_to="branding/backgrounds/",
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "pdf"]), validate_background],
        help_text="Artwork drawn under the text: a PNG or JPEG stretched to the page, or a one-page PDF.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation", "family", "name"]
        permissions = [("publish_certificatetemplate", "Can publish a certificate template")]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "family"], condition=Q(is_default=True), name="template_one_default_per_family"
            ),
            models.CheckConstraint(
                name="template_heading_size_in_range", condition=Q(heading_size__gte=16, heading_size__lte=44)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_family_display().lower()})"


class CertificateTemplateWording(models.Model):
    """What a template says in one locale; the template's first locale (by position) is its fallback."""

    template = models.ForeignKey(CertificateTemplate, on_delete=models.CASCADE, related_name="wordings")
    locale = models.CharField(max_length=20, default="en", validators=[validate_locale])
    position = models.PositiveSmallIntegerField(default=0, help_text="The first is used for any other locale.")
    heading = models.CharField(max_length=200)
    intro = models.CharField(max_length=200, default="This certifies that")
    phrase = models.CharField(max_length=200, help_text="Between the name and the course, e.g. 'has completed'.")
    lines = models.TextField(
        blank=True,
        help_text="Lines under the course title, one per line, in print order, e.g. 'with a score of {score}%'. "
        "A line whose placeholder is empty for a certificate is left out.",
    )
    date_label = models.CharField(max_length=100, default="Date of issue")
    id_label = models.CharField(max_length=100, default="Certificate ID")

    class Meta:
        ordering = ["template", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["template", "locale"], name="template_wording_one_per_locale")]

    def __str__(self) -> str:
        return f"{self.template} [{self.locale}]"

    def as_wording(self) -> pdf.Wording:
        return pdf.Wording(
            heading=self.heading,
            phrase=self.phrase,
            lines=tuple(line.strip() for line in self.lines.splitlines() if line.strip()),
            intro=self.intro,
            date_label=self.date_label,
            id_label=self.id_label,
        )


class CertificateTemplateVersion(models.Model):
    """A published template, frozen: the design (everything the renderer needs, with the storage
    names of its images) as JSON. Never changed or deleted; certificates point at it."""

    template = models.ForeignKey(CertificateTemplate, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    design = models.JSONField()
    note = models.CharField(max_length=500, blank=True, help_text="What changed, in the publisher's words.")
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="template_version_unique_number")]
        triggers = [pgtrigger.Protect(name="template_version_frozen", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("a published template version is frozen")
        super().save(*args, **kwargs)
