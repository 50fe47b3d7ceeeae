"""The learner's dashboard: their certificates and versions, downloads, "email it to me", and requests
(name correction, completion dispute, new address). Thin views: parse, call one service, shape output.

Every page is ``Cache-Control: private, no-store`` (never_cache), and every URL that names a
certificate, version or course looks it up among the signed-in learner's own: anyone else's is 404.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from learners.forms import SignInLinkForm
from learners.models import Enrollment
from learners.services import learner_for_user

from .emails import linkedin_add_to_profile_url, linkedin_share_url
from .errors import CertificateError
from .selectors import (
    certificate_downloadable_version,
    certificate_for_user,
    certificate_version_for_user,
    dashboard_for_user,
)
from .services import rendering
from .services.cases import (
    CaseError,
    case_open_dispute,
    case_open_email_change,
    case_open_name_correction,
    case_record_resend,
    email_change_check,
    email_change_confirm,
)
from .services.credentials import credential_document
from .services.emailing import certificate_email_resend


def learner_required(view):
    """Signed in as a learner; anyone else is asked to sign in (the email-link form)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        learner = learner_for_user(request.user)
        if learner is None:
            raise Http404("No learner here")
        request.learner = learner
        return view(request, *args, **kwargs)

    return never_cache(wrapped)


@never_cache
def dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:  # the way in: ask for a sign-in link right here
        return render(request, "learners/sign_in.html", {"form": SignInLinkForm()})
    board = dashboard_for_user(request.user)
    for entry in board.entries:
        if entry.current is not None:
            entry.linkedin_add = linkedin_add_to_profile_url(entry.current)
            entry.linkedin_share = linkedin_share_url(entry.current)
    return render(request, "certificates/dashboard.html", {"board": board})


def _pdf(version) -> FileResponse:
    return FileResponse(
        version.pdf.open("rb"),
        as_attachment=True,
        content_type="application/pdf",
        filename=f"certificate-{version.display_code}-v{version.number}.pdf"
        if not version.is_current
        else f"certificate-{version.display_code}.pdf",
    )


@learner_required
def download(request: HttpRequest, certificate_id: int) -> FileResponse:
    version = certificate_downloadable_version(user=request.user, certificate_id=certificate_id)
    if version is None:
        raise Http404("No such certificate")  # someone else's, or revoked, looks exactly like none at all
    return _pdf(version)


@learner_required
def download_version(request: HttpRequest, certificate_id: int, number: int) -> FileResponse:
    version = certificate_version_for_user(user=request.user, certificate_id=certificate_id, number=number)
    if version is None:
        raise Http404("No such certificate")
    return _pdf(version)


@learner_required
def download_credential(request: HttpRequest, certificate_id: int, number: int) -> HttpResponse:
    """The version's Open Badges credential (JSON), for the learner's wallet or an employer."""
    version = certificate_version_for_user(user=request.user, certificate_id=certificate_id, number=number)
    document = credential_document(version) if version is not None else None
    if document is None:
        raise Http404("No such credential")
    response = HttpResponse(json.dumps(document, ensure_ascii=False, indent=2), content_type="application/vc+ld+json")
    response["Content-Disposition"] = f'attachment; filename="credential-{version.display_code}-v{number}.json"'
    return response


@learner_required
def thumbnail(request: HttpRequest, certificate_id: int, number: int) -> FileResponse:
    version = certificate_version_for_user(user=request.user, certificate_id=certificate_id, number=number)
    if version is None or not rendering.stored_preview(version):
        raise Http404("No such picture")
    return FileResponse(version.preview.open("rb"), content_type="image/png")


@learner_required
@require_POST
def email_again(request: HttpRequest, certificate_id: int) -> HttpResponse:
    certificate = certificate_for_user(user=request.user, certificate_id=certificate_id)
    if certificate is None:
        raise Http404("No such certificate")
    try:
        with transaction.atomic():
            sent = certificate_email_resend(certificate_ids=[certificate.pk], by=request.user, learner_request=True)
            if sent:
                case_record_resend(certificate=certificate, by=request.user)
    except CertificateError as exc:
        messages.error(request, str(exc).capitalize() + ".")
    else:
        if sent:
            messages.success(request, "On its way to your email address.")
        else:
            messages.error(request, "This certificate cannot be emailed right now.")
    return redirect(f"{reverse('dashboard:home')}#certificate-{certificate.pk}")


def _request_page(request, template: str, context: dict, open_case, done: str, anchor: str) -> HttpResponse:
    """GET shows the form; POST opens the case, or shows the form again with what to fix."""
    error = ""
    if request.method == "POST":
        try:
            open_case()
        except CaseError as exc:
            error = str(exc)[:1].upper() + str(exc)[1:] + "."
        else:
            messages.success(request, done)
            return redirect(f"{reverse('dashboard:home')}{anchor}")
    return render(request, template, {**context, "error": error}, status=400 if error else 200)


@learner_required
@require_http_methods(["GET", "POST"])
def name_correction(request: HttpRequest, certificate_id: int) -> HttpResponse:
    certificate = certificate_for_user(user=request.user, certificate_id=certificate_id)
    if certificate is None:
        raise Http404("No such certificate")
    return _request_page(
        request,
        "certificates/name_correction.html",
        {"certificate": certificate, "version": certificate.current_version, "name": request.POST.get("name", "")},
        lambda: case_open_name_correction(
            learner=request.learner,
            certificate_id=certificate.pk,
            name=request.POST.get("name", ""),
            message=request.POST.get("message", ""),
            by=request.user,
        ),
        "Thank you: staff will check the new name and email you a corrected certificate.",
        f"#certificate-{certificate.pk}",
    )


@learner_required
@require_http_methods(["GET", "POST"])
def dispute(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    enrollment = (
        Enrollment.objects.select_related("course__organisation")
        .filter(pk=enrollment_id, learner=request.learner)
        .first()
    )
    if enrollment is None:
        raise Http404("No such course")
    return _request_page(
        request,
        "certificates/dispute.html",
        {"enrollment": enrollment},
        lambda: case_open_dispute(
            learner=request.learner,
            enrollment_id=enrollment.pk,
            message=request.POST.get("message", ""),
            by=request.user,
        ),
        "Thank you: staff will look at your completion and email you when they have decided.",
        f"#course-{enrollment.pk}",
    )


@learner_required
@require_http_methods(["GET", "POST"])
def email_change(request: HttpRequest) -> HttpResponse:
    return _request_page(
        request,
        "certificates/email_change.html",
        {"current": request.learner.email, "email": request.POST.get("email", "")},
        lambda: case_open_email_change(
            learner=request.learner, new_email=request.POST.get("email", ""), by=request.user
        ),
        "Almost done: open the link we sent to your new address to confirm it.",
        "#account",
    )


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest) -> HttpResponse:
    """The link sent to a new address. Like a sign-in link, GET only shows a button (mail scanners)."""
    source = request.POST if request.method == "POST" else request.GET
    token = source.get("sesame", "")
    try:
        case_id = int(source.get("case", ""))
    except ValueError:
        case_id = 0
    if request.method == "GET":
        case = email_change_check(case_id=case_id, token=token)
        context = {"case": case, "token": token, "case_id": case_id}
        return render(request, "certificates/confirm_email.html", context, status=200 if case else 410)
    try:
        case = email_change_confirm(case_id=case_id, token=token)
    except CaseError:
        return render(request, "certificates/confirm_email.html", {"case": None}, status=410)
    return render(request, "certificates/confirm_email.html", {"case": case, "confirmed": True})
