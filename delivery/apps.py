from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Email delivery"

    def ready(self) -> None:
        from . import checks, receivers  # noqa: F401  (a broken receiver must fail loudly)
