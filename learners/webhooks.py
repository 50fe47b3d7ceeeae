"""Standard Webhooks signatures (https://www.standardwebhooks.com/) with secrets that can rotate."""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


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
    if not secrets:
        raise WebhookNotConfigured("LMS_WEBHOOK_SECRETS is not set")
    lowered = {key.lower(): value for key, value in headers.items()}
    for name in REQUIRED_HEADERS:
        if not lowered.get(name):
            raise WebhookRejected(f"missing header {name}")
    failure = "no matching signature"
    for secret in secrets:
        try:
            Webhook(secret).verify(body, lowered, json_parse=False)
        except WebhookVerificationError as exc:
            if "timestamp" in str(exc).lower() or "headers" in str(exc).lower():
                raise WebhookRejected(str(exc).lower().replace("message ", "")) from exc
            continue
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise WebhookRejected("malformed webhook-signature header or body") from exc
        break
    else:
        raise WebhookRejected(failure)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise WebhookBadBody("body is not valid JSON") from exc
