"""What every page of the staff desk shares: permission checks, messages that name what they did,
the page that asks for a reason before a bulk action, and the audit line in Django's admin log."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse

from ..errors import CertificateError
from ..models import Certificate

T = TypeVar("T")

#: How many names a success message lists before it says "and N more".
NAMED_IN_MESSAGE = 5
#: How many refusals are listed one by one.
REFUSALS_LISTED = 10

#: How many of the selected rows the reason page names (the action applies to all of them).
SHOWN_BEFORE_ASKING = 200

NOTHING_SELECTED = "Nothing was done: none of the selected rows can take that action."


def allowed(request: HttpRequest, codename: str) -> bool:
    return request.user.has_perm(codename)


def require(request: HttpRequest, codename: str) -> None:
    if not allowed(request, codename):
        raise PermissionDenied


def certificate_label(certificate: Certificate) -> str:
    """A certificate as staff recognise it: its code and whose it is."""
    learner = certificate.enrollment.learner
    return f"{certificate.display_code} ({learner.certificate_name or learner.external_id})"


def _listed(labels: list[str]) -> str:
    shown = ", ".join(labels[:NAMED_IN_MESSAGE])
    return shown if len(labels) <= NAMED_IN_MESSAGE else f"{shown} and {len(labels) - NAMED_IN_MESSAGE} more"


def run_each(
    request: HttpRequest,
    items: Iterable[T],
    *,
    done: str,
    label: Callable[[T], str],
    step: Callable[[T], object],
    errors: tuple[type[Exception], ...] = (CertificateError,),
) -> list[T]:
    """Do ``step`` to each item; say what was done by name, and each refusal with its reason.

    ``step`` returning a string means "not done, because ..." (a refusal that is not an error).
    Nothing done is never reported as a success. Returns the items that were done.
    """
    finished: list[T] = []
    succeeded: list[str] = []
    refused: list[str] = []
    for item in items:
        try:
            outcome = step(item)
        except errors as exc:
            refused.append(f"{label(item)}: {exc}")
            continue
        if isinstance(outcome, str):
            refused.append(f"{label(item)}: {outcome}")
        else:
            finished.append(item)
            succeeded.append(label(item))
    if succeeded:
        messages.success(request, f"{done} {len(succeeded)}: {_listed(succeeded)}.")
    for line in refused[:REFUSALS_LISTED]:
        messages.error(request, f"Not done for {line}")
    if len(refused) > REFUSALS_LISTED:
        messages.error(request, f"... and {len(refused) - REFUSALS_LISTED} more were not done.")
    if not succeeded and not refused:
        messages.warning(request, NOTHING_SELECTED)
    return finished


def audit(request: HttpRequest, obj, message: str) -> None:
    """A line in the admin's log of staff actions (read-only in the admin), beside the object's own history."""
    LogEntry.objects.log_actions(
        user_id=request.user.pk, queryset=[obj], action_flag=CHANGE, change_message=message[:1000], single_object=True
    )


def ask_reason(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset,
    *,
    action: str,
    title: str,
    explanation: str,
    label: Callable,
    button: str,
) -> TemplateResponse:
    """The page between choosing a bulk action and doing it, when it needs a reason (reject, revoke, decline)."""
    rows = list(queryset[:SHOWN_BEFORE_ASKING])
    return TemplateResponse(
        request,
        "admin/desk/ask_reason.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "action": action,
            "button": button,
            "items": [(row.pk, label(row)) for row in rows],
            "more": max(queryset.count() - len(rows), 0),
            # "Select all N" is carried as such (the filters are in the URL), never as N hidden ids.
            "select_across": request.POST.get("select_across") == "1",
            "post_to": request.get_full_path(),
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    """A page to look at: written only by services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
