"""Who builds the message of a delivery. Apps above register here; this app never imports them."""

from __future__ import annotations

from collections.abc import Callable

from django.core.mail import EmailMessage

#: compose(delivery) -> the message to send (its recipient is the delivery's), or raise DoNotSend.
Composer = Callable[["object"], EmailMessage]
_composers: dict[str, Composer] = {}


def register(name: str, composer: Composer) -> None:
    _composers[name] = composer


def get(name: str) -> Composer:
    try:
        return _composers[name]
    except KeyError:
        raise LookupError(f"no email composer registered as {name!r}") from None
