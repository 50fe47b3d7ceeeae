"""The verify page's prepared read returns exactly what the plain queryset returns, on every database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from certificates.models import Certificate, CertificateVersion
from certificates.selectors import public_version
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
