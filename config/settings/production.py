"""Production: PostgreSQL, Redis broker, an ESP through anymail. Everything comes from the environment."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.storage import S3_BACKEND

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=3600)
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
# others, so certificates must live in object storage (docs/DEPLOYMENT.md).
if STORAGES["default"]["BACKEND"] != S3_BACKEND:  # noqa: F405
    raise ImproperlyConfigured(
        "AWS_STORAGE_BUCKET_NAME is not set: production keeps PDFs in object storage (docs/DEPLOYMENT.md)"
    )
