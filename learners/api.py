"""The LMS webhook: verify, validate, record, answer. Rendering and email are left to the worker."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services, webhooks
from .ingest import RecordError, record_from_json


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
    if receipt.duplicate:
        return JsonResponse({"status": "duplicate", "detail": "already received; nothing changed"}, status=200)
    return JsonResponse({"status": "accepted", "outcome": receipt.result.outcome}, status=202)
