"""Settings for bench/verify.py: the embedded default (or DATABASE_URL) with the floor view's URLs."""

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench.verify_urls"
