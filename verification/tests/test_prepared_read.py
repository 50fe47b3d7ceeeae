"""The verify page's prepared read returns exactly what the plain queryset returns, on every database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from certificates.models import Certificate, CertificateVersion
from certificates.selectors import public_certificate, public_version
from certificates.selectors.prepared import PreparedQuery
from certificates.selectors.public import PUBLIC_COLUMNS

from .states import STATES, certificate_in_state


def _values(instance) -> dict:
    loaded = [field.attname for field in instance._meta.concrete_fields if field.attname in instance.__dict__]
    return {name: getattr(instance, name) for name in loaded}


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES)
def test_the_prepared_read_equals_the_querysets_field_by_field(run_on_commit, state):
    certificate, _ = certificate_in_state(state, run_on_commit)
    prepared = public_version(certificate.code.lower())  # typed loosely: normalised first
    plain = (
        CertificateVersion.objects.select_related("certificate")
        .only(*PUBLIC_COLUMNS)
        .get(certificate=certificate, is_current=True)
    )
    # The public columns and the keys: the version's, its certificate_id, the certificate's.
    assert len(_values(prepared)) + len(_values(prepared.certificate)) == len(PUBLIC_COLUMNS) + 3
    assert _values(prepared) == _values(plain)
    assert {name: type(value) for name, value in _values(prepared).items()} == {
        name: type(value) for name, value in _values(plain).items()
    }
    assert _values(prepared.certificate) == _values(plain.certificate)
    assert prepared._state.db == "default" and not prepared._state.adding


@pytest.mark.django_db
def test_a_held_certificate_is_not_read(run_on_commit):
    from certificates.tests.factories import issued_certificate
    from courses.tests.factories import CourseFactory

    held = issued_certificate(run_on_commit, course=CourseFactory(manual_review=True))
    assert public_version(held.code) is None and public_version("0000000000000000") is None


def test_a_query_whose_value_is_not_one_parameter_is_refused():
    twice = PreparedQuery(Certificate, lambda code: Certificate.objects.filter(code=code, state_reason=code))
    with pytest.raises(ValueError, match="exactly once"):
        twice._compile("default")


@pytest.mark.django_db(transaction=True)
def test_threads_share_one_compiled_read(run_on_commit):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (set DATABASE_URL); SQLite serialises all writers")
    certificates = [certificate_in_state("valid", run_on_commit)[0] for _ in range(4)]
    codes = [certificate.code for certificate in certificates] * 20

    def read(code: str) -> str:
        try:
            return public_version(code).certificate.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(read, codes)) == codes


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("server-side prepared statements are PostgreSQL's (set DATABASE_URL)")


@pytest.mark.django_db
def test_on_postgresql_the_read_is_prepared_once_per_connection_and_the_orms_repeated_statements_too(run_on_commit):
    _postgresql_only()
    first, second = (certificate_in_state("valid", run_on_commit)[0] for _ in range(2))
    before = set(_prepared_statements())
    for _ in range(6):  # more than the threshold (5): the ORM's own statement is prepared as well
        list(Certificate.objects.filter(code=first.code))
        assert public_version(first.code).certificate_id == first.pk
        assert public_version(second.code).certificate_id == second.pk
    # One statement each whatever the code (the value is bound, not written into the SQL).
    new = set(_prepared_statements()) - before
    [read] = [statement for statement in new if "certificates_certificateversion" in statement]
    [orm] = [statement for statement in new if statement.startswith('SELECT "certificates_certificate"."id"')]
    assert len(new) == 2
    assert not {first.code, second.code} & {*read.split("'"), *orm.split("'")}
    assert "$1" in read and "$1" in orm


@pytest.mark.django_db
def test_without_a_prepare_threshold_the_read_uses_djangos_cursor(run_on_commit, monkeypatch):
    _postgresql_only()
    certificate, _ = certificate_in_state("valid", run_on_commit)
    monkeypatch.delitem(connection.settings_dict["OPTIONS"], "prepare_threshold")
    before = _prepared_statements()
    assert public_version(certificate.code).certificate_id == certificate.pk
    assert _prepared_statements() == before


@pytest.mark.django_db(transaction=True)
def test_a_revocation_committed_elsewhere_shows_on_the_next_prepared_read(run_on_commit):
    _postgresql_only()
    from certificates.services import lifecycle

    certificate, _ = certificate_in_state("valid", run_on_commit)
    assert public_version(certificate.code).certificate.credential_state == "active"
    assert _prepared_statements()

    def revoke_in_another_connection() -> None:
        try:
            lifecycle.certificate_revoke(certificate_id=certificate.pk, by=None, reason="Issued in error")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(revoke_in_another_connection).result()
    facts = public_certificate(certificate.code)
    assert (facts.state, facts.reason) == ("revoked", "Issued in error")


@pytest.mark.django_db(transaction=True)
def test_the_read_works_again_after_a_rollback_forgets_the_prepared_statement(run_on_commit):
    _postgresql_only()
    certificate, _ = certificate_in_state("valid", run_on_commit)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert public_version(certificate.code).certificate_id == certificate.pk
        raise RuntimeError("roll back")
    assert _prepared_statements() == []  # psycopg deallocates on a rollback
    assert public_version(certificate.code).certificate_id == certificate.pk
    assert len(_prepared_statements()) == 1
