from django.conf import settings


def site(request) -> dict[str, str]:
    """The public base URL: absolute links come from settings, never from the request's Host header."""
    return {"site_url": settings.SITE_URL}
