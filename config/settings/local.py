"""Development on one machine: SQLite, ORM broker, local files, emails written to var/mail."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
