"""Signing in: learners by an emailed link, staff by password (rate-limited). Thin views."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from .forms import SignInLinkForm
from .limits import password_limited, sign_in_link_limited
from .models import SignInKind
from .services import sign_in_link_request, sign_in_record, sign_in_token_check, sign_in_with_token
from .services.accounts import client_ip

LINK_LIMITED = (
    "Too many sign-in links were asked for this address or from your network. "
    "Please wait an hour, then ask again, or use a link we have already sent."
)
PASSWORD_LIMITED = "Too many sign-in attempts. Please wait 15 minutes and try again."


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link by email. Known and unknown addresses get the same answer."""
    if request.user.is_authenticated and request.method == "GET":
        return redirect("dashboard:home")
    form = SignInLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if sign_in_link_limited(request, email):
            sign_in_record(kind=SignInKind.LINK_REFUSED, method="link", request=request)
            return render(request, "learners/sign_in.html", {"form": form, "limited": LINK_LIMITED}, status=429)
        sign_in_link_request(email=email, ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""))
        return redirect("sign_in_sent")
    return render(request, "learners/sign_in.html", {"form": form}, status=400 if form.errors else 200)


@never_cache
def sign_in_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "learners/sign_in_sent.html")


def _safe_next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=False):
        return value
    return reverse("dashboard:home")


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest) -> HttpResponse:
    """The link in the email. GET only shows a button (mail scanners fetch links; they must not
    sign anyone in or use the link up); the button POSTs the token, and that signs in."""
    token = (request.POST.get("sesame") if request.method == "POST" else request.GET.get("sesame")) or ""
    next_path = _safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if request.method == "GET":
        valid = sign_in_token_check(token)
        status = 200 if valid else 410
        return render(
            request,
            "learners/sign_in_link.html",
            {"valid": valid, "token": token, "next": next_path, "form": SignInLinkForm()},
            status=status,
        )
    with transaction.atomic():
        user, method = sign_in_with_token(token)
        if user is not None:
            request.sign_in_method = method
            login(request, user)  # moves last_login on: the link is used up
    if user is None:
        sign_in_record(kind=SignInKind.LINK_INVALID, method="link", request=request)
        return render(request, "learners/sign_in_link.html", {"valid": False, "form": SignInLinkForm()}, status=410)
    return redirect(next_path)


def rate_limited_login(view):
    """Refuse password attempts over the limit before the password is checked (hashing costs CPU)."""

    @sensitive_post_parameters("password")
    @never_cache
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            username = request.POST.get("username", "")
            if password_limited(request, username):
                sign_in_record(kind=SignInKind.LOCKED_OUT, method="password", username=username, request=request)
                return render(request, "registration/login.html", {"limited": PASSWORD_LIMITED}, status=429)
        return view(request, *args, **kwargs)

    return wrapped


password_login = rate_limited_login(auth_views.LoginView.as_view())
admin_login = rate_limited_login(admin.site.login)


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "learners/sign_in.html", {"form": SignInLinkForm(), "limited": LINK_LIMITED}, status=429)
