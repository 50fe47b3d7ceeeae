"""The pure planner both ingestion paths share: what changes for one record, or why it is refused."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from courses.custom_fields import VALUE_TOO_LONG
from learners.ingest import CompletionRecord
from learners.planning import (
    COMPLETED_AT_NEEDS_TIMEZONE,
    CREATED,
    MISSING_EMAIL,
    MISSING_LEARNER_ID,
    MISSING_NAME,
    UNCHANGED,
    UPDATED,
    CompletionPlan,
    Facts,
    LearnerDetails,
    Rejection,
    plan_completion,
    plan_enrollment,
    plan_learner,
)

WHEN = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
ADA = LearnerDetails(email="ada@example.com", full_name="Ada Lovelace")


def record(**changes) -> CompletionRecord:
    values = dict(
        learner_id="lms-1",
        course_key="intro-django",
        completed_at=WHEN,
        email="ada@example.com",
        full_name="Ada Lovelace",
        score=Decimal("91.50"),
        cohort="Autumn 2026",
        custom_fields={"Grade": "A"},
    )
    return CompletionRecord(**{**values, **changes})


STORED_FACTS = Facts(completed_at=WHEN, score=Decimal("91.5"), cohort="Autumn 2026", custom_fields={"Grade": "A"})


def test_a_new_learner_and_enrollment_are_created_and_queued():
    plan = plan_completion(record=record(), learner=None, enrollment=None)
    assert isinstance(plan, CompletionPlan)
    assert plan.learner.create and plan.learner.changes == {
        "email": "ada@example.com",
        "full_name": "Ada Lovelace",
        "preferred_name": "",
    }
    assert plan.learner.email_change is None
    assert plan.enrollment.create and plan.enrollment.changes["score"] == Decimal("91.50")
    assert (plan.outcome, plan.queue_issuance) == (CREATED, True)


def test_the_same_facts_again_change_nothing_and_queue_nothing():
    plan = plan_completion(record=record(), learner=ADA, enrollment=STORED_FACTS)
    assert plan.learner.changes == {} and plan.enrollment.changes == {}
    assert (plan.outcome, plan.queue_issuance) == (UNCHANGED, False)


def test_a_regrade_changes_only_the_score_and_queues():
    plan = plan_completion(record=record(score=Decimal("99")), learner=ADA, enrollment=STORED_FACTS)
    assert plan.enrollment.changes == {"score": Decimal("99")}
    assert (plan.outcome, plan.queue_issuance) == (UPDATED, True)


def test_a_corrected_name_alone_is_an_update_that_queues():
    plan = plan_completion(record=record(full_name="Ada King"), learner=ADA, enrollment=STORED_FACTS)
    assert plan.learner.changes == {"full_name": "Ada King"} and plan.enrollment.changes == {}
    assert (plan.outcome, plan.queue_issuance) == (UPDATED, True)


def test_an_enrollment_not_completed_is_recorded_but_not_queued():
    plan = plan_completion(record=record(completed_at=None), learner=ADA, enrollment=None)
    assert (plan.outcome, plan.queue_issuance) == (CREATED, False)


def test_a_new_email_is_changed_and_recorded_in_history():
    plan = plan_completion(record=record(email="ada@new.example"), learner=ADA, enrollment=STORED_FACTS)
    assert plan.learner.changes == {"email": "ada@new.example"}
    assert plan.learner.email_change == ("ada@example.com", "ada@new.example")


def test_blank_values_keep_what_is_stored_for_an_lms_export():
    plan = plan_completion(record=record(email="", full_name=""), learner=ADA, enrollment=STORED_FACTS)
    assert plan.learner.changes == {} and plan.outcome == UNCHANGED


@pytest.mark.parametrize(
    ("changes", "stored", "reason"),
    [
        ({"learner_id": "  "}, None, MISSING_LEARNER_ID),
        ({"full_name": "", "preferred_name": ""}, None, MISSING_NAME),
        ({"full_name": "\u202e\u200f"}, None, MISSING_NAME),  # nothing printable left
        ({"email": ""}, None, MISSING_EMAIL),
        ({"email": ""}, LearnerDetails(full_name="Ada"), MISSING_EMAIL),
        ({"completed_at": datetime(2026, 11, 20, 14, 5)}, None, COMPLETED_AT_NEEDS_TIMEZONE),
        ({"custom_fields": {"Notes": "x" * 201}}, None, VALUE_TOO_LONG.format(label="'Notes'")),
    ],
)
def test_rejections(changes, stored, reason):
    assert plan_completion(record=record(**changes), learner=stored, enrollment=None) == Rejection(reason)


def test_a_known_learner_needs_no_name_or_email_from_the_export():
    plan = plan_completion(record=record(email="", full_name=""), learner=ADA, enrollment=None)
    assert plan.outcome == CREATED and plan.learner.changes == {}


def test_names_cohort_and_custom_fields_are_cleaned():
    plan = plan_completion(
        record=record(full_name="Ada\nLovelace\u202e", cohort="Autumn\t2026", custom_fields={"Grade\x00": "A"}),
        learner=ADA,
        enrollment=STORED_FACTS,
    )
    assert (plan.outcome, plan.learner.changes, plan.enrollment.changes) == (UNCHANGED, {}, {})


def test_plan_learner_without_keep_blank_clears_a_value():
    stored = LearnerDetails(email="ada@example.com", full_name="Ada Lovelace", preferred_name="Ada L.")
    plan = plan_learner(
        external_id="lms-1",
        sent=LearnerDetails(email="ada@example.com", full_name="Ada Lovelace"),
        stored=stored,
        keep_blank=False,
    )
    assert plan.changes == {"preferred_name": ""} and plan.email_change is None


def test_plan_enrollment_replaces_every_fact():
    plan = plan_enrollment(sent=Facts(completed_at=WHEN), stored=STORED_FACTS)
    assert plan.changes == {"score": None, "cohort": "", "custom_fields": {}}
    assert (plan.outcome, plan.completed) == (UPDATED, True)


def test_facts_as_dict_has_every_fact_field_in_order():
    from learners.planning import FACT_FIELDS

    facts = Facts(completed_at=WHEN, score=Decimal("1"), attendance=Decimal("2"), cohort="c", custom_fields={"a": "b"})
    assert list(facts.as_dict()) == list(FACT_FIELDS)
    assert facts.as_dict() == {name: getattr(facts, name) for name in FACT_FIELDS}
