"""Settings for pytest: same code paths, faster hashing, django-q2 runs tasks inline."""

from .base import *  # noqa: F403
from .base import DATABASES, Q_CLUSTER, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "https://certs.example.test"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Unit tests run tasks inline; the end-to-end test starts a real qcluster with Q_SYNC=0.
Q_CLUSTER = {**Q_CLUSTER, "sync": env.bool("Q_SYNC", default=True), "log_level": "WARNING"}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a worker process started by the end-to-end test sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0
LOGGING = {"version": 1, "disable_existing_loggers": False}
LOOKUP_COUNT_FLUSH_SECONDS = 0  # written at once, so tests read them
WHITENOISE_AUTOREFRESH = True  # no collectstatic in tests
