"""Trivial tasks the watchdog's end-to-end test enqueues by dotted path."""

from pathlib import Path


def touch(path: str) -> None:
    """Leave a file behind: proof that a worker ran this task."""
    Path(path).write_text("done")
