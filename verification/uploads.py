"""The file check: is this PDF byte for byte one we issued, or is this Open Badge credential (JSON)
one we signed, and what is its status? Shared by the page and the API.

Nothing uploaded is kept: the body is refused by its declared length before it is read, the file is
read into memory only (never a temporary file), hashed and dropped; neither it nor its hash is logged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import HttpRequest

from certificates.models import CertificateVersion
from certificates.selectors import public_version_by_pdf_sha256

PDF_TYPES = {"application/pdf", "application/x-pdf", "application/octet-stream", ""}
#: A credential is taken by its type, and only with a .json name: a browser that does not know the type
#: sends ``application/octet-stream`` or nothing, and then the name alone says what was meant.
JSON_TYPES = {"application/json", "application/ld+json", "application/vc+ld+json"}
JSON_NAMES = (".json", ".jsonld")
NOT_SUPPORTED = (
    "This file is not a PDF or an Open Badge credential (JSON). Upload the certificate's PDF or its credential."
)
NOT_JSON = "This file is named as a credential but is not one (it is not a JSON object)."
TOO_COMPLEX = (
    "This credential is larger or more complex than any we issue ({kb} KB and {objects} objects at most, "
    "no blank node identifiers): it cannot be one of ours."
)
_MULTIPART_OVERHEAD = 16 * 1024  # boundaries and part headers around the file


@dataclass(frozen=True)
class UploadRefused(Exception):
    status: int
    error: str
    message: str


class _InMemory(MemoryFileUploadHandler):
    """Always in memory, whatever FILE_UPLOAD_MAX_MEMORY_SIZE says: the length was capped already."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None) -> None:
        self.activated = True


def _too_large() -> UploadRefused:
    limit = settings.VERIFY_UPLOAD_MAX_BYTES // (1024 * 1024)
    return UploadRefused(413, "too_large", f"The file is larger than {limit} MB: our certificates are far smaller.")


@dataclass(frozen=True)
class Upload:
    pdf: bytes | None = None
    credential: dict | None = None


def uploaded_file(request: HttpRequest) -> Upload:
    """The PDF or the credential in the request's ``file`` field, or UploadRefused saying why not."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > settings.VERIFY_UPLOAD_MAX_BYTES + _MULTIPART_OVERHEAD:
        raise _too_large()
    request.upload_handlers = [_InMemory(request)]
    upload = request.FILES.get("file")
    if upload is None:
        raise UploadRefused(400, "no_file", "Choose the PDF or credential file to check.")
    if upload.size > settings.VERIFY_UPLOAD_MAX_BYTES:
        raise _too_large()
    data = upload.read()
    if upload.content_type in PDF_TYPES and data.startswith(b"%PDF-"):
        return Upload(pdf=data)
    named_json = (upload.name or "").lower().endswith(JSON_NAMES)
    if named_json and (upload.content_type in JSON_TYPES or upload.content_type in ("", "application/octet-stream")):
        return Upload(credential=_json_object(data))
    raise UploadRefused(415, "not_pdf", NOT_SUPPORTED)


def _json_object(data: bytes) -> dict:
    if len(data) > settings.VERIFY_CREDENTIAL_MAX_BYTES:
        raise _too_complex()
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: a file nested thousands deep
        raise UploadRefused(415, "not_json", NOT_JSON) from exc
    if not isinstance(document, dict):
        raise UploadRefused(415, "not_json", NOT_JSON)
    if not _plain_enough(document, settings.VERIFY_CREDENTIAL_MAX_OBJECTS):
        raise _too_complex()
    return document


def _too_complex() -> UploadRefused:
    kb, objects = settings.VERIFY_CREDENTIAL_MAX_BYTES // 1024, settings.VERIFY_CREDENTIAL_MAX_OBJECTS
    return UploadRefused(413, "too_complex", TOO_COMPLEX.format(kb=kb, objects=objects))


def _plain_enough(document: dict, max_objects: int) -> bool:
    """At most ``max_objects`` objects and no ``_:`` blank node identifiers: a tree of few nodes,
    which canonicalisation (RDFC-1.0) hashes quickly. Named blank nodes are how a document makes the
    cyclic graphs whose canonical form takes exponential time; ours never name one."""
    objects, pending = 0, [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            objects += 1
            if objects > max_objects:
                return False
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and value.startswith("_:"):
            return False
    return True


def version_of_file(data: bytes) -> CertificateVersion | None:
    """The version we issued with exactly these bytes (its SHA-256), current or superseded."""
    return public_version_by_pdf_sha256(hashlib.sha256(data).hexdigest())
