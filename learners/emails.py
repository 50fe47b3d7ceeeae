"""The sign-in email: one link, built when it is sent (the token is never stored, not even in the queue)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from delivery.errors import DoNotSend

from .models import Learner
from .services.accounts import SIGN_IN_SCOPE, normalize_address, sign_in_url


def compose_sign_in(delivery) -> EmailMultiAlternatives:
    learner = Learner.objects.filter(pk=int(delivery.reference)).first()
    if learner is None or normalize_address(learner.email) != normalize_address(delivery.recipient):
        raise DoNotSend("the learner's address changed since the link was asked for: not sent")
    url = sign_in_url(learner_id=learner.pk, scope=SIGN_IN_SCOPE)
    if not url:
        raise DoNotSend("this account signs in with a password: no link sent")
    context = {"url": url, "minutes": settings.SIGN_IN_LINK_MAX_AGE // 60, "site_url": settings.SITE_URL}
    message = EmailMultiAlternatives(
        subject="Your sign-in link",
        body=render_to_string("emails/sign_in.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
    )
    message.attach_alternative(render_to_string("emails/sign_in.html", context), "text/html")
    return message
