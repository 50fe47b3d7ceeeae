"""The LMS webhook: verify, validate, record, answer. Rendering and email are left to the worker."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services, webhooks
from .ingest import RecordError, record_from_json

#: Said with a 503 when the database cannot be reached (restarting, failing over): nothing was
#: recorded, so the LMS must send the event again, with the same id, after ``RETRY_AFTER_SECONDS``.
DATABASE_UNAVAILABLE = "the database is unavailable; nothing was recorded, send this event again later"
RETRY_AFTER_SECONDS = 5

logger = logging.getLogger(__name__)


@csrf_exempt  # authenticated by its signature, not a browser session
@require_POST
def lms_completions(request: HttpRequest) -> JsonResponse:
    try:
        payload = webhooks.verify(request.body, request.headers, settings.LMS_WEBHOOK_SECRETS)
    except webhooks.WebhookNotConfigured as exc:
        return JsonResponse({"error": str(exc)}, status=503)
    except webhooks.WebhookRejected as exc:
        return JsonResponse({"error": str(exc)}, status=401)
    except webhooks.WebhookBadBody as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    try:
        record = record_from_json(payload)
        receipt = services.webhook_completion_receive(
            webhook_id=request.headers["webhook-id"], payload=payload, record=record
        )
    except (RecordError, services.LearnerError, services.CourseError) as exc:
        return JsonResponse({"error": str(exc)}, status=422)
    except (OperationalError, InterfaceError):
        # Not our bug and not the event's: a 503 with Retry-After says "not taken, send it again". The
        # transaction rolled back, so the retry under the same id is not mistaken for a replay.
        logger.warning("LMS webhook %s refused: database unavailable", request.headers["webhook-id"], exc_info=True)
        response = JsonResponse({"error": DATABASE_UNAVAILABLE}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if receipt.duplicate:
        return JsonResponse({"status": "duplicate", "detail": "already received; nothing changed"}, status=200)
    return JsonResponse({"status": "accepted", "outcome": receipt.result.outcome}, status=202)
