"""Issuance rules: pure decisions from a course's rule and a completion's facts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .models import IssuanceRule


class Outcome(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    NEEDS_REVIEW = "needs_review"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reason: str


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}"


def evaluate(
    *,
    rule: str,
    threshold: Decimal | None,
    completed: bool,
    score: Decimal | None,
    attendance: Decimal | None,
) -> Decision:
    """Decide whether a completion earns a certificate; the reason is kept for disputes."""
    if not completed:
        return Decision(Outcome.NOT_ELIGIBLE, "not completed")
    if rule == IssuanceRule.ON_COMPLETION:
        return Decision(Outcome.ELIGIBLE, "completed")
    if rule == IssuanceRule.MANUAL_REVIEW:
        return Decision(Outcome.NEEDS_REVIEW, "course requires manual review before issue")
    if rule in (IssuanceRule.MIN_SCORE, IssuanceRule.ATTENDANCE):
        label, value = ("score", score) if rule == IssuanceRule.MIN_SCORE else ("attendance", attendance)
        if threshold is None:
            return Decision(Outcome.NEEDS_REVIEW, f"course has no {label} threshold set")
        if value is None:
            return Decision(Outcome.NOT_ELIGIBLE, f"no {label} recorded (needs {_pct(threshold)})")
        if value >= threshold:
            return Decision(Outcome.ELIGIBLE, f"{label} {_pct(value)} meets {_pct(threshold)}")
        return Decision(Outcome.NOT_ELIGIBLE, f"{label} {_pct(value)} below {_pct(threshold)}")
    raise ValueError(f"unknown issuance rule {rule!r}")


def explain_to_learner(
    *,
    rule: str,
    threshold: Decimal | None,
    completed: bool,
    score: Decimal | None,
    attendance: Decimal | None,
) -> str:
    """Why a completion has no certificate, in words a learner understands ("your score was 58%, the
    course needs 70%"); '' when the rule would issue one."""
    if not completed:
        return "The course has not reported that you completed it yet."
    if rule == IssuanceRule.MANUAL_REVIEW:
        return "This course's staff review each completion before a certificate is issued."
    if rule in (IssuanceRule.MIN_SCORE, IssuanceRule.ATTENDANCE):
        label, value = ("score", score) if rule == IssuanceRule.MIN_SCORE else ("attendance", attendance)
        if threshold is None:
            return "This course's staff review each completion before a certificate is issued."
        if value is None:
            return f"The course has not reported your {label} yet; it needs {_pct(threshold)}%."
        if value < threshold:
            return f"Your {label} was {_pct(value)}%; the course needs {_pct(threshold)}%."
    return ""
