import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse

from certificates import demo
from certificates.models import CertificateTemplate, CertificateTemplateWording
from certificates.services.issuance import certificate_issue_for_enrollment
from certificates.tests.scripts import SAMPLES
from courses.models import Course, IssuanceRule, Organisation, TemplateFamily
from learners.models import CompletionSource, Learner
from learners.services import enrollment_record_completion, learner_upsert

DEMO_PASSWORD = "laurel-demo"

DEMO_ART = Path(demo.__file__).resolve().parent  # how these were drawn: certificates/demo/art.py

# Every family on both paper sizes (issuing courses), and one course that needs manual review, for
# the staff desk. "signature" names the instructor's PNG in DEMO_ART.
COURSES = [
    dict(
        slug="intro-django",
        title="Introduction to Django",
        instructor_name="Dr. Ada Okafor",
        instructor_title="Lead Instructor",
        signature="okafor",
        issuance_rule=IssuanceRule.ON_COMPLETION,
        template_family=TemplateFamily.COMPLETION,
        threshold=None,
        cohort_name="Autumn 2026 cohort",
        cohort_start=date(2026, 9, 7),
        cohort_end=date(2026, 11, 20),
        custom_fields={"Hours": "24"},
    ),
    dict(
        slug="project-management",
        title="Project Management Foundations",
        instructor_name="Hiroshi Tanaka",
        instructor_title="Programme Lead",
        signature="tanaka",
        issuance_rule=IssuanceRule.ON_COMPLETION,
        template_family=TemplateFamily.COMPLETION,
        threshold=None,
        accent_color="#7A2E2E",
        secondary_color="#B08D57",
        page_size="LETTER",
        custom_fields={"Hours": "16"},
    ),
    dict(
        slug="data-analysis",
        title="Data Analysis with Python",
        instructor_name="Prof. Mateus Oliveira",
        instructor_title="Course Director",
        signature="oliveira",
        issuance_rule=IssuanceRule.MIN_SCORE,
        threshold=Decimal("70"),
        template_family=TemplateFamily.ACHIEVEMENT,
        accent_color="#0B6E4F",
        secondary_color="#C9A227",
        page_size="LETTER",
        custom_fields={"Skills": "pandas, SQL, visualisation"},
    ),
    dict(
        slug="cloud-architecture",
        title="Cloud Architecture in Practice",
        instructor_name="Prof. Mateus Oliveira",
        instructor_title="Course Director",
        signature="oliveira",
        issuance_rule=IssuanceRule.MIN_SCORE,
        threshold=Decimal("70"),
        template_family=TemplateFamily.ACHIEVEMENT,
        accent_color="#3B2F6B",
        secondary_color="#C9A227",
        page_size="A4",
    ),
    dict(
        slug="food-safety",
        title="Food Safety Level 2 Assessment",
        instructor_name="Dr. Ingrid Solberg",
        instructor_title="Assessor",
        signature="solberg",
        issuance_rule=IssuanceRule.MIN_SCORE,
        threshold=Decimal("70"),
        template_family=TemplateFamily.ASSESSMENT,
        accent_color="#1D5C7A",
        page_size="A4",
        custom_fields={"Level": "2"},
    ),
    dict(
        slug="first-aid",
        title="Workplace First Aid Assessment",
        instructor_name="Dr. Ingrid Solberg",
        instructor_title="Assessor",
        signature="solberg",
        issuance_rule=IssuanceRule.MIN_SCORE,
        threshold=Decimal("70"),
        template_family=TemplateFamily.ASSESSMENT,
        accent_color="#9E2A2B",
        page_size="LETTER",
    ),
    dict(
        slug="clinical-ethics",
        title="Clinical Ethics Assessment",
        instructor_name="Dr. Ingrid Solberg",
        instructor_title="Assessor",
        signature="solberg",
        issuance_rule=IssuanceRule.MANUAL_REVIEW,
        threshold=None,
        template_family=TemplateFamily.ASSESSMENT,
    ),
]
# Courses taught in a language whose readers expect their own glyph forms and dates: the samples
# with that locale are issued there (Japanese kanji in Japanese forms, Urdu in Nastaliq).
COURSES += [
    dict(
        slug="business-japanese",
        title="ビジネス日本語 (Business Japanese)",
        instructor_name="Dr. Ada Okafor",
        instructor_title="Lead Instructor",
        signature="okafor",
        issuance_rule=IssuanceRule.ON_COMPLETION,
        threshold=None,
        template_family=TemplateFamily.COMPLETION,
        page_size="A4",
        locale="ja",
    ),
    dict(
        slug="urdu-poetry",
        title="اردو شاعری: غالب اور اقبال",
        instructor_name="Prof. Mateus Oliveira",
        instructor_title="Course Director",
        signature="oliveira",
        issuance_rule=IssuanceRule.ON_COMPLETION,
        threshold=None,
        template_family=TemplateFamily.ASSESSMENT,
        accent_color="#0B6E4F",
        page_size="A4",
        locale="ur",
    ),
    dict(
        slug="chinese-calligraphy",
        title="書法入門 (Chinese Calligraphy)",
        instructor_name="Dr. Ingrid Solberg",
        instructor_title="Assessor",
        signature="solberg",
        issuance_rule=IssuanceRule.ON_COMPLETION,
        threshold=None,
        template_family=TemplateFamily.ACHIEVEMENT,
        secondary_color="#C9A227",
        page_size="LETTER",
        locale="zh-TW",
    ),
]
BY_LOCALE = {spec["locale"]: spec["slug"] for spec in COURSES if spec.get("locale")}
ISSUING = [
    spec["slug"] for spec in COURSES if spec["issuance_rule"] != IssuanceRule.MANUAL_REVIEW and not spec.get("locale")
]

# Names as people write them. The last few show what staff see when data is bad or a script is not
# yet covered by our fonts: the certificate is held with a reason. These go round every course (some
# fall below a threshold, some wait for manual review); the learners named in SCRIPTS are issued.
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
    "Dvořák Antonín",
    "Ólafur Arnalds",
    "Ana Lúcia Gonçalves",
    "Đorđe Petrović",
    "Анна Кузнецова",
    "Олександр Шевченко",
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
    "Al",
    "Ana \ue000",  # a private-use character no font has: held, not printed as a box
    "",
    "Valid Name Bad Email",
]

#: One learner per script the certificates print (the samples the rendering tests use), each issued:
#: spread over the issuing courses, so every family on A4 and Letter shows a mix of scripts,
#: right-to-left and Indic among them.
SCRIPTS = list(SAMPLES.values())


def _art(name: str) -> bytes:
    return (DEMO_ART / name).read_bytes()


class Command(BaseCommand):
    help = (
        "Load demo data (an organisation, 10 courses: every family on A4 and Letter, three in Japanese, Urdu and"
        " Traditional Chinese, ~90 learners in 47 scripts,"
        " and their completions). Safe to run again."
    )

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
                organisation.logo.save("demo-academy.png", ContentFile(_art("logo.png")), save=True)
            courses = []
            for spec in COURSES:
                fields = {key: value for key, value in spec.items() if key != "signature"}
                course, _ = Course.objects.get_or_create(
                    slug=spec["slug"], defaults={**fields, "organisation": organisation}
                )
                if course.instructor_name and not course.signature:
                    signature = ContentFile(_art(f"signature-{spec['signature']}.png"))
                    course.signature.save(f"{course.slug}.png", signature, save=True)
                courses.append(course)
            by_slug = {course.slug: course for course in courses}
            self._draft_template(organisation)
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
            for index, sample in enumerate(SCRIPTS):
                learner = learner_upsert(
                    external_id=f"demo-script-{index + 1:03d}",
                    email=f"script{index + 1:02d}@learners.example",
                    full_name=sample.name,
                )
                enrollment_record_completion(
                    learner_id=learner.pk,
                    course_id=by_slug[BY_LOCALE.get(sample.locale) or ISSUING[index % len(ISSUING)]].pk,
                    completed_at=base_time + timedelta(days=1, hours=index),
                    score=Decimal(76 + (index * 7) % 24),  # over every threshold: issued
                    source=CompletionSource.DEMO,
                )
        # Issued here so its verify link can be printed now; the worker renders and emails it.
        certificate = certificate_issue_for_enrollment(enrollment_id=first_enrollment.pk)

        site = settings.SITE_URL
        learners = len(NAMES) + len(SCRIPTS)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {learners} learners on {len(courses)} courses."))
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
    def _draft_template(organisation: Organisation) -> None:
        """A template for the achievement family, saved but not published: staff preview it, change
        it and publish it in the admin (docs/TEMPLATES.md); until then the built-in one prints."""
        template, created = CertificateTemplate.objects.get_or_create(
            slug="demo-academy-achievement",
            defaults=dict(
                organisation=organisation,
                family=TemplateFamily.ACHIEVEMENT,
                name="Demo Academy achievement",
                is_default=True,
                frame="bands",
                emblem="seal",
                rule="double",
                heading_size=30,
                accent_color="#0B5563",
                secondary_color="#C9A227",
            ),
        )
        if not created:
            return
        CertificateTemplateWording.objects.create(
            template=template,
            locale="en",
            position=0,
            heading="Certificate of Achievement",
            intro="Demo Academy certifies that",
            phrase="has achieved the learning outcomes of",
            lines="with a final score of {score}%\n{cohort}\n{custom}",
        )
        CertificateTemplateWording.objects.create(
            template=template,
            locale="ja",
            position=1,
            heading="修了証明書",
            intro="以下の者は",
            phrase="次の講座を優秀な成績で修了したことを証明します",
            lines="最終スコア {score}%\n{cohort}\n{custom}",
            date_label="発行日",
            id_label="証明書番号",
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
