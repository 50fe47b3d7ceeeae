"""What cannot be printed never reaches a certificate, the verify page or an email's To: header."""

import io
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from courses.tests.factories import CourseFactory
from learners import services
from learners.ingest import RecordError
from learners.models import Enrollment, Learner
from learners.tests.factories import LearnerFactory
from learners.tests.test_webhook import BODY, SECRET, URL, signed
from learners.text import _FOLD_EXTRA, BIDI_CONTROLS, MARKS_END, clean_custom_fields, clean_name, search_fold

ZWJ, ZWNJ = "\u200d", "\u200c"


def unprintable(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("Ada \u202eecalevoL", "Ada ecalevoL"),  # RIGHT-TO-LEFT OVERRIDE
        ("\u2067Ada\u2069", "Ada"),
        ("Ada\u200f Lovelace\u200e\u061c", "Ada Lovelace"),
        ("Ada\x00Lovelace", "AdaLovelace"),
        ("Ada\nBcc: x@evil.example", "Ada Bcc: x@evil.example"),
        ("Ada\r\nLovelace", "Ada Lovelace"),
        ("Ada\tLovelace", "Ada Lovelace"),
        ("Ada\x1b[31mRed", "Ada[31mRed"),
        ("Ada\x85Lovelace", "Ada Lovelace"),  # C1 NEXT LINE
        ("Ada\x9bLovelace", "AdaLovelace"),  # C1 CSI
        ("  Ada   Lovelace  ", "Ada Lovelace"),
        ("Jose\u0301", "José"),  # NFC
        ("Jos\x00e\u0301", "José"),  # removed first, then composed
        ("क्\u200dष", "क्\u200dष"),  # ZWJ kept (Devanagari)
        ("می\u200cخواهم", "می\u200cخواهم"),  # ZWNJ kept (Persian)
        ("", ""),
        (None, ""),
    ],
)
def test_clean_name_examples(value, cleaned):
    assert clean_name(value) == cleaned


@given(st.text())
def test_clean_name_leaves_nothing_unprintable_and_is_idempotent(value):
    cleaned = clean_name(value)
    assert not any(unprintable(char) for char in cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert clean_name(cleaned) == cleaned


@given(
    st.text(
        alphabet=st.characters(exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")).filter(
            lambda c: c not in BIDI_CONTROLS and not c.isspace()
        )
    )
)
def test_clean_name_keeps_printable_words_as_they_are(word):
    assert clean_name(word) == unicodedata.normalize("NFC", word).strip()


def _clean_name_one_character_at_a_time(value: str) -> str:
    """clean_name's definition, as it was written before it was made fast (docs/PERFORMANCE.md)."""
    spaces = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029"
    kept = []
    for char in value:
        if char in spaces:
            kept.append(" ")
        elif not (ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F) and char not in BIDI_CONTROLS:
            kept.append(char)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


CONTROLS_AND_MARKS = st.sampled_from([*map(chr, range(0xA0)), *BIDI_CONTROLS, "\u2028", "\u0301", "\u00a0", "e"])


@given(st.text() | st.lists(CONTROLS_AND_MARKS | st.characters()).map("".join))
def test_clean_name_is_the_one_character_at_a_time_definition(value):
    assert clean_name(value) == _clean_name_one_character_at_a_time(value)


def _search_fold_one_character_at_a_time(value: str) -> str:
    """search_fold's definition, as it was written before it was made fast."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(unicodedata.normalize("NFC", bare.translate(_FOLD_EXTRA)).split())


# Whitespace of several kinds, compatibility characters that decompose to a space and a mark (´ ¨),
# ligatures, Hangul jamo and Oriya vowel parts that compose with what is before them.
_FOLD_ALPHABET = "AaÅåÖøØłßẞ\u0301\u0308 \t-İıŒæ\u00a0\u3000\u2002\u00b4\u00a8ﬁⅫ\u1100\u1161\u11a8\u0b47\u0b3eΣς"


@given(st.text() | st.text(alphabet=_FOLD_ALPHABET).map(str))
def test_search_fold_is_the_one_character_at_a_time_definition(value):
    assert search_fold(value) == _search_fold_one_character_at_a_time(value)


def test_no_combining_mark_lies_past_the_range_search_fold_deletes_from():
    assert not [code for code in range(MARKS_END, sys.maxunicode + 1) if unicodedata.combining(chr(code))]


@pytest.mark.parametrize(
    ("typed", "folded"), [("Müller", "muller"), ("MULLER", "muller"), ("Søren  Ångström", "soren angstrom"), ("", "")]
)
def test_search_fold_examples(typed, folded):
    assert search_fold(typed) == folded


@given(st.text(), st.text())
def test_clean_name_keeps_joiners(left, right):
    joined = clean_name(f"{left}x{ZWJ}y{ZWNJ}z{right}")
    assert f"x{ZWJ}y{ZWNJ}z" in joined


def test_clean_custom_fields_cleans_labels_and_text_and_drops_what_is_left_empty():
    assert clean_custom_fields(
        {"Gr\u202eade": "A\nB", "Skills": ["SQL\x00", "\u2066"], "\u200f": "x", "Hours": 40}
    ) == {
        "Grade": "A B",
        "Skills": ["SQL"],
        "Hours": 40,
    }


# At the edges


@pytest.fixture
def course(db):
    return CourseFactory(slug="intro-django")


@pytest.mark.django_db
def test_learner_upsert_and_update_details_clean_names(course):
    learner = services.learner_upsert(
        external_id="x1", email=" ada@example.com\u200e ", full_name="Ada\u202e Lovelace", preferred_name="A\nL"
    )
    assert (learner.email, learner.full_name, learner.preferred_name) == ("ada@example.com", "Ada Lovelace", "A L")
    services.learner_update_details(learner_id=learner.pk, email="ada@example.com", full_name="Ada\x00 L\u2069")
    assert Learner.objects.get(pk=learner.pk).full_name == "Ada L"


@pytest.mark.django_db
def test_enrollment_record_completion_cleans_cohort_and_custom_fields(course):
    enrollment = services.enrollment_record_completion(
        learner_id=LearnerFactory().pk,
        course_id=course.pk,
        completed_at=None,
        cohort="Autumn\n2026\u202e",
        custom_fields={"Grade\t": "A\x00"},
    )
    enrollment.refresh_from_db()
    assert (enrollment.cohort, enrollment.custom_fields) == ("Autumn 2026", {"Grade": "A"})


@pytest.mark.django_db
def test_webhook_strips_unprintables_from_names_cohort_and_custom_fields(client, course, settings):
    settings.LMS_WEBHOOK_SECRETS = [SECRET]
    body = {
        **BODY,
        "name": "Ada\nBcc: x@evil.example",
        "preferred_name": "\u202eAda L.",
        "cohort": "Autumn\t2026\u2066",
        "custom_fields": {"Gr\u200fade": "A\r\n", "Skills": ["SQL\u202a", "pandas"]},
    }
    assert client.post(URL, **signed(body)).status_code == 202
    enrollment = Enrollment.objects.select_related("learner").get()
    assert (enrollment.learner.full_name, enrollment.learner.preferred_name) == ("Ada Bcc: x@evil.example", "Ada L.")
    assert (enrollment.cohort, enrollment.custom_fields) == ("Autumn 2026", {"Grade": "A", "Skills": "SQL, pandas"})


@pytest.mark.django_db
def test_webhook_refuses_an_email_with_unprintables(client, course, settings):
    settings.LMS_WEBHOOK_SECRETS = [SECRET]
    response = client.post(URL, **signed({**BODY, "email": "ada\u202e@example.com"}))
    assert response.status_code == 422 and response.json()["error"].startswith("invalid email")


@pytest.mark.django_db
def test_csv_import_strips_unprintables(course):
    data = (
        "learner_id,email,name,preferred_name,course,completed_at,cohort,Hours\u202e\n"
        'u1,a@example.com,"Ada\nLovelace",\u2067Ada L.\u2069,intro-django,2026-11-20,Autumn\t2026,"24\x0b"\n'
        "u2,b@example.com,\u202e\u200f,,intro-django,2026-11-20,,\n"
    ).encode()
    report = services.completions_import(handle=io.BytesIO(data))
    assert report.rejections == [(4, "missing name")]  # nothing printable was left of it
    enrollment = Enrollment.objects.select_related("learner").get()
    assert (enrollment.learner.full_name, enrollment.learner.preferred_name) == ("Ada Lovelace", "Ada L.")
    assert (enrollment.cohort, enrollment.custom_fields) == ("Autumn 2026", {"Hours": "24"})


_ADDRESS_LIKE = (
    st.from_regex(r"\A[a-zA-Z0-9_+\-.]{1,20}@[a-zA-Z0-9\-.]{1,30}\.[a-zA-Z0-9\-]{1,8}\Z", fullmatch=True)
    | st.emails().map(str)
    | st.text(max_size=40)
)


@given(_ADDRESS_LIKE)
def test_check_email_accepts_exactly_what_djangos_validator_accepts(value):
    """The fast path is a subset of Django's rules, and everything else is judged by Django."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from learners.text import check_email

    def verdict(check) -> bool:
        try:
            check(value)
        except ValidationError:
            return False
        return True

    assert verdict(check_email) == verdict(validate_email)


@pytest.mark.parametrize(
    "address", ["ada@example.com", "a.b+c@x-y.co.uk", "A_B@EXAMPLE.ORG", "a..b@example.com", "a@-x.com", "a@x.c0m"]
)
def test_check_email_examples(address):
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from learners.text import check_email

    try:
        validate_email(address)
        expected = True
    except ValidationError:
        expected = False
    try:
        check_email(address)
        assert expected
    except ValidationError:
        assert not expected


def _clean_email_before_its_fast_path(value: str) -> str:
    """``ingest.clean_email`` as it was before it took ordinary addresses without the general checks."""
    from learners.ingest import _EMAIL, check_length

    value = check_length("email", (value or "").strip())
    if value and (not _EMAIL.match(value) or clean_name(value) != value):
        raise RecordError(f"invalid email {value!r}")
    return value.lower() if value else ""


@given(_ADDRESS_LIKE | _ADDRESS_LIKE.map(lambda value: f" {value}\t") | st.just("a@" + "b" * 260 + ".org"))
def test_clean_email_is_its_definition_before_the_fast_path(value):
    from learners.ingest import clean_email

    def outcome(clean) -> str:
        try:
            return "ok " + clean(value)
        except RecordError as exc:
            return "refused " + str(exc)

    assert outcome(clean_email) == outcome(_clean_email_before_its_fast_path)


def _last_first_before_its_shortcut(value: str) -> str:
    """``text.last_first`` as it was before it returned a value without a comma straight away."""
    from learners.text import _NAME_SUFFIXES, name_problem

    parts = [part.strip() for part in value.split(",")]
    if name_problem(value):
        return value.strip()
    if len(parts) != 2 or not all(parts) or parts[1].rstrip(".").replace(".", "").lower() in _NAME_SUFFIXES:
        return value.strip().strip(",").strip()
    return f"{parts[1]} {parts[0]}"


@given(st.text() | st.text(alphabet="Ada Lovelace,.<b>=+@-PhD \t\u202e"))
def test_last_first_is_its_definition_before_the_shortcut(value):
    from learners.text import last_first

    assert last_first(value) == _last_first_before_its_shortcut(value)


@given(st.text() | st.text(alphabet="<>[]/!-=+@ abiurlKſ\uff1d"))
def test_name_problem_is_its_definition_before_the_markup_prefilter(value):
    from learners.text import _FORMULA, _MARKUP, NAME_LOOKS_LIKE_FORMULA, NAME_LOOKS_LIKE_MARKUP, name_problem

    text = clean_name(value)
    before = ""
    if text and _FORMULA.match(text):
        before = NAME_LOOKS_LIKE_FORMULA.format(name=text[:80])
    elif text and _MARKUP.search(text):
        before = NAME_LOOKS_LIKE_MARKUP.format(name=text[:80])
    assert name_problem(value) == before
