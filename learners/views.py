from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from certificates.selectors import certificate_for_user, certificates_for_user


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "learners/dashboard.html", {"certificates": certificates_for_user(request.user)})


@login_required
def download(request: HttpRequest, certificate_id: int) -> FileResponse:
    certificate = certificate_for_user(user=request.user, certificate_id=certificate_id)
    if certificate is None or not certificate.pdf:
        raise Http404("No such certificate")  # someone else's looks exactly like none at all
    return FileResponse(
        certificate.pdf.open("rb"),
        as_attachment=True,
        content_type="application/pdf",
        filename=f"certificate-{certificate.display_code}.pdf",
    )
