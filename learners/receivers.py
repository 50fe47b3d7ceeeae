"""The sign-in audit: Django's auth signals, written down. Each receiver writes one row, nothing more."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import SignInKind
from .services.accounts import sign_in_record


@receiver(user_logged_in, dispatch_uid="learners.sign_in_audit")
def _signed_in(sender, request, user, **kwargs) -> None:
    sign_in_record(
        kind=SignInKind.SIGNED_IN, method=getattr(request, "sign_in_method", "password"), user=user, request=request
    )


@receiver(user_logged_out, dispatch_uid="learners.sign_out_audit")
def _signed_out(sender, request, user, **kwargs) -> None:
    sign_in_record(kind=SignInKind.SIGNED_OUT, user=user, request=request)


@receiver(user_login_failed, dispatch_uid="learners.failed_sign_in_audit")
def _failed(sender, credentials, request=None, **kwargs) -> None:
    sign_in_record(kind=SignInKind.FAILED, method="password", username=credentials.get("username", ""), request=request)
