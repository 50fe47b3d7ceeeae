"""The public side of Open Badges credentials: the issuer's DID documents (its keys), the status
lists, and each version's signed credential (docs/CREDENTIALS.md)."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from certificates.selectors import public_version
from certificates.services.credentials import credential_document, did_document, status_list_credential

from .limits import ASSETS, lookup_limited

#: Keys change only by rotation; an hour keeps a verifier from asking each time without hiding a new key long.
DID_MAX_AGE = 3600


def _json(document: dict, *, content_type: str, max_age: int) -> HttpResponse:
    response = HttpResponse(json.dumps(document, ensure_ascii=False, indent=2), content_type=content_type)
    response["Access-Control-Allow-Origin"] = "*"  # wallets and verifiers read these from their own pages
    patch_cache_control(response, public=True, max_age=max_age)
    return response


def _not_found() -> HttpResponse:
    return HttpResponse(json.dumps({"error": "not_found"}), status=404, content_type="application/json")


@require_safe
def site_did(request: HttpRequest) -> HttpResponse:
    return _json(did_document(), content_type="application/did+json", max_age=DID_MAX_AGE)


@require_safe
def organisation_did(request: HttpRequest, slug: str) -> HttpResponse:
    document = did_document(organisation_slug=slug)
    if document is None:
        return _not_found()
    return _json(document, content_type="application/did+json", max_age=DID_MAX_AGE)


@require_safe
def status_list(request: HttpRequest, slug: str, number: int, purpose: str) -> HttpResponse:
    """Signed afresh on each request; caches may keep it for its ``ttl``, and no longer."""
    document = status_list_credential(organisation_slug=slug, number=number, purpose=purpose)
    if document is None:
        return _not_found()
    return _json(document, content_type="application/vc+ld+json", max_age=settings.CREDENTIAL_STATUS_TTL)


@require_safe
@lookup_limited(group=ASSETS)
def current_credential(request: HttpRequest, code: str) -> HttpResponse:
    """The current version's credential, linked from the verify page."""
    version = public_version(code)
    if version is None:
        return _not_found()
    return credential(request, code, version.number)


@require_safe
@lookup_limited(group=ASSETS)
def credential(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """A version's signed OpenBadgeCredential. Served revoked or superseded too: unlike a PDF, it
    says so itself to any verifier, through its status lists."""
    version = public_version(code, number)
    document = credential_document(version) if version is not None else None
    if document is None:
        return _not_found()
    response = _json(document, content_type="application/vc+ld+json", max_age=0)
    response["Content-Disposition"] = f'inline; filename="credential-{version.display_code}-v{number}.json"'
    return response
