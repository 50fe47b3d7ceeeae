"""Learner accounts: the site user a learner signs in as, sign-in links, confirmed address changes.

Learners have no password. They sign in with a link we email (django-sesame: a signed token naming the
user, its scope and when it was made; nothing is stored). ``SESAME_ONE_TIME`` binds every token to
the user's last sign-in, so signing in once burns every link sent before. docs/SIGN_IN.md has the rules.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task
from sesame import settings as sesame_settings
from sesame.utils import get_token, get_user

from delivery.services import delivery_request

from ..models import CompletionSource, Learner, LearnerEmailChange, SignInEvent, SignInKind
from .errors import LearnerError

logger = logging.getLogger(__name__)

#: Token scopes: a link asked for on the site, and the personal link in a certificate email.
SIGN_IN_SCOPE, EMAIL_LINK_SCOPE = "sign-in", "email-link"
#: How the delivery app names our sign-in emails.
SIGN_IN_COMPOSER, SIGN_IN_PURPOSE = "sign-in", "sign_in_link"
#: One address may belong to a few learners (two LMSs, a duplicate account): each gets its own link.
MAX_ACCOUNTS_PER_ADDRESS = 5


def normalize_address(email: str) -> str:
    return "".join((email or "").split()).lower()[:254]


def address_is_valid(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def learners_for_address(email: str) -> list[Learner]:
    """The learners whose current address this is (a learner whose email changed uses the new one)."""
    address = normalize_address(email)
    if not address_is_valid(address):
        return []
    return list(Learner.objects.filter(email__iexact=address).order_by("pk")[:MAX_ACCOUNTS_PER_ADDRESS])


def _may_sign_in_by_link(user) -> bool:
    # A link is a learner's way in. Staff (and anyone with admin rights) keep their password and its
    # rate limits: an emailed link must never open the admin.
    return user.is_active and not user.is_staff and not user.is_superuser


@transaction.atomic
def learner_user(*, learner_id: int):
    """The site user a learner signs in as, created (no password, no permissions) the first time."""
    learner = Learner.objects.select_for_update(of=("self",)).select_related("user").get(pk=learner_id)
    user = learner.user
    if user is None:
        user = get_user_model()(username=f"learner-{learner.pk}", email=learner.email)
        user.set_unusable_password()  # before the INSERT: one statement, not two
        user.save()
        Learner.objects.filter(pk=learner.pk).update(user=user, updated_at=timezone.now())
    elif user.email != learner.email:
        # Follows the learner's address; with SESAME_INVALIDATE_ON_EMAIL_CHANGE this voids links
        # sent to the old one.
        user.email = learner.email
        user.save(update_fields=["email"])
    return user


def sign_in_url(*, learner_id: int, scope: str = SIGN_IN_SCOPE, next_path: str = "") -> str:
    """An absolute link that signs this learner in (after one press of a button), or '' for staff."""
    user = learner_user(learner_id=learner_id)
    if not _may_sign_in_by_link(user):
        return ""
    query = {sesame_settings.TOKEN_NAME: get_token(user, scope)}
    if next_path:
        query["next"] = next_path
    return f"{settings.SITE_URL}{reverse('sign_in_link')}?{urlencode(query)}"


def sign_in_link_request(*, email: str, ip: str | None, user_agent: str = "") -> None:
    """Someone asked for a sign-in link. The same work whatever the address: one audit row, one task.

    Whether the address belongs to anyone is found out by the worker, so neither the answer nor its
    timing tells the asker.
    """
    SignInEvent.objects.create(kind=SignInKind.LINK_REQUESTED, method="link", ip=ip, user_agent=user_agent[:200])
    transaction.on_commit(lambda: async_task("learners.tasks.sign_in_link_send_task", normalize_address(email)))


def sign_in_link_send(*, email: str) -> int:
    """Email a sign-in link to each learner whose address this is; how many were asked for."""
    sent = 0
    for learner in learners_for_address(email):
        user = learner_user(learner_id=learner.pk)
        if not _may_sign_in_by_link(user):
            continue
        delivery_request(
            composer=SIGN_IN_COMPOSER, reference=learner.pk, recipient=learner.email, purpose=SIGN_IN_PURPOSE
        )
        SignInEvent.objects.create(kind=SignInKind.LINK_SENT, method="link", user=user, learner=learner)
        sent += 1
    return sent


def _user_for_token(token: str):
    """(user, method) for a valid, unused token of either scope, or (None, '')."""
    for scope, max_age, method in (
        (SIGN_IN_SCOPE, settings.SIGN_IN_LINK_MAX_AGE, "link"),
        (EMAIL_LINK_SCOPE, settings.EMAIL_LINK_MAX_AGE, "email_link"),
    ):
        user = get_user(token, scope=scope, max_age=max_age, update_last_login=False)
        if user is not None:
            return (user, method) if _may_sign_in_by_link(user) else (None, "")
    return None, ""


def sign_in_token_check(token: str) -> bool:
    """Whether a token would sign someone in, without using it (the page before the button)."""
    return _user_for_token(token or "")[0] is not None


def sign_in_with_token(token: str):
    """The user a link signs in, claimed: of two presses of one link at once, exactly one gets it.

    Returns (user, method), or (None, '') for a used, expired or forged link. The caller signs the
    user in (django.contrib.auth.login) inside the same transaction, which moves ``last_login`` on
    and so burns the link.
    """
    user, method = _user_for_token(token or "")
    if user is None:
        return None, ""
    # Lock the user, then check again: a press that waited here sees the first one's sign-in.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    user, method = _user_for_token(token)
    return user, method


def learner_for_user(user) -> Learner | None:
    if not getattr(user, "pk", None):
        return None
    return Learner.objects.filter(user=user).first()


@transaction.atomic
def learner_change_email(*, learner_id: int, new_email: str) -> Learner:
    """The learner confirmed a new address (from a link sent to it): it takes effect now, history kept.

    The LMS address it replaces is remembered, so a nightly export that still carries it does not
    undo the change; a different address from the LMS does win (the LMS was updated).
    """
    new_email = normalize_address(new_email)
    if not address_is_valid(new_email):
        raise LearnerError(f"{new_email!r} is not a valid email address")
    learner = Learner.objects.select_for_update().get(pk=learner_id)
    if learner.email.lower() == new_email:
        return learner
    LearnerEmailChange.objects.create(
        learner=learner, old_email=learner.email, new_email=new_email, source=CompletionSource.LEARNER
    )
    learner.email_replaced = learner.email_replaced if learner.email_replaced else learner.email
    learner.email = new_email
    learner.search_text = learner.search_key
    learner.save(update_fields=["email", "email_replaced", "search_text", "updated_at"])
    if learner.user_id:
        learner_user(learner_id=learner.pk)  # the user's address follows: old links stop working
    return learner


@transaction.atomic
def learner_approve_name(*, learner_id: int, name: str) -> Learner:
    """Print this name from now on (a correction staff approved); the LMS's names no longer apply."""
    from ..text import clean_name

    name = clean_name(name)
    if not name:
        raise LearnerError("the corrected name is empty")
    learner = Learner.objects.select_for_update().get(pk=learner_id)
    learner.approved_name = name
    learner.search_text = learner.search_key
    learner.save(update_fields=["approved_name", "search_text", "updated_at"])
    return learner


def sign_in_record(*, kind: str, method: str = "", user=None, username: str = "", request=None) -> None:
    """One line in the sign-in audit log."""
    learner = None
    if user is not None and getattr(user, "pk", None):
        learner = Learner.objects.filter(user=user).only("pk").first()
    SignInEvent.objects.create(
        kind=kind,
        method=method,
        user=user if getattr(user, "pk", None) else None,
        learner=learner,
        username=(username or "")[:150],
        ip=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:200],
    )


def client_ip(request) -> str | None:
    if request is None:
        return None
    value = request.META.get(settings.RATELIMIT_IP_META_KEY, "") or ""
    value = value.split(",")[0].strip()  # a proxy's header may list a chain: the first is the client
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None
