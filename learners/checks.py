"""Start-up checks for sign-in: rate limits only protect when every web process counts in one place."""

from django.conf import settings
from django.core import checks

_UNSHARED = ("django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache")


@checks.register(checks.Tags.caches, deploy=True)
def rate_limit_cache_is_shared(app_configs, **kwargs):
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in _UNSHARED:
        return [
            checks.Error(
                f"sign-in rate limits are counted in {backend}, which each web process keeps to itself",
                hint="Set REDIS_URL: several processes (gunicorn workers, machines) must share one count.",
                id="learners.E001",
            )
        ]
    return []
