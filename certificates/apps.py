from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"

    def ready(self) -> None:
        from delivery import composers

        from . import checks, receivers  # noqa: F401  (a broken receiver must fail loudly)
        from .emails import COMPOSER
        from .services.cases import CASE_COMPOSER, compose_case_email
        from .services.emailing import compose
        from .watchdog import checks as watchdog_checks  # noqa: F401
        from .watchdog import receivers as watchdog_receivers  # noqa: F401

        composers.register(COMPOSER, compose)
        composers.register(CASE_COMPOSER, compose_case_email)
