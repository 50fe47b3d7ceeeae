"""The public verify pages: look up by code, one certificate (or one of its versions), its files,
the file check, and the LinkedIn links that count how often a certificate is shared.

Unknown, malformed, held, rejected and never-issued codes all get the very same not-found answer
(status, template, bytes): probing reveals nothing about which codes exist.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from certificates import codes
from certificates.emails import linkedin_add_to_profile_target, linkedin_share_target
from certificates.models import CertificateVersion, LookupChannel
from certificates.selectors import PublicCertificate, public_facts, public_version
from certificates.services import rendering
from certificates.services.file_checks import public_credential_check
from certificates.services.lookups import lookup_count

from .limits import ASSETS, lookup_limited
from .uploads import UploadRefused, uploaded_file, version_of_file

NOT_FOUND_TEMPLATE = "verification/not_found.html"


def _not_found(request: HttpRequest) -> HttpResponse:
    # Nothing from the request goes into this page, so every not-found answer is byte-identical.
    return render(request, NOT_FOUND_TEMPLATE, status=404)


def _page(request: HttpRequest, version: CertificateVersion) -> HttpResponse:
    return HttpResponse(_rendered_page(public_facts(version), settings.SITE_URL))


@lru_cache(maxsize=1024)
def _rendered_page(facts: PublicCertificate, site_url: str) -> str:
    """The verify page depends on its facts alone (no visitor, no form token, no nonce), so each
    process renders it once per distinct facts: half of the page's time was template work. Any
    change a visitor must see (a state, a date, a new version) is a change of facts, never stale."""
    return render_to_string("verification/detail.html", {"facts": facts, "site_url": site_url})


@require_safe
@lookup_limited()
def lookup(request: HttpRequest) -> HttpResponse:
    typed = request.GET.get("code")
    if typed is None:
        return render(request, "verification/lookup.html")
    code, problem = codes.diagnose(typed)
    if code is None:
        return render(request, "verification/lookup.html", {"typed": typed[:64], "problem": problem})
    return redirect("verification:detail", code=codes.display(code))


@require_safe
@lookup_limited()
def detail(request: HttpRequest, code: str) -> HttpResponse:
    version = public_version(code)
    if version is None:
        return _not_found(request)
    if code != version.certificate.display_code:
        return redirect("verification:detail", code=version.certificate.display_code, permanent=True)
    lookup_count(version.certificate_id, LookupChannel.PAGE)
    return _page(request, version)


@require_safe
@lookup_limited()
def version_detail(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """One version as it was printed: a superseded one says so and links the current one."""
    version = public_version(code, number)
    if version is None:
        return _not_found(request)
    if version.is_current or code != version.certificate.display_code:
        return redirect("verification:detail", code=version.certificate.display_code)
    lookup_count(version.certificate_id, LookupChannel.PAGE)
    return _page(request, version)


def _valid_version(code: str) -> CertificateVersion | None:
    version = public_version(code)
    return version if version is not None and public_facts(version).has_files else None


@require_safe
@lookup_limited(group=ASSETS)
def pdf(request: HttpRequest, code: str) -> HttpResponse:
    version = _valid_version(code)
    if version is None:
        return _not_found(request)  # a revoked PDF looks genuine: never serve it
    return FileResponse(
        version.pdf.open("rb"), content_type="application/pdf", filename=f"certificate-{version.display_code}.pdf"
    )


@require_safe
@lookup_limited(group=ASSETS)
def preview(request: HttpRequest, code: str) -> HttpResponse:
    """The image of the certificate: on the page, and the 1200x627 picture of a link preview."""
    version = _valid_version(code)
    if version is None or not rendering.stored_preview(version):
        return _not_found(request)
    response = FileResponse(version.preview.open("rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
@lookup_limited(group=ASSETS)
def logo(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """The issuer's logo as that version printed it (branding files are never overwritten)."""
    version = public_version(code, number)
    if version is None or not version.logo_path or public_facts(version).is_withdrawn:
        return _not_found(request)
    content_type = "image/png" if version.logo_path.lower().endswith(".png") else "image/jpeg"
    response = FileResponse(default_storage.open(version.logo_path, "rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400, immutable"
    return response


@require_safe
@lookup_limited(group=ASSETS)
def linkedin(request: HttpRequest, code: str, action: str) -> HttpResponse:
    """The LinkedIn links in emails and on the dashboard come through here to be counted."""
    version = _valid_version(code)
    if version is None or action not in ("add", "share"):
        return _not_found(request)
    if action == "add":
        lookup_count(version.certificate_id, LookupChannel.LINKEDIN_ADD)
        return redirect(linkedin_add_to_profile_target(version))
    lookup_count(version.certificate_id, LookupChannel.LINKEDIN_SHARE)
    return redirect(linkedin_share_target(version))


@csrf_exempt  # no session, no state changed: nothing for a forged request to gain
@require_http_methods(["GET", "HEAD", "POST"])
@lookup_limited()
def file_check(request: HttpRequest) -> HttpResponse:
    """An employer uploads the PDF or the Open Badge credential a candidate sent: is it one we issued,
    and what is its status?"""
    if request.method != "POST":
        return _file_check_page(request)
    try:
        upload = uploaded_file(request)
    except UploadRefused as refused:
        return _file_check_page(request, refused.status, problem=refused.message)
    if upload.credential is not None:
        check = public_credential_check(document=upload.credential)
        if check.certificate_id is not None:
            lookup_count(check.certificate_id, LookupChannel.FILE)
        return _file_check_page(request, check=check, facts=check.facts)
    version = version_of_file(upload.pdf)
    if version is None:
        return _file_check_page(request, unknown=True)
    lookup_count(version.certificate_id, LookupChannel.FILE)
    return _file_check_page(request, facts=public_facts(version))


def _file_check_page(request: HttpRequest, status: int = 200, **context) -> HttpResponse:
    context["limit_mb"] = settings.VERIFY_UPLOAD_MAX_BYTES // (1024 * 1024)
    return render(request, "verification/file_check.html", context, status=status)
