from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.compatibility, deploy=True)
def site_url_is_public(app_configs, **kwargs):
    if "127.0.0.1" in settings.SITE_URL or "localhost" in settings.SITE_URL:
        return [
            Warning(
                f"SITE_URL is {settings.SITE_URL}: QR codes and email links will point at this machine.",
                hint="Set SITE_URL to the public address of the verify pages.",
                id="certificates.W002",
            )
        ]
    return []


@register()
def render_claims_outlive_tasks(app_configs, **kwargs):
    """A render claim is taken over after CERTIFICATE_STUCK_AFTER: no task may run that long."""
    timeout = settings.Q_CLUSTER.get("timeout") or 0
    if not timeout or settings.CERTIFICATE_STUCK_AFTER <= timeout:
        return [
            Error(
                f"CERTIFICATE_STUCK_AFTER ({settings.CERTIFICATE_STUCK_AFTER} s) must exceed the task timeout "
                f"({timeout} s), or a slow render could be taken over while it still runs.",
                id="certificates.E001",
            )
        ]
    return []
