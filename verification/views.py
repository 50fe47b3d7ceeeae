from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from certificates.selectors import certificate_by_typed_code

from . import codes

NOT_FOUND_TEMPLATE = "verification/not_found.html"


def _not_found(request: HttpRequest, typed: str = "") -> HttpResponse:
    # Unknown and malformed codes get the very same page: nothing to learn by probing.
    return render(request, NOT_FOUND_TEMPLATE, {"typed": typed}, status=404)


@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    typed = request.GET.get("code", "").strip()
    if not typed:
        return render(request, "verification/lookup.html")
    code = codes.normalize(typed)
    if code is None:
        return _not_found(request, typed)
    return redirect("verification:detail", code=codes.display(code))


@require_GET
def detail(request: HttpRequest, code: str) -> HttpResponse:
    certificate = certificate_by_typed_code(code)
    if certificate is None:
        return _not_found(request, code)
    if code != certificate.display_code:
        return redirect("verification:detail", code=certificate.display_code, permanent=True)
    return render(request, "verification/detail.html", {"certificate": certificate})


@require_GET
def pdf(request: HttpRequest, code: str) -> HttpResponse:
    certificate = certificate_by_typed_code(code)
    if certificate is None or not certificate.is_valid or not certificate.pdf:
        return _not_found(request, code)  # a revoked PDF looks genuine: never serve it
    return FileResponse(
        certificate.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"certificate-{certificate.display_code}.pdf",
    )


@require_GET
def preview(request: HttpRequest, code: str) -> HttpResponse:
    """The 1200x627 image link previews show when a learner shares their verify page."""
    certificate = certificate_by_typed_code(code)
    if certificate is None or not certificate.is_valid or not certificate.preview:
        return _not_found(request, code)
    return FileResponse(certificate.preview.open("rb"), content_type="image/png")
