from decimal import Decimal

import pytest

from courses.models import IssuanceRule
from courses.rules import Outcome, evaluate


def decide(rule, threshold=None, score=None, attendance=None, completed=True):
    return evaluate(rule=rule, threshold=threshold, completed=completed, score=score, attendance=attendance)


def test_on_completion_issues():
    assert decide(IssuanceRule.ON_COMPLETION).outcome == Outcome.ELIGIBLE


def test_nothing_issues_without_completion():
    assert decide(IssuanceRule.ON_COMPLETION, completed=False).outcome == Outcome.NOT_ELIGIBLE


@pytest.mark.parametrize(
    ("score", "outcome", "reason"),
    [
        (Decimal("70"), Outcome.ELIGIBLE, "score 70 meets 70"),
        (Decimal("99.5"), Outcome.ELIGIBLE, "score 99.5 meets 70"),
        (Decimal("62"), Outcome.NOT_ELIGIBLE, "score 62 below 70"),
        (None, Outcome.NOT_ELIGIBLE, "no score recorded (needs 70)"),
    ],
)
def test_min_score_records_the_reason(score, outcome, reason):
    decision = decide(IssuanceRule.MIN_SCORE, threshold=Decimal("70.00"), score=score)
    assert (decision.outcome, decision.reason) == (outcome, reason)


def test_attendance_threshold():
    assert decide(IssuanceRule.ATTENDANCE, Decimal("80"), attendance=Decimal("85")).outcome == Outcome.ELIGIBLE
    assert decide(IssuanceRule.ATTENDANCE, Decimal("80"), attendance=Decimal("79")).reason == "attendance 79 below 80"


def test_manual_review_needs_review():
    assert decide(IssuanceRule.MANUAL_REVIEW).outcome == Outcome.NEEDS_REVIEW
