"""The learners app's errors."""

from __future__ import annotations


class LearnerError(ValueError):
    """A record we cannot take; the message says why, in words the sender understands."""
