"""Custom fields ("Label: value" lines printed on certificates): their shape and limits. Pure: no ORM.

One rule for every edge (webhook, CSV import, admin forms), with the database's check constraint as
the backstop: one 2 MB value once made every render run past the task timeout.
"""

from __future__ import annotations

import json

CUSTOM_FIELDS_MAX_COUNT = 20
CUSTOM_FIELD_LABEL_MAX_LENGTH = 60
CUSTOM_FIELD_VALUE_MAX_LENGTH = 200  # a list counts as its items joined by ", ", as printed
# The JSON as the database holds it (SQLite stores \uXXXX escapes: up to 6 characters per letter), so
# that every value within the limits above fits, while a megabyte never does.
CUSTOM_FIELDS_MAX_JSON_LENGTH = 32_000

NOT_AN_OBJECT = 'use an object of label: value, e.g. {"Hours": "40", "Skills": ["SQL", "pandas"]}'
TOO_MANY_FIELDS = f"more than {CUSTOM_FIELDS_MAX_COUNT} custom fields"
LABEL_MISSING = "a custom field has no label"
LABEL_TOO_LONG = f"custom field label longer than {CUSTOM_FIELD_LABEL_MAX_LENGTH} characters: {{label}}"
VALUE_NOT_TEXT = "custom field {label}: use text, a number or a list of text"
VALUE_TOO_LONG = f"custom field {{label}}: value longer than {CUSTOM_FIELD_VALUE_MAX_LENGTH} characters"
TOO_LONG_IN_TOTAL = f"custom fields longer than {CUSTOM_FIELDS_MAX_JSON_LENGTH} characters in total"


class CustomFieldsError(ValueError):
    """Custom fields we will not store; the message says why."""


def _shown(label: object) -> str:
    text = str(label)
    return repr(text if len(text) <= CUSTOM_FIELD_LABEL_MAX_LENGTH else text[:CUSTOM_FIELD_LABEL_MAX_LENGTH] + "…")


def printed_value(value: object) -> str:
    """A value as the certificate prints it: lists joined by commas."""
    items = value if isinstance(value, list) else [value]
    return ", ".join(str(item) for item in items)


def check_custom_fields(value: object) -> None:
    """Raise ``CustomFieldsError`` unless ``value`` is at most 20 short labels of short text (or lists of it)."""
    if value in (None, ""):
        return
    if not isinstance(value, dict):
        raise CustomFieldsError(NOT_AN_OBJECT)
    if len(value) > CUSTOM_FIELDS_MAX_COUNT:
        raise CustomFieldsError(TOO_MANY_FIELDS)
    # An upper bound of the JSON's length: json.dumps of every small value (most of them) cost more
    # than the rest of the check. A character is at most 12 in JSON (a surrogate pair's escapes).
    bound = 2
    for label, item in value.items():
        text = label if isinstance(label, str) else str(label)
        if not text.strip():
            raise CustomFieldsError(LABEL_MISSING)
        if len(text) > CUSTOM_FIELD_LABEL_MAX_LENGTH:
            raise CustomFieldsError(LABEL_TOO_LONG.format(label=_shown(label)))
        if isinstance(item, str):  # nearly every value: the checks below, without building a list
            if len(item) > CUSTOM_FIELD_VALUE_MAX_LENGTH:
                raise CustomFieldsError(VALUE_TOO_LONG.format(label=_shown(label)))
            plain, printed, count = label is text or _plain(label), len(item), 1
        else:
            items = item if isinstance(item, list) else [item]
            if any(isinstance(i, dict | list) for i in items):
                raise CustomFieldsError(VALUE_NOT_TEXT.format(label=_shown(label)))
            printed = len(printed_value(item))
            if printed > CUSTOM_FIELD_VALUE_MAX_LENGTH:
                raise CustomFieldsError(VALUE_TOO_LONG.format(label=_shown(label)))
            plain, count = all(_plain(i) for i in [label, *items]), len(items)
        bound += 12 * (len(text) + printed) + 4 * count + 8 if plain else CUSTOM_FIELDS_MAX_JSON_LENGTH
    if bound > CUSTOM_FIELDS_MAX_JSON_LENGTH and len(json.dumps(value)) > CUSTOM_FIELDS_MAX_JSON_LENGTH:
        raise CustomFieldsError(TOO_LONG_IN_TOTAL)


def _plain(value: object) -> bool:
    """JSON writes it in at most 12 characters per character of its str() (and json.dumps can)."""
    return value is None or isinstance(value, str | int | float)
