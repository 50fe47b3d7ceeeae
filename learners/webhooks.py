"""Standard Webhooks signatures (https://www.standardwebhooks.com/) with secrets that can rotate."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_ID_LENGTH = 200
MAX_JSON_DEPTH = 20  # our body is two levels deep; Python's parser overflows near 1000

BODY_NOT_JSON = "body is not valid JSON"
BODY_NOT_FINITE = "body has a number that is not finite (NaN, Infinity, or too large)"
BODY_TOO_DEEP = f"body is nested deeper than {MAX_JSON_DEPTH} levels"
BODY_HAS_NUL = "body contains a NUL character (\\u0000)"
BODY_HAS_SURROGATE = "body contains an unpaired UTF-16 surrogate"


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
    return parse_body(body)


class _NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise _NotFinite(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise _NotFinite(text)
    return value


def parse_body(body: bytes) -> object:
    """Strict JSON that PostgreSQL can store and Python can walk; ``WebhookBadBody`` says what is wrong.

    Python's ``json`` accepts NaN and Infinity (not JSON; refused by jsonb), overflows its stack on deep
    nesting, and lets ``\\u0000`` and lone surrogates through (refused by PostgreSQL text).
    """
    try:
        payload = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NotFinite as exc:
        raise WebhookBadBody(BODY_NOT_FINITE) from exc
    except RecursionError as exc:
        raise WebhookBadBody(BODY_TOO_DEEP) from exc
    except ValueError as exc:
        raise WebhookBadBody(BODY_NOT_JSON) from exc
    _check_document(payload)
    return payload


def _check_document(payload: object) -> None:
    stack = [(payload, 1)]  # iterative: the document may be deeper than Python's stack
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise WebhookBadBody(BODY_TOO_DEEP)
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
        elif isinstance(value, str):
            if "\x00" in value:
                raise WebhookBadBody(BODY_HAS_NUL)
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise WebhookBadBody(BODY_HAS_SURROGATE) from exc
