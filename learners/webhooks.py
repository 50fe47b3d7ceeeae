"""Standard Webhooks signatures (https://www.standardwebhooks.com/) with secrets that can rotate."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_ID_LENGTH = 200


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


class WebhookRejected(Exception):
    """The request is not a genuine, fresh webhook from the LMS."""


class WebhookNotConfigured(Exception):
    pass


class WebhookBadBody(Exception):
    """Genuinely signed, but not a JSON document."""


def verify(body: bytes, headers: Mapping[str, str], secrets: list[str]) -> object:
    """The parsed JSON body if any secret's signature matches and the timestamp is within 5 minutes.

    Comparison is constant-time (hmac.compare_digest, inside standardwebhooks). Several secrets are
    tried so an LMS can move to a new one while the old one is still accepted.
    """
    secrets = [secret for secret in secrets if secret and secret.strip() not in ("", "whsec_")]
    if not secrets:
        raise WebhookNotConfigured("LMS_WEBHOOK_SECRETS is not set")
    lowered = {key.lower(): value for key, value in headers.items()}
    for name in REQUIRED_HEADERS:
        if not lowered.get(name):
            raise WebhookRejected(f"missing header {name}")
    if len(lowered["webhook-id"]) > MAX_ID_LENGTH:
        raise WebhookRejected(f"webhook-id longer than {MAX_ID_LENGTH} characters")
    signatures = lowered["webhook-signature"].split()
    if not any("," in signature for signature in signatures):
        raise WebhookRejected("malformed webhook-signature header")
    # Only well-formed v1 signatures are compared, so one odd entry cannot hide a valid one.
    lowered["webhook-signature"] = " ".join(s for s in signatures if s.startswith("v1,") and _is_base64(s[3:]))
    for secret in secrets:
        try:
            Webhook(secret).verify(body, lowered, json_parse=False)
        except WebhookVerificationError as exc:
            text = str(exc).lower()
            if "timestamp" in text or "headers" in text:
                raise WebhookRejected(text.replace("message ", "")) from exc
            continue
        except UnicodeDecodeError as exc:
            raise WebhookRejected("body is not UTF-8") from exc
        break
    else:
        raise WebhookRejected("no matching signature")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise WebhookBadBody("body is not valid JSON") from exc
