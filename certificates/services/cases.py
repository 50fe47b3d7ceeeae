"""Learners' requests as cases: opened from the dashboard, decided by staff (or by the learner's own
confirmation, for a new address), every change through one table and one helper, with its history.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from sesame.utils import get_token, get_user

from delivery.errors import DoNotSend
from delivery.services import delivery_request
from learners.models import Enrollment, Learner
from learners.services import LearnerError
from learners.services.accounts import (
    EMAIL_LINK_SCOPE,
    address_is_valid,
    learner_approve_name,
    learner_change_email,
    learner_user,
    normalize_address,
    sign_in_url,
)
from learners.text import clean_name

from .. import pdf
from ..errors import CertificateError
from ..models import (
    LIVE_CASE_STATES,
    Case,
    CaseEvent,
    CaseKind,
    CaseState,
    Certificate,
    Credential,
    VersionReason,
)
from ..transitions import actor_label
from .emailing import certificate_follow_address
from .issuance import certificate_issue_for_enrollment
from .lifecycle import certificates_reissue

#: How the delivery app names our case emails, and their purposes: the link that confirms a new
#: address, and the learner's answer when staff decide a request.
CASE_COMPOSER, CONFIRM_EMAIL, CASE_DECIDED = "case", "confirm_email", "case_decided"
#: Requests whose decision the learner is told by email (the others they completed themselves).
DECIDED_BY_STAFF = (CaseKind.NAME_CORRECTION, CaseKind.COMPLETION_DISPUTE)
#: How long the link that confirms a new address works, in seconds.
EMAIL_CHANGE_LINK_MAX_AGE = 24 * 3600
MAX_MESSAGE = 2000

S = CaseState
#: Every allowed change of a case. Nothing else can happen to one.
CASE_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        (S.OPEN, S.WAITING_ON_LEARNER),
        (S.WAITING_ON_LEARNER, S.OPEN),  # the learner answered
        (S.OPEN, S.RESOLVED),
        (S.OPEN, S.DECLINED),
        (S.WAITING_ON_LEARNER, S.RESOLVED),
        (S.WAITING_ON_LEARNER, S.DECLINED),
    }
)


class CaseError(CertificateError, ValueError):
    """A request that cannot be opened or decided; the message is for the person who asked."""


def _event(case: Case, kind: str, *, actor=None, note: str = "", from_state: str = "", to_state: str = "") -> None:
    CaseEvent.objects.create(
        case=case,
        kind=kind,
        note=note[:500],
        from_state=from_state,
        to_state=to_state,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label(actor),
    )


def case_transition(*, case_id: int, to: str, actor=None, note: str = "", **fields: object) -> Case:
    """The one way a case changes state: a guarded UPDATE and its history line, in one transaction."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if (case.state, to) not in CASE_ALLOWED:
            raise CaseError(f"this request is {case.get_state_display().lower()} already")
        if to in (S.RESOLVED, S.DECLINED):
            fields.setdefault("decided_at", timezone.now())
            fields.setdefault("decided_by", actor if getattr(actor, "pk", None) else None)
        updated = Case.objects.filter(pk=case_id, state=case.state).update(
            state=to, updated_at=timezone.now(), **fields
        )
        if not updated:  # cannot happen under the row lock; kept as the guard it is
            raise CaseError("someone else changed this request first")
        _event(case, to, actor=actor, note=note, from_state=case.state, to_state=to)
        case.refresh_from_db()
        return case


def _open(*, actor, note: str = "", **fields: object) -> Case:
    try:
        with transaction.atomic():
            case = Case.objects.create(opened_by=actor if getattr(actor, "pk", None) else None, **fields)
            _event(case, "opened", actor=actor, note=note, to_state=case.state)
    except IntegrityError:
        raise CaseError("you have asked for this already; we will email you when it has been decided") from None
    return case


def _message(value: str) -> str:
    return (value or "").strip()[:MAX_MESSAGE]


def _learners_certificate(learner: Learner, certificate_id: int) -> Certificate:
    certificate = Certificate.objects.public().filter(pk=certificate_id, enrollment__learner=learner).first()
    if certificate is None:
        raise CaseError("no such certificate")
    return certificate


def case_open_name_correction(*, learner: Learner, certificate_id: int, name: str, message: str = "", by=None) -> Case:
    """The learner asks for their name to be printed differently; staff approve (reissue) or decline."""
    certificate = _learners_certificate(learner, certificate_id)
    requested = clean_name(name)
    if not requested:
        raise CaseError("write the name as it should be printed")
    if len(requested) > 300:
        raise CaseError("that name is longer than a certificate can print (300 characters at most)")
    current = learner.certificate_name
    if requested == current:
        raise CaseError("that is the name printed already")
    if missing := pdf.uncovered_characters(requested):
        shown = pdf.describe_characters(missing)
        raise CaseError(f"our certificate fonts cannot print {shown} yet; write the name without it, or tell us")
    return _open(
        actor=by,
        kind=CaseKind.NAME_CORRECTION,
        learner=learner,
        certificate=certificate,
        current_name=current,
        requested_name=requested,
        message=_message(message),
    )


def case_open_dispute(*, learner: Learner, enrollment_id: int, message: str = "", by=None) -> Case:
    """ "I finished but got no certificate", for a course the LMS reported."""
    enrollment = Enrollment.objects.filter(pk=enrollment_id, learner=learner).first()
    if enrollment is None:
        raise CaseError("no such course")
    if Certificate.objects.public().filter(enrollment=enrollment).exists():
        raise CaseError("you have a certificate for this course already")
    return _open(
        actor=by, kind=CaseKind.COMPLETION_DISPUTE, learner=learner, enrollment=enrollment, message=_message(message)
    )


def case_open_email_change(*, learner: Learner, new_email: str, by=None) -> Case:
    """Use a new address: it takes effect when the learner opens the link we send to it."""
    address = normalize_address(new_email)
    if not address_is_valid(address):
        raise CaseError("enter a valid email address, like name@example.com")
    if address == normalize_address(learner.email):
        raise CaseError("that is the address we use already")
    with transaction.atomic():
        # A new request replaces one still waiting: only the latest address can be confirmed.
        for waiting in Case.objects.filter(learner=learner, kind=CaseKind.EMAIL_CHANGE, state__in=LIVE_CASE_STATES):
            case_transition(case_id=waiting.pk, to=S.DECLINED, actor=by, note="replaced by a newer request")
        case = _open(actor=by, kind=CaseKind.EMAIL_CHANGE, learner=learner, new_email=address, state=S.OPEN)
        case = case_transition(
            case_id=case.pk, to=S.WAITING_ON_LEARNER, actor=by, note=f"confirmation sent to {address}"
        )
        delivery_request(composer=CASE_COMPOSER, reference=case.pk, recipient=address, purpose=CONFIRM_EMAIL)
    return case


def _email_change_scope(case: Case) -> str:
    return f"email-change:{case.pk}:{case.new_email}"


def email_change_confirm_url(case: Case) -> str:
    user = learner_user(learner_id=case.learner_id)
    query = urlencode({"sesame": get_token(user, _email_change_scope(case)), "case": case.pk})
    return f"{settings.SITE_URL}{reverse('dashboard:confirm_email')}?{query}"


def compose_case_email(delivery) -> EmailMultiAlternatives:
    """The emails of a case: the link that confirms a new address (sent to that address), and the
    decision on a request (sent to the learner's address)."""
    case = Case.objects.select_related("learner").filter(pk=int(delivery.reference)).first()
    if case is not None and delivery.purpose == CASE_DECIDED and not case.is_live:
        approved = case.state == S.RESOLVED
        context = {
            "case": case,
            "approved": approved,
            "what": case.get_kind_display().lower(),
            "note": case.decision_note if not approved else "",
            "url": sign_in_url(learner_id=case.learner_id, scope=EMAIL_LINK_SCOPE, next_path="/dashboard/"),
        }
        subject = f"Your {context['what']} request was {'approved' if approved else 'declined'}"
        return EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("emails/case_decided.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.recipient],
        )
    if case is None or case.kind != CaseKind.EMAIL_CHANGE or case.state != S.WAITING_ON_LEARNER:
        raise DoNotSend("the request was decided or replaced: not sent")
    if delivery.purpose != CONFIRM_EMAIL:
        raise DoNotSend(f"not an email of an address change: {delivery.purpose}")
    context = {"url": email_change_confirm_url(case), "address": case.new_email}
    return EmailMultiAlternatives(
        subject="Confirm your new email address",
        body=render_to_string("emails/confirm_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
    )


def _tell_learner(case: Case) -> None:
    """After commit, email the learner how their request was decided (once per request)."""
    if case.kind in DECIDED_BY_STAFF and case.learner.email:
        delivery_request(composer=CASE_COMPOSER, reference=case.pk, recipient=case.learner.email, purpose=CASE_DECIDED)


def _case_for_confirmation(case_id: int, token: str) -> Case | None:
    case = Case.objects.select_related("learner").filter(pk=case_id, kind=CaseKind.EMAIL_CHANGE).first()
    if case is None or case.state != S.WAITING_ON_LEARNER or not case.learner.user_id:
        return None
    user = get_user(
        token or "", scope=_email_change_scope(case), max_age=EMAIL_CHANGE_LINK_MAX_AGE, update_last_login=False
    )
    return case if user is not None and user.pk == case.learner.user_id else None


def email_change_check(*, case_id: int, token: str) -> Case | None:
    """The case a confirmation link is for, if it still works; nothing is changed."""
    return _case_for_confirmation(case_id, token)


@transaction.atomic
def email_change_confirm(*, case_id: int, token: str) -> Case:
    """The learner opened the link at their new address: it is theirs from now on."""
    Case.objects.select_for_update().filter(pk=case_id).first()
    case = _case_for_confirmation(case_id, token)
    if case is None:
        raise CaseError("this link has expired or was used already")
    learner = learner_change_email(learner_id=case.learner_id, new_email=case.new_email)
    for certificate in Certificate.objects.public().filter(enrollment__learner=learner):
        certificate_follow_address(certificate=certificate, email=learner.email)
    return case_transition(case_id=case.pk, to=S.RESOLVED, note=f"confirmed by the learner at {learner.email}")


def case_record_resend(*, certificate: Certificate, by=None) -> Case:
    """A resend the learner asked for and got at once: a case resolved on opening, for the history."""
    with transaction.atomic():
        case = _open(
            actor=by,
            kind=CaseKind.RESEND,
            learner_id=certificate.enrollment.learner_id,
            certificate=certificate,
            state=S.OPEN,
        )
        return case_transition(case_id=case.pk, to=S.RESOLVED, actor=by, note="sent again")


def case_assign(*, case_id: int, assignee, by) -> Case:
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        Case.objects.filter(pk=case_id).update(assignee=assignee, updated_at=timezone.now())
        _event(case, "assigned", actor=by, note=f"to {actor_label(assignee)}" if assignee else "unassigned")
        case.refresh_from_db()
        return case


def case_approve(*, case_id: int, by, note: str = "") -> Case:
    """Staff say yes. A name correction prints the new name on every certificate of the learner (new
    versions through the lifecycle service); a dispute runs the course's rule again on the LMS's data."""
    case = Case.objects.select_related("learner").get(pk=case_id)
    if not case.is_live:
        raise CaseError(f"this request is {case.get_state_display().lower()} already")
    if case.kind == CaseKind.NAME_CORRECTION:
        with transaction.atomic():
            try:
                learner_approve_name(learner_id=case.learner_id, name=case.requested_name)
            except LearnerError as exc:
                raise CaseError(str(exc)) from None
            ids = list(
                Certificate.objects.public()
                .filter(enrollment__learner_id=case.learner_id, credential_state=Credential.ACTIVE)
                .values_list("pk", flat=True)
            )
            outcome = certificates_reissue(
                certificate_ids=ids, reason=VersionReason.NAME_CORRECTION, note=note or "name correction", by=by
            )
            case = case_transition(
                case_id=case.pk, to=S.RESOLVED, actor=by, note=note or f"name corrected; {outcome.reissued} reissued"
            )
            _tell_learner(case)
            return case
    if case.kind == CaseKind.COMPLETION_DISPUTE:
        with transaction.atomic():
            certificate = certificate_issue_for_enrollment(enrollment_id=case.enrollment_id, by=by)
            if certificate is None or not certificate.is_public:
                enrollment = Enrollment.objects.get(pk=case.enrollment_id)
                raise CaseError(
                    f"the course's rule still does not issue it ({enrollment.decision_reason or 'not eligible'}):"
                    " correct the completion record first, or decline with a reason"
                )
            case = case_transition(case_id=case.pk, to=S.RESOLVED, actor=by, note=note or "certificate issued")
            _tell_learner(case)
            return case
    raise CaseError(f"a {case.get_kind_display().lower()} is not decided by staff")


def case_decline(*, case_id: int, by, note: str) -> Case:
    """Staff say no, with a reason the learner sees (on their page and in an email)."""
    note = (note or "").strip()
    if not note:
        raise CaseError("say why: the learner sees the reason")
    with transaction.atomic():
        case = case_transition(case_id=case_id, to=S.DECLINED, actor=by, note=note, decision_note=note[:500])
        _tell_learner(case)
        return case


def case_override_issue(*, case_id: int, by, note: str) -> Case:
    """A completion dispute decided for the learner although the course's rule says no (the LMS's
    record was wrong and cannot be fixed there): the certificate is issued and remembers why."""
    note = (note or "").strip()
    if not note:
        raise CaseError("say why the rule is set aside: it is kept with the certificate")
    case = Case.objects.select_related("learner").get(pk=case_id)
    if case.kind != CaseKind.COMPLETION_DISPUTE:
        raise CaseError("only a completion dispute can be decided against the course's rule")
    if not case.is_live:
        raise CaseError(f"this request is {case.get_state_display().lower()} already")
    with transaction.atomic():
        certificate = certificate_issue_for_enrollment(enrollment_id=case.enrollment_id, by=by, override=note)
        if certificate is None or not certificate.is_public:
            raise CaseError(
                "it is still held: " + (certificate.state_reason if certificate else "the completion is missing")
            )
        case = case_transition(
            case_id=case.pk, to=S.RESOLVED, actor=by, note=f"issued against the rule: {note}", certificate=certificate
        )
        _tell_learner(case)
        return case
