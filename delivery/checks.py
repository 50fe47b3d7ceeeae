from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.compatibility, deploy=True)
def email_backend_is_real(app_configs, **kwargs):
    """In production a console, file or memory backend means no learner ever gets their certificate."""
    backend = settings.EMAIL_BACKEND
    if any(name in backend for name in ("console", "filebased", "locmem", "dummy")):
        return [
            Warning(
                f"EMAIL_BACKEND is {backend}: certificates will not reach learners.",
                hint="Set EMAIL_URL to an SMTP server or EMAIL_BACKEND to an anymail ESP backend.",
                id="delivery.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def tracking_webhooks_have_a_secret(app_configs, **kwargs):
    if "anymail" in settings.EMAIL_BACKEND and not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return [
            Warning(
                "ANYMAIL has no WEBHOOK_SECRET: delivery tracking (bounces, complaints) is switched off.",
                hint='Add "WEBHOOK_SECRET": "user:password" to ANYMAIL and the same in the ESP webhook URL.',
                id="delivery.W002",
            )
        ]
    return []
