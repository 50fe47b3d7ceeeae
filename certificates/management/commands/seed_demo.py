import io
import math
import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from PIL import Image, ImageDraw

from certificates.services.issuance import certificate_issue_for_enrollment
from courses.models import Course, IssuanceRule, Organisation, TemplateFamily
from learners.models import CompletionSource, Learner
from learners.services import enrollment_record_completion, learner_upsert

DEMO_PASSWORD = "laurel-demo"

COURSES = [
    dict(
        slug="intro-django",
        title="Introduction to Django",
        instructor_name="Dr. Ada Okafor",
        instructor_title="Lead Instructor",
        issuance_rule=IssuanceRule.ON_COMPLETION,
        template_family=TemplateFamily.COMPLETION,
        threshold=None,
        cohort_name="Autumn 2026 cohort",
        cohort_start=date(2026, 9, 7),
        cohort_end=date(2026, 11, 20),
        custom_fields={"Hours": "24"},
    ),
    dict(
        slug="data-analysis",
        title="Data Analysis with Python",
        instructor_name="Prof. Mateus Oliveira",
        instructor_title="Course Director",
        issuance_rule=IssuanceRule.MIN_SCORE,
        threshold=Decimal("70"),
        template_family=TemplateFamily.ACHIEVEMENT,
        accent_color="#0B6E4F",
        secondary_color="#C9A227",
        page_size="LETTER",
        custom_fields={"Skills": "pandas, SQL, visualisation"},
    ),
    dict(
        slug="clinical-ethics",
        title="Clinical Ethics Assessment",
        instructor_name="Dr. Ingrid Solberg",
        instructor_title="Assessor",
        issuance_rule=IssuanceRule.MANUAL_REVIEW,
        threshold=None,
        template_family=TemplateFamily.ASSESSMENT,
    ),
]

# Names as people write them, in several scripts. The last few show what staff see when data is
# bad or a script is not yet covered by our fonts: the certificate is held with a reason.
NAMES = [
    "Zoë Ångström",
    "José María Fernández",
    "François Lefèvre",
    "Małgorzata Wójcik",
    "Søren Kierkegaard Hansen",
    "Ngozi Adichie",
    "Siobhán O'Brien",
    "Ronald McDonald",
    "Anna van der Berg",
    "Jürgen Müller",
    "Çağla Yılmaz",
    "Nguyễn Thị Minh Khai",
    "Dvořák Antonín",
    "Ólafur Arnalds",
    "Ana Lúcia Gonçalves",
    "Đorđe Petrović",
    "Иван Петрович Смирнов",
    "Анна Кузнецова",
    "Олександр Шевченко",
    "Έλενα Παπαδοπούλου",
    "Γιώργος Νικολάου",
    "Αικατερίνη Δημητρίου",
    "Aarav Sharma",
    "Hiroshi Tanaka",
    "Mei Lin Chen",
    "Fatima Zahra El Amrani",
    "Kwame Mensah",
    "Amara Nwosu",
    "Lucía Hernández",
    "Mateo Rossi",
    "Emma Johansson",
    "Liam O'Connor",
    "Chloé Dubois",
    "Noah Schmidt",
    "Isabella García",
    "Lukas Novák",
    "Sofía Martínez",
    "Oskar Lindqvist",
    "Aino Virtanen",
    "Tomasz Kowalski",
    "Pablo Diego José Francisco de Paula Juan Nepomuceno María de los Remedios "
    "Cipriano de la Santísima Trinidad Ruiz y Picasso",
    "Jean-Luc Picard",
    "Ewa Zielińska",
    "Björk Guðmundsdóttir",
    "محمد عبد الله",
    "李小龙",
    "अर्जुन शर्मा",
    "יעל כהן",
    "山田 はなこ",
    "김민준",
    "রবীন্দ্রনাথ ঠাকুর",
    "தமிழ்செல்வி",
    "สมศักดิ์ ใจดี",
    "សុខ វណ្ណា",
    "Ana \ue000",  # a private-use character no font has: held, not printed as a box
    "",
    "Valid Name Bad Email",
]


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _demo_logo() -> bytes:
    """A laurel-green roundel: stands in for an organisation's real logo."""
    image = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 232, 232), outline="#1F4E79", width=14)
    draw.ellipse((64, 64, 176, 176), fill="#0B6E4F")
    return _png(image)


def _demo_signature(seed: int) -> bytes:
    """A pen stroke: stands in for an instructor's scanned signature."""
    image = Image.new("RGBA", (480, 120), (0, 0, 0, 0))
    points = [(20 + x * 11, 60 + int(28 * math.sin(x / (2.2 + seed)) * math.cos(x / 7))) for x in range(40)]
    ImageDraw.Draw(image).line(points, fill="#1A1A3A", width=5, joint="curve")
    return _png(image)


class Command(BaseCommand):
    help = "Load demo data (an organisation, 3 courses, ~50 learners and their completions). Safe to run again."

    def handle(self, *args, **options):
        with transaction.atomic():
            organisation, _ = Organisation.objects.get_or_create(
                slug="demo-academy",
                defaults={
                    "name": "Demo Academy",
                    "website": "https://academy.example",
                    "reply_to_email": "help@academy.example",
                },
            )
            if not organisation.logo:
                organisation.logo.save("demo-academy.png", ContentFile(_demo_logo()), save=True)
            courses = []
            for spec in COURSES:
                course, _ = Course.objects.get_or_create(
                    slug=spec["slug"], defaults={**spec, "organisation": organisation}
                )
                if course.instructor_name and not course.signature:
                    course.signature.save(f"{course.slug}.png", ContentFile(_demo_signature(len(courses))), save=True)
                courses.append(course)
            # A known password only where DEBUG says this is a developer's machine; anywhere else each
            # new demo account gets a random one, printed once.
            password = DEMO_PASSWORD if settings.DEBUG else secrets.token_urlsafe(12)
            staff, staff_new = self._user(
                password, "admin", is_staff=True, is_superuser=True, email="admin@academy.example"
            )
            support, support_new = self._user(password, "support", is_staff=True, email="support@academy.example")
            support.groups.add(Group.objects.get_or_create(name="support")[0])  # the desk as support sees it
            learner_user, learner_new = self._user(password, "learner", email="learner@academy.example")

            first_enrollment = None
            base_time = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
            for index, name in enumerate(NAMES):
                email = "not-an-email" if "Bad Email" in name else f"learner{index + 1:02d}@learners.example"
                learner = learner_upsert(external_id=f"demo-{index + 1:03d}", email=email, full_name=name)
                course = courses[index % len(courses)]
                score = Decimal(55 + (index * 7) % 45)  # some fall below the 70 threshold
                enrollment = enrollment_record_completion(
                    learner_id=learner.pk,
                    course_id=course.pk,
                    completed_at=base_time + timedelta(hours=index),
                    score=score,
                    source=CompletionSource.DEMO,
                )
                if index == 0:
                    first_enrollment = enrollment
                    Learner.objects.filter(pk=learner.pk, user__isnull=True).update(user=learner_user)
        # Issued here so its verify link can be printed now; the worker renders and emails it.
        certificate = certificate_issue_for_enrollment(enrollment_id=first_enrollment.pk)

        site = settings.SITE_URL
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(NAMES)} learners on {len(courses)} courses."))
        self.stdout.write(
            f"  Admin:      {site}{reverse('admin:index')}  (user {staff.username}, {self._said(password, staff_new)})"
        )
        self.stdout.write(
            f"  Staff desk: the same page as user {support.username} (the support group: queues, no revoking),"
            f" {self._said(password, support_new)}"
        )
        demo_learner = Learner.objects.filter(user=learner_user).first()
        self.stdout.write(
            f"  Dashboard:  {site}{reverse('dashboard:home')}  (ask for a sign-in link for "
            f"{demo_learner.email if demo_learner else 'a learner'}: the email lands with the others below;"
            f" or user {learner_user.username} at {site}{reverse('password_login')},"
            f" {self._said(password, learner_new)})"
        )
        if certificate is not None:
            self.stdout.write(f"  Verify:     {certificate.verify_url}")
        self.stdout.write(
            f"  Emails:     written by the worker to {settings.EMAIL_FILE_PATH or settings.EMAIL_BACKEND}"
        )

    @staticmethod
    def _user(password: str, username: str, **fields):
        user, created = get_user_model().objects.get_or_create(username=username, defaults=fields)
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user, created

    @staticmethod
    def _said(password: str, created: bool) -> str:
        if created or password == DEMO_PASSWORD:
            return f"password {password}"
        return "password as set when it was created"
