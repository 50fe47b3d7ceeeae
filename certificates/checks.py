from django.conf import settings
from django.core.checks import Tags, Warning, register


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
