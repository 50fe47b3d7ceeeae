from django.apps import AppConfig


class LearnersConfig(AppConfig):
    name = "learners"

    def ready(self) -> None:
        from delivery import composers

        from . import checks, receivers  # noqa: F401  (a broken receiver must fail loudly)
        from .emails import compose_sign_in
        from .services.accounts import SIGN_IN_COMPOSER

        composers.register(SIGN_IN_COMPOSER, compose_sign_in)
