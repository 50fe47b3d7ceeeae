import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from courses.tests.factories import CourseFactory
from learners.models import Enrollment, Learner


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")


class LearnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Learner

    external_id = factory.Sequence(lambda n: f"lms-{n}")
    full_name = factory.Sequence(lambda n: f"Learner Number{n}")
    email = factory.Sequence(lambda n: f"learner{n}@example.com")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        learner = model_class(*args, **kwargs)
        learner.search_text = learner.search_key  # as every service write does
        learner.save()
        return learner


class EnrollmentFactory(factory.django.DjangoModelFactory):
    """A completion record, created directly (no signal): tests call services to start the pipeline."""

    class Meta:
        model = Enrollment

    learner = factory.SubFactory(LearnerFactory)
    course = factory.SubFactory(CourseFactory)
    completed_at = factory.LazyFunction(timezone.now)
