"""Production: PostgreSQL, Redis broker, an ESP through anymail. Everything comes from the environment."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.storage import S3_BACKEND

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)  # behind the proxy: X-Forwarded-Proto
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True  # no script reads it: forms carry the token in a hidden field
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# A year of HSTS, subdomains and the preload list: certificates are only ever served over HTTPS.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Certificates go out signed by the organisation's own certificate (docs/SIGNING.md), never a
# self-signed demo one: refuse to start without it.
PDF_SIGNING_SELF_SIGNED = False
PDF_SIGNING_KEY = env.path("PDF_SIGNING_KEY")
PDF_SIGNING_CERT = env.path("PDF_SIGNING_CERT")
# Credential keys are made by `manage.py credential_keys make` at deployment, never silently.
CREDENTIAL_KEYS_AUTO_CREATE = False
for _setting, _path in (("PDF_SIGNING_KEY", PDF_SIGNING_KEY), ("PDF_SIGNING_CERT", PDF_SIGNING_CERT)):
    if not Path(_path).is_file():
        raise ImproperlyConfigured(f"{_setting} names {_path}, which is not a readable file (docs/SIGNING.md)")

# Web and workers run on several machines: a file written to one machine's disk is missing on the
# others, so certificates must live in object storage (docs/DEPLOY.md).
if STORAGES["default"]["BACKEND"] != S3_BACKEND:  # noqa: F405
    raise ImproperlyConfigured(
        "AWS_STORAGE_BUCKET_NAME is not set: production keeps PDFs in object storage (docs/DEPLOY.md)"
    )

# What the embedded default falls back to (SQLite, email to files, a localhost address, the example's
# key) must never reach learners: production refuses to start, and says everything that is missing.
PLACEHOLDER_SECRET_KEYS = {"change-me", "insecure-dev-key-change-me"}
LOCAL_EMAIL_BACKENDS = {
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


def _refusals() -> list[str]:
    from urllib.parse import urlsplit

    problems = []
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":  # noqa: F405
        problems.append("DATABASE_URL must name PostgreSQL (postgres://…); production never falls back to SQLite")
    if not REDIS_URL:  # noqa: F405
        problems.append("REDIS_URL is not set: workers on several machines share a Redis broker and cache")
    if EMAIL_BACKEND in LOCAL_EMAIL_BACKENDS:  # noqa: F405
        problems.append(
            f"EMAIL_URL or EMAIL_BACKEND must send email (smtp://… or an anymail ESP), not {EMAIL_BACKEND}"  # noqa: F405
        )
    site = urlsplit(SITE_URL)  # noqa: F405
    host = (site.hostname or "").lower()
    if site.scheme != "https" or host in ("", "localhost", "127.0.0.1", "::1") or host.endswith(".localhost"):
        problems.append(
            f"SITE_URL is {SITE_URL!r}: every QR code and email link starts with it, so it must be the "  # noqa: F405
            "public https:// address"
        )
    if SECRET_KEY in PLACEHOLDER_SECRET_KEYS or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        problems.append(
            "SECRET_KEY is the example's placeholder or too weak: make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    return problems


if _problems := _refusals():
    raise ImproperlyConfigured("production cannot start: " + "; ".join(_problems) + " (docs/DEPLOY.md)")
