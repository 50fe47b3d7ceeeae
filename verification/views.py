from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from certificates import codes
from certificates.selectors import certificate_by_typed_code, version_by_code

NOT_FOUND_TEMPLATE = "verification/not_found.html"


def _not_found(request: HttpRequest, typed: str = "") -> HttpResponse:
    # Unknown, malformed and never-issued codes get the very same page: nothing to learn by probing.
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
    version = certificate.current_version
    return render(request, "verification/detail.html", {"certificate": certificate, "version": version})


@require_GET
def version_detail(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """One version as it was printed: a superseded one says so and links the current one."""
    version = version_by_code(code, number)
    if version is None:
        return _not_found(request, code)
    if version.is_current:
        return redirect("verification:detail", code=version.display_code)
    return render(request, "verification/detail.html", {"certificate": version.certificate, "version": version})


@require_GET
def pdf(request: HttpRequest, code: str) -> HttpResponse:
    certificate = certificate_by_typed_code(code)
    version = certificate.current_version if certificate is not None else None
    if certificate is None or not certificate.is_valid or version is None or not version.pdf:
        return _not_found(request, code)  # a revoked PDF looks genuine: never serve it
    return FileResponse(
        version.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"certificate-{certificate.display_code}.pdf",
    )


@require_GET
def preview(request: HttpRequest, code: str) -> HttpResponse:
    """The 1200x627 image link previews show when a learner shares their verify page."""
    certificate = certificate_by_typed_code(code)
    version = certificate.current_version if certificate is not None else None
    if certificate is None or not certificate.is_valid or version is None or not version.preview:
        return _not_found(request, code)
    return FileResponse(version.preview.open("rb"), content_type="image/png")
