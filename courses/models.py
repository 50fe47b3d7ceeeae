from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast, Length
from django.db.models.lookups import LessThanOrEqual

from . import dates, wording
from .custom_fields import CUSTOM_FIELDS_MAX_JSON_LENGTH, CustomFieldsError, check_custom_fields

HEX_COLOUR = RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Use a colour like #1F4E79.")


def validate_custom_fields(value) -> None:
    """Custom fields print as "Label: value": an object of short labels to text (or lists of text)."""
    try:
        check_custom_fields(value)
    except CustomFieldsError as exc:
        raise ValidationError(str(exc)) from exc


def custom_fields_fit(field_name: str) -> LessThanOrEqual:
    """A check constraint's condition: the JSON, as text, is within CUSTOM_FIELDS_MAX_JSON_LENGTH."""
    return LessThanOrEqual(Length(Cast(field_name, output_field=models.TextField())), CUSTOM_FIELDS_MAX_JSON_LENGTH)


def validate_wording(value: str) -> None:
    """Placeholders a certificate can fill, written correctly."""
    try:
        wording.check_wording(value)
    except wording.WordingError as exc:
        raise ValidationError(str(exc)) from exc


def validate_locale(value: str) -> None:
    """A locale Babel knows, so the date of issue can be written in it."""
    if value and not dates.is_known_locale(value):
        raise ValidationError(f"Unknown locale {value!r}; use a code like en, fr, de-CH, ar, ja.")


class PageSize(models.TextChoices):
    A4 = "A4", "A4 landscape"
    LETTER = "LETTER", "US Letter landscape"


class Organisation(models.Model):
    """Who issues the certificates: name and contact appear on certificates and emails."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    website = models.URLField(blank=True)
    reply_to_email = models.EmailField(blank=True, help_text="Replies to certificate emails go here.")
    logo = models.ImageField(
        upload_to="branding/logos/",
        blank=True,
        help_text="PNG or JPEG, printed at the head of every certificate (300 dpi at its printed size is plenty).",
    )
    accent_color = models.CharField(max_length=7, default="#1F4E79", validators=[HEX_COLOUR])
    secondary_color = models.CharField(
        max_length=7, blank=True, validators=[HEX_COLOUR], help_text="Inner frame and name rule; blank: the accent."
    )
    page_size = models.CharField(max_length=10, choices=PageSize.choices, default=PageSize.A4)
    locale = models.CharField(
        max_length=20, default="en", validators=[validate_locale], help_text="Language for dates, e.g. en, fr, ar, ja."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IssuanceRule(models.TextChoices):
    ON_COMPLETION = "on_completion", "Issue on completion"
    MIN_SCORE = "min_score", "Issue when the score reaches the threshold"
    ATTENDANCE = "attendance", "Issue when attendance reaches the threshold"
    MANUAL_REVIEW = "manual_review", "Hold for manual review"


class TemplateFamily(models.TextChoices):
    COMPLETION = "completion", "Completion"
    ACHIEVEMENT = "achievement", "Achievement"
    ASSESSMENT = "assessment", "Assessment"


PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
VALIDITY_MONTHS_MIN, VALIDITY_MONTHS_MAX = 1, 600  # a month to fifty years
EMAIL_PARAGRAPH_MAX_LENGTH = 2000


def default_family() -> str:
    """The platform-wide default template family (CERTIFICATE_DEFAULT_TEMPLATE_FAMILY)."""
    return settings.CERTIFICATE_DEFAULT_TEMPLATE_FAMILY


class Course(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="courses")
    slug = models.SlugField(unique=True, help_text="The LMS's course code, as it appears in imports.")
    external_id = models.CharField(
        max_length=200, blank=True, help_text="The LMS's own course id, when it sends that instead of the code."
    )
    title = models.CharField(max_length=300)
    instructor_name = models.CharField(max_length=200, blank=True)
    instructor_title = models.CharField(max_length=200, blank=True)
    issuance_rule = models.CharField(max_length=20, choices=IssuanceRule.choices, default=IssuanceRule.ON_COMPLETION)
    threshold = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT,
        help_text="Minimum score or attendance, in percent, for the threshold rules.",
    )
    validity_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(VALIDITY_MONTHS_MIN), MaxValueValidator(VALIDITY_MONTHS_MAX)],
        help_text="Certificates expire this many months after issue; blank: they never expire.",
    )
    template_family = models.CharField(max_length=20, choices=TemplateFamily.choices, default=default_family)
    # Branding and extras; blank means "use the organisation's".
    accent_color = models.CharField(max_length=7, blank=True, validators=[HEX_COLOUR])
    secondary_color = models.CharField(max_length=7, blank=True, validators=[HEX_COLOUR])
    page_size = models.CharField(max_length=10, choices=PageSize.choices, blank=True)
    locale = models.CharField(max_length=20, blank=True, validators=[validate_locale])
    signature = models.ImageField(
        upload_to="branding/signatures/", blank=True, help_text="The instructor's signature (PNG, transparent)."
    )
    certificate_phrase = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_wording],
        help_text="The course's own words between the name and the course title, e.g. 'has completed 40 hours "
        "of'; blank: the template's. Placeholders such as {cohort} work here too.",
    )
    email_paragraph = models.TextField(
        blank=True,
        max_length=EMAIL_PARAGRAPH_MAX_LENGTH,
        validators=[MaxLengthValidator(EMAIL_PARAGRAPH_MAX_LENGTH)],
        help_text="An optional paragraph for the certificate email, e.g. a line about the final project.",
    )
    cohort_name = models.CharField(max_length=200, blank=True, help_text="e.g. Spring 2026 cohort")
    cohort_start = models.DateField(null=True, blank=True)
    cohort_end = models.DateField(null=True, blank=True)
    custom_fields = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_custom_fields],
        help_text='Printed when present, e.g. {"Hours": "40"}. Per-learner values win.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                name="course_threshold_with_threshold_rule",
                condition=(
                    Q(issuance_rule__in=[IssuanceRule.MIN_SCORE, IssuanceRule.ATTENDANCE], threshold__isnull=False)
                    | ~Q(issuance_rule__in=[IssuanceRule.MIN_SCORE, IssuanceRule.ATTENDANCE])
                ),
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="course_unique_external_id"
            ),
            models.CheckConstraint(
                name="course_threshold_is_percent",
                condition=Q(threshold__isnull=True) | Q(threshold__gte=0, threshold__lte=100),
            ),
            models.CheckConstraint(
                name="course_validity_months_in_range",
                condition=Q(validity_months__isnull=True)
                | Q(validity_months__gte=VALIDITY_MONTHS_MIN, validity_months__lte=VALIDITY_MONTHS_MAX),
            ),
            models.CheckConstraint(name="course_custom_fields_fit", condition=custom_fields_fit("custom_fields")),
            models.CheckConstraint(
                name="course_email_paragraph_fits",
                condition=LessThanOrEqual(Length("email_paragraph"), EMAIL_PARAGRAPH_MAX_LENGTH),
            ),
        ]

    def __str__(self) -> str:
        return self.title
