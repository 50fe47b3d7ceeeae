"""The verify API: the verify page's facts as JSON, and the file check. docs/VERIFY_API.md and
docs/openapi/verify.yaml describe it; a test checks real responses against that document.

Open to any origin (CORS) for GET and the file check: a recruiter's system calls it from anywhere,
and nothing here needs a cookie. Answers carry an ETag and ``no-cache``, so a client may keep one
and revalidate it cheaply, yet a revocation is seen at once.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from certificates.models import LookupChannel
from certificates.selectors import PublicCertificate, public_facts, public_version
from certificates.services.file_checks import CredentialCheck, public_credential_check
from certificates.services.lookups import lookup_count

from .limits import lookup_limited
from .uploads import UploadRefused, uploaded_file, version_of_file

NOT_FOUND = {"error": "not_found", "message": "No certificate has this ID."}


def facts_json(facts: PublicCertificate) -> dict:
    """The facts as the API states them; a withdrawn certificate has no personal data to state."""
    return {
        "code": facts.code,
        "state": facts.state,
        "state_label": facts.state_label,
        "state_since": facts.state_since.isoformat() if facts.state_since else None,
        "reason": facts.reason or None,
        "version": facts.version,
        "is_current_version": facts.is_current,
        "holder_name": facts.holder_name or None,
        "course": facts.course_title,
        "issuer": {"name": facts.organisation_name},
        "instructor": {"name": facts.instructor_name, "title": facts.instructor_title or None}
        if facts.instructor_name
        else None,
        "issued_on": facts.issued_on.isoformat(),
        "valid_until": facts.valid_until.isoformat() if facts.valid_until else None,
        "score": f"{facts.score.normalize():f}" if facts.score is not None else None,
        "cohort": facts.cohort or None,
        "custom_fields": [{"label": label, "value": value} for label, value in facts.custom_fields],
        "pdf_sha256": facts.pdf_sha256 or None,
        "verify_url": facts.version_url,
    }


def _json(request: HttpRequest, body: dict, status: int = 200) -> HttpResponse:
    return _answer(request, *_encoded(body), status=status)


def _encoded(body: dict) -> tuple[bytes, str]:
    """The answer's bytes and their ETag."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return content, '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


@lru_cache(maxsize=1024)
def _encoded_facts(facts: PublicCertificate, site_url: str) -> tuple[bytes, str]:
    """As the verify page is rendered once per distinct facts, so is its answer here: encoding and
    hashing it were most of what the API did beyond the page (profiled, docs/PERFORMANCE.md). A
    state, a date or a new version are new facts, so nothing stale is ever served."""
    return _encoded(facts_json(facts))


def _answer(request: HttpRequest, content: bytes, etag: str, *, status: int = 200) -> HttpResponse:
    # META, not request.headers: building the headers mapping cost more than reading one value.
    if status == 200 and etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(content, status=status, content_type="application/json")
    if status == 200:
        response["ETag"] = etag
    response["Cache-Control"] = "public, no-cache"
    return _cors(response)


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "ETag, Retry-After"
    return response


def _preflight(methods: str) -> HttpResponse:
    response = _cors(HttpResponse(status=204))
    response["Access-Control-Allow-Methods"] = methods
    response["Access-Control-Allow-Headers"] = "If-None-Match, Content-Type"
    response["Access-Control-Max-Age"] = "86400"
    return response


@require_http_methods(["GET", "HEAD", "OPTIONS"])
@lookup_limited(json=True)
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight("GET, HEAD, OPTIONS")
    version = public_version(code)
    if version is None:
        return _json(request, NOT_FOUND, status=404)
    lookup_count(version.certificate_id, LookupChannel.API)
    return _answer(request, *_encoded_facts(public_facts(version), settings.SITE_URL))


@csrf_exempt  # no cookie is read or set: there is no session to forge
@require_http_methods(["POST", "OPTIONS"])
@lookup_limited(json=True)
def verify_file(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight("POST, OPTIONS")
    try:
        upload = uploaded_file(request)
    except UploadRefused as refused:
        return _json(request, {"error": refused.error, "message": refused.message}, status=refused.status)
    if upload.credential is not None:
        check = public_credential_check(document=upload.credential)
        if check.certificate_id is not None:
            lookup_count(check.certificate_id, LookupChannel.FILE)
        return _json(request, credential_json(check))
    version = version_of_file(upload.pdf)
    if version is None:
        return _json(request, {"kind": "pdf", "match": False, "certificate": None})
    lookup_count(version.certificate_id, LookupChannel.FILE)
    return _json(request, {"kind": "pdf", "match": True, "certificate": facts_json(public_facts(version))})


def credential_json(check: CredentialCheck) -> dict:
    """A checked credential: ``state`` is the credential's (never valid when a list could not be read)."""
    return {
        "kind": "credential",
        "proof_verified": check.proof_verified,
        "state": check.state,
        "state_label": check.state_label,
        "reasons": list(check.reasons),
        "certificate": facts_json(check.facts) if check.facts is not None else None,
    }
