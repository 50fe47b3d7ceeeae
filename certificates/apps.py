from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"

    def ready(self) -> None:
        from delivery import composers

        from . import checks, receivers  # noqa: F401  (a broken receiver must fail loudly)
        from .services.emailing import COMPOSER, compose

        composers.register(COMPOSER, compose)
