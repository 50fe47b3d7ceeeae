import factory

from courses.models import Course, IssuanceRule, Organisation, TemplateFamily


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Academy {n}")
    reply_to_email = "help@academy.example"


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    organisation = factory.SubFactory(OrganisationFactory)
    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    instructor_name = "Dr. Ada Okafor"
    instructor_title = "Lead Instructor"
    issuance_rule = IssuanceRule.ON_COMPLETION
    template_family = TemplateFamily.COMPLETION

    class Params:
        min_score = factory.Trait(issuance_rule=IssuanceRule.MIN_SCORE, threshold=70)
        manual_review = factory.Trait(issuance_rule=IssuanceRule.MANUAL_REVIEW)
