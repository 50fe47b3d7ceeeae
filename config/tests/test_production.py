"""Production's settings refuse what the embedded default falls back to, and pass Django's deploy checks."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3Y-" + "vQ9_zX7wLp2Rt8sNb4Hd6Jf1Mc5Gy0Ua" * 2


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """What a production machine sets (docs/DEPLOY.md), with ``overrides``; "" removes a setting."""
    for name in ("key", "crt"):
        (tmp_path / f"signing.{name}").write_text("present")  # only their presence is checked at start-up
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": STRONG_KEY,
        "PDF_SIGNING_KEY": str(tmp_path / "signing.key"),
        "PDF_SIGNING_CERT": str(tmp_path / "signing.crt"),
        "AWS_STORAGE_BUCKET_NAME": "laurel-certificates",
        "DATABASE_URL": "postgres://laurel@db.internal:5432/laurel",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "EMAIL_URL": "smtp://mail.example.org:587",
        "SITE_URL": "https://certs.example.org",
        "ALLOWED_HOSTS": "certs.example.org",
        "FONT_CACHE_DIR": str(tmp_path / "fonts"),
        "CREDENTIAL_KEYS_DIR": str(tmp_path / "keys"),
    }
    environment.update(overrides)
    return {name: value for name, value in environment.items() if value != ""}


def run(environment: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *command], env=environment, cwd=ROOT, capture_output=True, text=True
    )


def test_a_complete_production_environment_passes_the_deploy_checks_at_warning_level(tmp_path):
    result = run(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_cookies_and_hsts_in_production(tmp_path):
    program = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY, s.CSRF_COOKIE_SAMESITE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, s.DEBUG)"
    )
    result = run(production_env(tmp_path), "shell", "-c", program)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "True",
        "True",
        "Lax",
        "True",
        "True",
        "Lax",
        "31536000",
        "True",
        "True",
        "False",
    ]


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        ({"DATABASE_URL": ""}, "DATABASE_URL must name PostgreSQL"),
        ({"DATABASE_URL": "sqlite:////tmp/laurel.sqlite3"}, "never falls back to SQLite"),
        ({"REDIS_URL": ""}, "REDIS_URL is not set"),
        ({"EMAIL_URL": ""}, "not django.core.mail.backends.filebased.EmailBackend"),
        ({"EMAIL_URL": "consolemail://"}, "not django.core.mail.backends.console.EmailBackend"),
        ({"SITE_URL": ""}, "SITE_URL is 'http://127.0.0.1:8000'"),
        ({"SITE_URL": "http://certs.example.org"}, "must be the public https:// address"),
        ({"SITE_URL": "https://localhost:8443"}, "must be the public https:// address"),
        ({"SECRET_KEY": "change-me"}, "SECRET_KEY is the example's placeholder or too weak"),
        ({"SECRET_KEY": "a" * 60}, "SECRET_KEY is the example's placeholder or too weak"),
    ],
)
def test_production_refuses_to_start_on_what_the_embedded_default_falls_back_to(tmp_path, overrides, refusal):
    result = run(production_env(tmp_path, **overrides), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and refusal in result.stderr, result.stderr[-600:]


def test_every_refusal_is_said_at_once(tmp_path):
    result = run(production_env(tmp_path, REDIS_URL="", SITE_URL="", SECRET_KEY="change-me"), "check")
    for refusal in ("REDIS_URL is not set", "SITE_URL is", "SECRET_KEY is"):
        assert refusal in result.stderr
