"""The buttons of a certificate's page (and its list's bulk actions): who may press each, when it
applies, and the one service it calls. The admin pages only look them up by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from learners.models import Decision

from .. import selectors
from ..models import ISSUED_STATES, RENDERED_STATES, Certificate, Credential, Pipeline, VersionReason
from ..services import emailing, issuance, lifecycle, rendering

REVIEW = "certificates.review_certificate"
RESEND = "certificates.resend_certificate"
REISSUE = "certificates.reissue_certificate"
REVOKE = "certificates.revoke_certificate"
UNREVOKE = "certificates.unrevoke_certificate"
FIX_LEARNER = "learners.change_learner"

#: Long reasons are cut in lists; the work page has them whole.
SHORT_REASON = 60


def _resend(certificate: Certificate, by) -> str | None:
    if emailing.certificate_email_resend(certificate_ids=[certificate.pk], by=by):
        return None
    return f"not sent: {selectors.resend_refusal(certificate)}"


def _reissue(certificate: Certificate, by, reason: str) -> str | None:
    version = lifecycle.certificate_reissue(
        certificate_id=certificate.pk, reason=VersionReason.COURSE_CORRECTION, note=reason, by=by
    )
    return None if version is not None else "it would print exactly what it prints now: no new version"


def _recheck(certificate: Certificate, by) -> str | None:
    issuance.certificate_issue_for_enrollment(enrollment_id=certificate.enrollment_id, by=by)
    certificate = Certificate.objects.get(pk=certificate.pk)
    if certificate.pipeline_state == Pipeline.HELD:
        return f"still held: {certificate.state_reason}"
    return None


@dataclass(frozen=True)
class PageAction:
    """A button on a certificate's page: who may press it, when it applies, what it calls."""

    name: str
    label: str
    permission: str
    applies: Callable[[Certificate], bool]
    run: Callable[[Certificate, object, str], object]  # (certificate, user, reason) -> None or "why not"
    done: str  # "Approved", for the message
    reason: str = ""  # what the reason box asks for; "" when there is none
    danger: bool = False


def _gave_up(certificate: Certificate) -> bool:
    return certificate.pipeline_state == Pipeline.ISSUED and bool(certificate.state_reason)


PAGE_ACTIONS = [
    PageAction(
        "approve",
        "Approve and issue",
        REVIEW,
        # Only what the course's rule sent to review: approving a certificate held for bad data would
        # pre-approve it past a review it never had.
        lambda c: (
            c.pipeline_state == Pipeline.HELD
            and c.approved_at is None
            and c.enrollment.decision == Decision.NEEDS_REVIEW
        ),
        lambda c, by, _: issuance.certificate_approve(certificate_id=c.pk, by=by),
        "Approved",
    ),
    PageAction(
        "recheck",
        "Check again now",
        REVIEW,
        lambda c: c.pipeline_state == Pipeline.HELD,
        lambda c, by, _: _recheck(c, by),
        "Issued",
    ),
    PageAction(
        "reject",
        "Reject",
        REVIEW,
        lambda c: c.pipeline_state == Pipeline.HELD,
        lambda c, by, why: issuance.certificate_reject(certificate_id=c.pk, by=by, reason=why),
        "Rejected",
        reason="Why (the learner sees this)",
        danger=True,
    ),
    PageAction(
        "retry_render",
        "Try the PDF again",
        REVIEW,
        _gave_up,
        lambda c, by, _: rendering.certificate_render_retry(certificate_id=c.pk, by=by),
        "Queued the PDF of",
    ),
    PageAction(
        "resend",
        "Send the email again",
        RESEND,
        lambda c: c.pipeline_state in RENDERED_STATES and c.is_valid,
        lambda c, by, _: _resend(c, by),
        "Queued an email for",
    ),
    PageAction(
        "reissue",
        "Reissue from today's data",
        REISSUE,
        lambda c: c.pipeline_state in RENDERED_STATES and c.credential_state == Credential.ACTIVE,
        lambda c, by, why: _reissue(c, by, why),
        "Reissued",
        reason="What was wrong (kept with the new version)",
    ),
    PageAction(
        "suspend",
        "Suspend",
        REVOKE,
        lambda c: c.pipeline_state in ISSUED_STATES and c.credential_state == Credential.ACTIVE,
        lambda c, by, why: lifecycle.certificate_suspend(certificate_id=c.pk, by=by, reason=why),
        "Suspended",
        reason="Why (shown on the verify page)",
    ),
    PageAction(
        "reinstate",
        "Reinstate",
        REVOKE,
        lambda c: c.credential_state == Credential.SUSPENDED,
        lambda c, by, why: lifecycle.certificate_reinstate(certificate_id=c.pk, by=by, reason=why or "reinstated"),
        "Reinstated",
    ),
    PageAction(
        "revoke",
        "Revoke",
        REVOKE,
        lambda c: c.pipeline_state in ISSUED_STATES and c.credential_state in (Credential.ACTIVE, Credential.SUSPENDED),
        lambda c, by, why: lifecycle.certificate_revoke(certificate_id=c.pk, by=by, reason=why),
        "Revoked",
        reason="Why (shown on the verify page)",
        danger=True,
    ),
    PageAction(
        "unrevoke",
        "Un-revoke",
        UNREVOKE,
        lambda c: c.credential_state == Credential.REVOKED,
        lambda c, by, why: lifecycle.certificate_unrevoke(certificate_id=c.pk, by=by, reason=why),
        "Un-revoked",
        reason="Why the revocation was a mistake",
    ),
]
PAGE_ACTIONS_BY_NAME = {action.name: action for action in PAGE_ACTIONS}


def state_in_words(certificate: Certificate) -> str:
    words = certificate.get_pipeline_state_display()
    if certificate.credential_state != Credential.ACTIVE:
        words = f"{certificate.get_credential_state_display()} · {words.lower()}"
    elif certificate.is_expired:
        words = f"Expired · {words.lower()}"
    return words
