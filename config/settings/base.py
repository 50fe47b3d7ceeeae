"""Settings shared by every environment; everything that varies is read from the environment."""

from pathlib import Path

import environ

from config.storage import s3_backend

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-change-me")
# Earlier keys, still accepted while a new SECRET_KEY rolls out (sessions, sign-in links): docs/DEPLOY.md.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

#: Every absolute link we print or send (QR codes, emails) starts with this.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "config.admin_site.DeskAdminConfig",  # django.contrib.admin with the desk as its site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "anymail",
    "pgtrigger",
    "django_ratelimit",
    "csp",
    "courses",
    "learners",
    "delivery",
    "certificates",
    "verification",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# SQLite (embedded default) or PostgreSQL via DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)  # the embedded default must work from a fresh clone
    # WAL + IMMEDIATE transactions let the web process and the worker share one file without
    # "database is locked" errors (measured; WAL also made SQLite the fastest single-machine broker).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Values bound on the server, and a statement run a few times on a connection prepared there, so
    # PostgreSQL parses and plans it once per connection: the pipeline runs the same few dozen
    # statements for every certificate, and this took a third or more off the server's CPU per
    # certificate in a burst (docs/PERFORMANCE.md). The verify page's read asks to be prepared at
    # once. Turn it off behind a pooler that cannot keep prepared statements (PgBouncer in
    # transaction mode, unless 1.21 or later with max_prepared_statements above 0). A statement
    # bound on the server takes at most 65,535 values: long lists of ids go as one array
    # (certificates.id_lists).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=env.bool("DATABASE_PREPARED_READS", default=True)):
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
# Persistent connections: a new one per request (and, on SQLite, its pragmas) was a large share of a
# verify page's time (measured, docs/PERFORMANCE.md). django-q2 closes stale ones around every task.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"
# Staff sign in with a password; learners by an emailed link (django-sesame: signed tokens, nothing
# stored). docs/SIGN_IN.md explains the rules and their trade-offs.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "sesame.backends.ModelBackend"]
#: Single use: a token is bound to the user's last sign-in, so signing in burns every link sent before.
SESAME_ONE_TIME = True
#: A change of address voids the links sent to the old one.
SESAME_INVALIDATE_ON_EMAIL_CHANGE = True
#: The sign-in link asked for on the site lives this long, in seconds (at most 15 minutes).
SIGN_IN_LINK_MAX_AGE = min(env.int("SIGN_IN_LINK_MAX_AGE", default=15 * 60), 15 * 60)
#: The personal link in every certificate email lives this long, in seconds (days: see docs/SIGN_IN.md).
EMAIL_LINK_MAX_AGE = env.int("EMAIL_LINK_MAX_AGE", default=14 * 24 * 3600)
# Timestamps on, checked against each link's own lifetime; the longest is the default.
SESAME_MAX_AGE = max(SIGN_IN_LINK_MAX_AGE, EMAIL_LINK_MAX_AGE)
#: Rate limits (django-ratelimit: count/period, e.g. "5/h", "10/15m"), counted in the cache.
SIGN_IN_LINKS_PER_ADDRESS = env("SIGN_IN_LINKS_PER_ADDRESS", default="5/h")
SIGN_IN_LINKS_PER_IP = env("SIGN_IN_LINKS_PER_IP", default="30/h")
PASSWORD_TRIES_PER_USERNAME = env("PASSWORD_TRIES_PER_USERNAME", default="5/15m")
PASSWORD_TRIES_PER_IP = env("PASSWORD_TRIES_PER_IP", default="20/15m")
#: Where the client's address is: REMOTE_ADDR, or behind one trusted proxy a header it sets.
RATELIMIT_IP_META_KEY = env("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")
RATELIMIT_VIEW = "learners.views.rate_limited"

# --- I18n ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Files --------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
#: Fonts made from installed ones (a Regular cut of Noto Sans JP): made once by `prepare_fonts`.
FONT_CACHE_DIR = env.path("FONT_CACHE_DIR", default=BASE_DIR / "var" / "fonts")
#: The identity that signs every certificate PDF (certificates/signing.py, docs/SIGNING.md): a PEM
#: private key, its certificate and any intermediate CA certificates. Kept out of the database (and
#: its dumps). With PDF_SIGNING_SELF_SIGNED a self-signed pair is made there on first use (the
#: embedded default, the demo); production requires a real one.
PDF_SIGNING_KEY = env.path("PDF_SIGNING_KEY", default=BASE_DIR / "var" / "keys" / "pdf-signing.key")
PDF_SIGNING_CERT = env.path("PDF_SIGNING_CERT", default=BASE_DIR / "var" / "keys" / "pdf-signing.crt")
PDF_SIGNING_CHAIN = env.list("PDF_SIGNING_CHAIN", default=[])
PDF_SIGNING_KEY_PASSWORD = env("PDF_SIGNING_KEY_PASSWORD", default="")
PDF_SIGNING_SELF_SIGNED = env.bool("PDF_SIGNING_SELF_SIGNED", default=True)
PDF_SIGNING_SELF_SIGNED_NAME = env("PDF_SIGNING_SELF_SIGNED_NAME", default="Laurel demo issuer")
#: Open Badges credentials (docs/CREDENTIALS.md): the folder of Ed25519 signing keys (files, never in
#: the database; `manage.py credential_keys`), made on first use where CREDENTIAL_KEYS_AUTO_CREATE is
#: on (the embedded default and the demo; off in production); how long a status list may be cached.
CREDENTIAL_KEYS_DIR = env.path("CREDENTIAL_KEYS_DIR", default=BASE_DIR / "var" / "keys" / "credentials")
CREDENTIAL_KEYS_AUTO_CREATE = env.bool("CREDENTIAL_KEYS_AUTO_CREATE", default=True)
CREDENTIAL_STATUS_TTL = env.int("CREDENTIAL_STATUS_TTL", default=300)
CREDENTIAL_STATUS_LIST_SIZE = env.int("CREDENTIAL_STATUS_LIST_SIZE", default=131_072)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Object storage: with a bucket named, PDFs, previews, branding and exports live there, so web and
# worker machines share no disk (docs/DEPLOY.md). Credentials come from boto3's own chain
# (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or the machine's role).
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = s3_backend(
        bucket_name=AWS_STORAGE_BUCKET_NAME,
        endpoint_url=env("AWS_S3_ENDPOINT_URL", default=""),
        region_name=env("AWS_S3_REGION_NAME", default=""),
        addressing_style=env("AWS_S3_ADDRESSING_STYLE", default=""),
        location=env("AWS_LOCATION", default=""),
    )

# --- Email --------------------------------------------------------------------------------------
# EMAIL_URL: smtp://user:pass@host:587, consolemail://, or filemail:///var/mail (relative to the
# project) / filemail:////abs/path. EMAIL_BACKEND, when set, wins (e.g. an anymail ESP backend).
_email = env.email_url("EMAIL_URL", default="filemail:///var/mail")
EMAIL_BACKEND = env("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
EMAIL_FILE_PATH = str(BASE_DIR / _email["EMAIL_FILE_PATH"]) if _email["EMAIL_FILE_PATH"] else None
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Laurel Certificates <certificates@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
#: anymail's settings as JSON, e.g. {"MAILGUN_API_KEY": "...", "MAILGUN_SENDER_DOMAIN": "..."}.
ANYMAIL = env.json("ANYMAIL", default={})

# --- Queue (django-q2) --------------------------------------------------------------------------
# The database remembers the work (certificate status); the queue only nudges it forward, and the
# sweep re-nudges anything stuck. The cluster is watched from outside: docs/WATCHDOG.md.
Q_CLUSTER = {
    "name": "laurel",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 60,  # one render or one send; well under retry
    "retry": 180,
    "max_attempts": 3,
    "ack_failures": True,
    "save_limit": -1,  # keep failures only: storing every success costs ~17 ms a task
    "catch_up": False,
    "log_level": env("Q_LOG_LEVEL", default="WARNING"),
    "sync": env.bool("Q_SYNC", default=False),
}
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Cache: rate limits are counted here, so every web process must share it (Redis) -------------
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:  # the embedded default runs one web process, which this cache serves well
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# django-ratelimit knows Django's own Redis cache as "unsupported" and local memory as unshared;
# learners.checks says what matters instead: production must count in a shared cache (Redis).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- LMS ingestion ------------------------------------------------------------------------------
#: Standard Webhooks secrets ("whsec_..."), comma-separated; several at once while rotating.
LMS_WEBHOOK_SECRETS = env.list("LMS_WEBHOOK_SECRETS", default=[])
#: Drop folder for the nightly CSV import; empty disables it.
COMPLETIONS_IMPORT_DIR = env("COMPLETIONS_IMPORT_DIR", default="")

# --- Certificates -------------------------------------------------------------------------------
#: Template family for new courses: completion, achievement or assessment.
CERTIFICATE_DEFAULT_TEMPLATE_FAMILY = env("CERTIFICATE_DEFAULT_TEMPLATE_FAMILY", default="completion")
#: How long a pipeline step may wait before the sweep nudges it again, in seconds.
CERTIFICATE_STUCK_AFTER = env.int("CERTIFICATE_STUCK_AFTER", default=120)
#: How many times the pipeline tries a step before holding the certificate for staff.
CERTIFICATE_MAX_ATTEMPTS = env.int("CERTIFICATE_MAX_ATTEMPTS", default=5)

# --- Security headers ---------------------------------------------------------------------------
# django-csp: no inline script, no framing, nothing loaded from elsewhere. The admin (Django's own
# pages, staff only) is left out: its templates are not ours to keep free of inline code.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Public verification ------------------------------------------------------------------------
#: Lookup counts (per certificate, day and channel) are kept in memory and written this often, in seconds.
LOOKUP_COUNT_FLUSH_SECONDS = env.int("LOOKUP_COUNT_FLUSH_SECONDS", default=10)
#: Lookups per client IP (page, file check and API together; django-ratelimit rates like "60/m").
VERIFY_LOOKUPS_PER_IP = env("VERIFY_LOOKUPS_PER_IP", default="120/m")
#: The file check refuses larger uploads, in bytes; our PDFs are under 100 KB.
VERIFY_UPLOAD_MAX_BYTES = env.int("VERIFY_UPLOAD_MAX_BYTES", default=2 * 1024 * 1024)
#: An uploaded credential is refused beyond these (ours: about 3 KB and 11 objects). Its proof is checked
#: by canonicalising it, which grows faster than its size (222 KB of blank nodes took 9 s): without a
#: tighter cap than a PDF's, one upload could hold a worker for minutes.
VERIFY_CREDENTIAL_MAX_BYTES = env.int("VERIFY_CREDENTIAL_MAX_BYTES", default=64 * 1024)
VERIFY_CREDENTIAL_MAX_OBJECTS = env.int("VERIFY_CREDENTIAL_MAX_OBJECTS", default=100)

# --- Email delivery -----------------------------------------------------------------------------
#: Tries per email before it is marked failed (transient errors only; refusals fail at once).
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=5)
#: First retry delay in seconds; it doubles each try (capped at an hour). The sweep runs each minute.
EMAIL_RETRY_BASE_SECONDS = env.int("EMAIL_RETRY_BASE_SECONDS", default=60)
#: Seconds a worker keeps trying to record a send (or give back a claim) while the database cannot be
#: reached, e.g. restarting. Keep it under the task timeout (Q_TIMEOUT) less EMAIL_TIMEOUT.
DELIVERY_DATABASE_PATIENCE = env.int("DELIVERY_DATABASE_PATIENCE", default=20)
#: Sends per second from each worker process (0: unlimited). Provider limit / number of processes.
EMAIL_MAX_PER_SECOND = env.float("EMAIL_MAX_PER_SECOND", default=0)
#: How many times a day a learner may ask for their certificate email again.
LEARNER_RESENDS_PER_DAY = env.int("LEARNER_RESENDS_PER_DAY", default=3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- Worker watchdog (docs/WATCHDOG.md) ---------------------------------------------------------
# `manage.py supervise_workers` runs the django-q2 cluster as its child and restarts it when queued
# work stops moving: a worker killed while idle (an OOM kill will do) wedges the whole cluster.
#: Seconds a task may run before django-q2 kills it; WATCHDOG_STALL_AFTER must stay above it.
Q_CLUSTER["timeout"] = env.int("Q_TIMEOUT", default=Q_CLUSTER["timeout"])
#: Seconds between the supervisor's checks of the queue and the cluster.
WATCHDOG_INTERVAL = env.int("WATCHDOG_INTERVAL", default=5)
#: Seconds queued work may wait with no task finishing before the supervisor restarts the cluster.
WATCHDOG_STALL_AFTER = env.int("WATCHDOG_STALL_AFTER", default=120)
#: Niceness supervise_workers gives the cluster (0 to 19; 0 leaves it as the supervisor's own). On a
#: machine shared with the web server, a busy cluster then waits for the webhook answers, not they for
#: it (docs/PERFORMANCE.md, a burst of completions).
WORKER_NICE = env.int("WORKER_NICE", default=10)
