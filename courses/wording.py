"""Certificate wording with placeholders: "has completed {course_title} with {score}%".

Pure and shared: a template's wording (certificates) and a course's own line of wording (here) are
checked and filled by the same rules. A placeholder is a field name in braces; ``{custom:Grade}``
is the custom field labelled "Grade", ``{custom}`` all of them. ``{{`` and ``}}`` print braces.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

#: What each placeholder prints, for the admin's help text.
PLACEHOLDERS: dict[str, str] = {
    "holder_name": "the learner's name as printed",
    "course_title": "the course's title",
    "organisation_name": "the issuing organisation",
    "score": "the score, e.g. 92.5 (the line is left out when there is none)",
    "cohort": "the cohort, with its dates when the course has them",
    "instructor_name": "the instructor who signs",
    "completed_on": "the date of completion, in the certificate's language",
    "issued_on": "the date of issue, in the certificate's language",
    "custom": "every custom field, as 'Label: value' separated by dots",
    "custom:LABEL": "the custom field with that label, e.g. {custom:Grade}",
}
CUSTOM_PREFIX = "custom:"
_FORMATTER = string.Formatter()


class WordingError(ValueError):
    pass


def _spec_split(text: str) -> list[tuple[str, str | None]]:
    """(literal, placeholder) pairs. string.Formatter reads {custom:Grade} as field "custom" with
    format spec "Grade"; put them back together."""
    pairs = []
    for literal, name, spec, conversion in _FORMATTER.parse(text or ""):
        if name is None:
            pairs.append((literal, None))
        else:
            pairs.append((literal, name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")))
    return pairs


def placeholders(text: str) -> list[str]:
    """The placeholders of ``text`` in order, ``custom:LABEL`` included; WordingError if malformed."""
    try:
        pairs = _spec_split(text)
    except ValueError as exc:
        # Python's own wording ("Single '}' encountered in format string") is not for staff.
        raise WordingError(f"{text!r}: a brace without its pair (write {{{{ or }}}} for one that prints)") from exc
    names = []
    for _literal, name in pairs:
        if name is None:
            continue
        if "!" in name or (":" in name and not name.startswith(CUSTOM_PREFIX)):
            raise WordingError(f"{text!r}: {{{name}}} is not a placeholder")
        names.append(name)
    return names


def unknown_placeholders(text: str) -> list[str]:
    """Placeholders no certificate can fill (a typo prints nothing, so it is an error before it prints)."""
    unknown = []
    for name in placeholders(text):
        if name.startswith(CUSTOM_PREFIX):
            if not name[len(CUSTOM_PREFIX) :].strip():
                unknown.append(name)
        elif name not in PLACEHOLDERS or name == "custom:LABEL":
            unknown.append(name)
    return unknown


def literal_text(text: str) -> str:
    """``text`` without its placeholders: what the wording itself prints."""
    try:
        return "".join(literal for literal, _name in _spec_split(text))
    except ValueError:
        return text


def fill(
    text: str, values: Mapping[str, str], custom: Mapping[str, str], *, leave_out_empty: bool = True
) -> str | None:
    """``text`` with its placeholders filled, or None when one of them is empty (a score line on a
    certificate without a score is left out rather than printed as "with a score of %"). With
    ``leave_out_empty=False`` (a heading, which always prints) an empty placeholder prints nothing."""
    out = []
    for literal, name in _spec_split(text):
        out.append(literal)
        if name is None:
            continue
        if name.startswith(CUSTOM_PREFIX):
            value = custom.get(name[len(CUSTOM_PREFIX) :].strip(), "")
        else:
            value = values.get(name, "")
        if not value and leave_out_empty:
            return None
        out.append(value)
    return "".join(out)


def check_wording(text: str) -> None:
    """WordingError naming what is wrong: a malformed brace or an unknown placeholder."""
    unknown = unknown_placeholders(text)
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise WordingError(f"unknown placeholder {names} in {text!r}; known: {known}")
