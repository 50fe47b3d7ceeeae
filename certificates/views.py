"""The learner's dashboard: their own certificates, downloads, "email it to me". Thin views."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .errors import CertificateError
from .selectors import certificate_downloadable_version, certificate_for_user, certificates_for_user
from .services.emailing import certificate_email_resend


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "certificates/dashboard.html", {"certificates": certificates_for_user(request.user)})


@login_required
def download(request: HttpRequest, certificate_id: int) -> FileResponse:
    version = certificate_downloadable_version(user=request.user, certificate_id=certificate_id)
    if version is None:
        raise Http404("No such certificate")  # someone else's, or revoked, looks exactly like none at all
    return FileResponse(
        version.pdf.open("rb"),
        as_attachment=True,
        content_type="application/pdf",
        filename=f"certificate-{version.display_code}.pdf",
    )


@login_required
@require_POST
def email_again(request: HttpRequest, certificate_id: int) -> HttpResponse:
    certificate = certificate_for_user(user=request.user, certificate_id=certificate_id)
    if certificate is None:
        raise Http404("No such certificate")
    try:
        sent = certificate_email_resend(certificate_ids=[certificate.pk], by=request.user, learner_request=True)
    except CertificateError as exc:
        messages.error(request, str(exc).capitalize() + ".")
    else:
        if sent:
            messages.success(request, "On its way to your email address.")
        else:
            messages.error(request, "This certificate cannot be emailed right now.")
    return redirect("dashboard:home")
