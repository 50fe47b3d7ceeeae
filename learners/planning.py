"""What one completion record changes: the rules both ingestion paths share. Pure: no ORM.

The one-record path (webhook, admin, ``completion_ingest``) and the CSV bulk path (``_ingest_batch``)
read what is stored, ask ``plan_completion`` (or its two halves) what to do, and apply the answer
their own way: one row at a time, or a few queries a batch. So a row is taken, changed or rejected
the same way, for the same reason, whichever way it came in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError

from courses.custom_fields import CustomFieldsError, check_custom_fields

from .ingest import CompletionRecord
from .text import check_email, clean_custom_fields, clean_name, email_key, name_problem

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

COMPLETED_AT_NEEDS_TIMEZONE = "completed_at must carry a timezone"
MISSING_LEARNER_ID = "missing learner id"
MISSING_NAME = "missing name"
MISSING_EMAIL = "missing email"
INVALID_EMAIL = "invalid email {email!r}"
COMPLETED_IN_THE_FUTURE = "completion date {when} is in the future"
COMPLETED_BEFORE_THE_COURSE = "completion date {when} is before the course started ({start})"
#: LMSs export local times without an offset: a day covers every time zone's "today".
FUTURE_TOLERANCE = timedelta(days=1)

LEARNER_FIELDS = ("email", "full_name", "preferred_name")
FACT_FIELDS = ("completed_at", "score", "attendance", "cohort", "custom_fields", "review_reason")


@dataclass(frozen=True, slots=True)
class LearnerDetails:
    """A learner's details, as stored or as sent."""

    email: str = ""
    full_name: str = ""
    preferred_name: str = ""
    #: Stored only: the LMS address the learner replaced with one they confirmed (see plan_learner).
    email_replaced: str = ""


@dataclass(frozen=True, slots=True)
class Facts:
    """What the LMS says about a learner on a course."""

    completed_at: datetime | None = None
    score: Decimal | None = None
    attendance: Decimal | None = None
    cohort: str = ""
    custom_fields: dict = field(default_factory=dict)
    review_reason: str = ""  # what staff must check before a certificate goes out (contradictory facts)

    def as_dict(self) -> dict:
        # Spelled out (FACT_FIELDS, in its order): every planned row makes one.
        return {
            "completed_at": self.completed_at,
            "score": self.score,
            "attendance": self.attendance,
            "cohort": self.cohort,
            "custom_fields": self.custom_fields,
            "review_reason": self.review_reason,
        }


@dataclass(frozen=True, slots=True)
class Rejection:
    """The record cannot be taken; ``reason`` is shown to whoever sent it."""

    reason: str


@dataclass(frozen=True, slots=True)
class LearnerPlan:
    external_id: str
    create: bool
    changes: dict[str, str]  # every field for a new learner; only what differs for a known one
    email_change: tuple[str, str] | None = None  # (old, new): to record in the learner's history

    @property
    def changed(self) -> bool:
        return self.create or bool(self.changes)


@dataclass(frozen=True, slots=True)
class EnrollmentPlan:
    create: bool
    changes: dict  # every fact for a new enrollment; only what differs for a known one
    outcome: str  # created / updated / unchanged
    completed: bool  # completed_at is set once the plan is applied


@dataclass(frozen=True, slots=True)
class CompletionPlan:
    learner: LearnerPlan
    enrollment: EnrollmentPlan
    outcome: str
    queue_issuance: bool  # the issuance rule must run (again) for it
    held: str = ""  # why issuance will hold the certificate for staff (bad address, name, facts), or ""


def plan_learner(
    *,
    external_id: str,
    sent: LearnerDetails,
    stored: LearnerDetails | None,
    keep_blank: bool,
    require_details: bool = False,
    require_email: bool = True,
    cleaned: bool = False,
) -> LearnerPlan | Rejection:
    """Create or update a learner known by LMS id; with ``keep_blank`` an empty value keeps the stored one.

    ``require_details``: an LMS must send a name and an email for a learner we do not know yet
    (exports may omit what we already have). Without ``require_email`` (the CSV import) a finisher
    with no address is taken and its certificate held for staff, never dropped.
    An address that differs only in case or surrounding spaces is the one we have: no change.
    ``cleaned``: ``sent`` is already cleaned (``clean_name`` gives each value back unchanged).
    """
    external_id = (external_id or "").strip()
    if not external_id:
        return Rejection(MISSING_LEARNER_ID)
    if cleaned:
        values = {"email": sent.email, "full_name": sent.full_name, "preferred_name": sent.preferred_name}
    else:
        values = {name: clean_name(getattr(sent, name)) for name in LEARNER_FIELDS}
    if require_details:
        if not values["full_name"] and not values["preferred_name"] and not (stored and stored.full_name):
            return Rejection(MISSING_NAME)
        if require_email and not values["email"] and not (stored and stored.email):
            return Rejection(MISSING_EMAIL)
    if stored is None:
        return LearnerPlan(external_id=external_id, create=True, changes=values)
    changes = {
        name: value
        for name, value in values.items()
        if not _same(name, getattr(stored, name), value) and (value or not keep_blank)
    }
    if "email" in changes and not _deliverable(changes["email"]) and _deliverable(stored.email):
        del changes["email"]  # a typo in the LMS never replaces an address that works
    if stored.email_replaced and email_key(changes.get("email", "")) == email_key(stored.email_replaced):
        # The LMS still has the address the learner replaced: theirs stands until the LMS sends a new one.
        del changes["email"]
    email_change = (stored.email, changes["email"]) if "email" in changes else None
    return LearnerPlan(external_id=external_id, create=False, changes=changes, email_change=email_change)


def _same(name: str, stored: str, sent: str) -> bool:
    # The same text is the same address without folding it (most rows of a re-import).
    return stored == sent or (name == "email" and email_key(stored) == email_key(sent))


def _deliverable(address: str) -> bool:
    """What the certificate email can be sent to (the same test issuance makes before it holds)."""
    try:
        check_email(address)
    except ValidationError:
        return False
    return True


def plan_enrollment(
    *,
    sent: Facts,
    stored: Facts | None,
    now: datetime | None = None,
    course_start: date | None = None,
    cleaned: bool = False,
) -> EnrollmentPlan | Rejection:
    """Record the facts the LMS sent; an enrollment whose facts change is evaluated again.

    A completion dated in the future (``now``) or before the course started is recorded with a
    review reason, so issuance holds its certificate for staff instead of printing a wrong date.
    ``cleaned``: the cohort and custom fields of ``sent`` are already cleaned and checked.
    """
    if sent.completed_at is not None and sent.completed_at.utcoffset() is None:
        return Rejection(COMPLETED_AT_NEEDS_TIMEZONE)
    if cleaned:
        facts = sent.as_dict()
    else:
        custom_fields = clean_custom_fields(sent.custom_fields)
        try:
            check_custom_fields(custom_fields)
        except CustomFieldsError as exc:
            return Rejection(str(exc))
        facts = {**sent.as_dict(), "cohort": clean_name(sent.cohort), "custom_fields": custom_fields}
    if facts["completed_at"] is None and stored is not None and stored.completed_at is not None:
        # "In progress", "expired", "withdrawn" after a completion: a lapsed or re-enrolled learner
        # still finished once. A completion is never erased by an export; staff revoke if it must go.
        # Nor is what staff must check about it: only facts that carry a completion replace those.
        facts["completed_at"], facts["review_reason"] = stored.completed_at, stored.review_reason
    else:
        facts["review_reason"] = "; ".join(
            reason for reason in (sent.review_reason, _date_problem(facts["completed_at"], now, course_start)) if reason
        )[:300]
    completed = facts["completed_at"] is not None
    if stored is None:
        return EnrollmentPlan(create=True, changes=facts, outcome=CREATED, completed=completed)
    changes = {name: value for name, value in facts.items() if getattr(stored, name) != value}
    return EnrollmentPlan(create=False, changes=changes, outcome=UPDATED if changes else UNCHANGED, completed=completed)


def _date_problem(completed_at: datetime | None, now: datetime | None, course_start: date | None) -> str:
    if completed_at is None:
        return ""
    if now is not None and completed_at > now + FUTURE_TOLERANCE:
        return COMPLETED_IN_THE_FUTURE.format(when=completed_at.date().isoformat())
    if course_start is not None and completed_at.date() < course_start:
        return COMPLETED_BEFORE_THE_COURSE.format(when=completed_at.date().isoformat(), start=course_start.isoformat())
    return ""


def learner_problems(details: LearnerDetails) -> list[str]:
    """What about a learner's details issuance will hold a certificate for (the same tests it makes)."""
    problems = []
    if not details.email:
        problems.append(MISSING_EMAIL)
    elif not _deliverable(details.email):
        problems.append(INVALID_EMAIL.format(email=details.email))
    if problem := name_problem(details.preferred_name or details.full_name):
        problems.append(problem)
    return problems


def facts_of(record: CompletionRecord) -> Facts:
    return Facts(
        completed_at=record.completed_at,
        score=record.score,
        attendance=record.attendance,
        cohort=record.cohort,
        custom_fields=record.custom_fields,
        review_reason=record.review_reason,
    )


def plan_completion(
    *,
    record: CompletionRecord,
    learner: LearnerDetails | None,
    enrollment: Facts | None,
    now: datetime | None = None,
    course_start: date | None = None,
    require_email: bool = True,
) -> CompletionPlan | Rejection:
    """One completion from an LMS (webhook or import row), given what is stored (None: nothing yet)."""
    learner_plan = plan_learner(
        external_id=record.learner_id,
        sent=LearnerDetails(email=record.email, full_name=record.full_name, preferred_name=record.preferred_name),
        stored=learner,
        keep_blank=True,
        require_details=True,
        require_email=require_email,
        cleaned=record.cleaned,
    )
    if isinstance(learner_plan, Rejection):
        return learner_plan
    stored_facts = None if learner_plan.create else enrollment
    enrollment_plan = plan_enrollment(
        sent=facts_of(record),
        stored=stored_facts,
        now=now,
        course_start=course_start,
        cleaned=record.cleaned,
    )
    if isinstance(enrollment_plan, Rejection):
        return enrollment_plan
    outcome = enrollment_plan.outcome
    if outcome == UNCHANGED and learner_plan.changed:
        outcome = UPDATED  # a corrected name may release a held certificate
    held = []
    if enrollment_plan.completed:
        base = learner if learner is not None and not learner_plan.create else LearnerDetails()
        changes = learner_plan.changes
        after = LearnerDetails(
            email=changes.get("email", base.email),
            full_name=changes.get("full_name", base.full_name),
            preferred_name=changes.get("preferred_name", base.preferred_name),
        )
        review = enrollment_plan.changes.get("review_reason", stored_facts.review_reason if stored_facts else "")
        held = [*learner_problems(after), *([review] if review else [])]
    return CompletionPlan(
        learner=learner_plan,
        enrollment=enrollment_plan,
        outcome=outcome,
        queue_issuance=outcome != UNCHANGED and enrollment_plan.completed,
        held="; ".join(held),
    )
