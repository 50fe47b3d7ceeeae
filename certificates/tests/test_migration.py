"""The versions migration on a real database that `seed_demo` filled before it (and the worker rendered
and emailed; one certificate revoked, one email failed, one not yet emailed, one resent, one bounce).

The fixture is that database as the previous release left it (SQLite, gzipped). On PostgreSQL its rows
are copied into a database migrated to the same point. Then `manage.py migrate` runs, in its own process,
and every code, file, hash and email must still be there.
"""

import gzip
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "seed_demo_0006.sqlite3.gz"

OLD_CERTIFICATES = (
    "SELECT code, status, pdf, pdf_sha256, preview, holder_name, status_reason FROM certificates_certificate"
)
NEW_CERTIFICATES = """
    SELECT c.code, c.pipeline_state, c.credential_state, c.credential_reason, c.state_reason,
           v.number, v.is_current, v.pdf, v.pdf_sha256, v.preview, v.holder_name
    FROM certificates_certificate c LEFT JOIN certificates_certificateversion v ON v.certificate_id = c.id
"""
OLD_DELIVERIES = """
    SELECT d.id, c.code, d.recipient, d.purpose, d.status
    FROM certificates_delivery d JOIN certificates_certificate c ON c.id = d.certificate_id
"""
NEW_DELIVERIES = """
    SELECT d.id, c.code, d.recipient, d.purpose, d.status FROM delivery_delivery d
    JOIN certificates_certificateversion v ON CAST(v.id AS TEXT) = d.reference
    JOIN certificates_certificate c ON c.id = v.certificate_id
"""


def migrate(database_url: str, *targets: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    env.update(DEBUG="false", LOG_LEVEL="WARNING")
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", *targets],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def fixture_database(tmp_path: Path) -> Path:
    """The seeded database, plus one held certificate that staff revoked (the old code allowed it)."""
    path = tmp_path / "seeded.sqlite3"
    path.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE certificates_certificate SET status = 'revoked', status_reason = 'mistake', revoked_at = updated_at"
            " WHERE id = (SELECT MIN(id) FROM certificates_certificate WHERE status = 'held')"
        )
    return path


def check(old: dict, new_certificates: list, new_deliveries: list, old_deliveries: list) -> None:
    by_code = {row[0]: row for row in new_certificates}
    assert set(by_code) == set(old), "every code is kept, no code is added"
    statuses = {}
    for code, (status, pdf, sha, preview, holder, reason) in old.items():
        _, pipeline, credential, credential_reason, state_reason, number, current, new_pdf, new_sha, new_png, name = (
            by_code[code]
        )
        statuses[status] = statuses.get(status, 0) + 1
        if status == "held":
            assert (pipeline, number) == ("held", None) and state_reason == reason
            continue
        if status == "revoked" and reason == "mistake":  # revoked while held: still private, not issued
            assert (pipeline, credential, number) == ("held", "active", None)
            assert state_reason.startswith("revoked while held: mistake")
            continue
        assert (number, bool(current), new_pdf, new_sha, new_png, name) == (1, True, pdf, sha, preview, holder)
        assert pipeline in ("issued", "rendered", "emailed", "delivery_failed")
        if status == "revoked":
            assert (credential, credential_reason) == ("revoked", reason) and pipeline == "emailed"
        else:
            assert credential == "active" and pipeline == status
    assert statuses == {"held": 20, "emailed": 26, "revoked": 2, "delivery_failed": 1, "rendered": 1}
    assert sorted(new_deliveries) == sorted(old_deliveries)  # same ids: the Message-IDs stay the same


def read_old(path: Path):
    with sqlite3.connect(path) as db:
        old = {row[0]: row[1:] for row in db.execute(OLD_CERTIFICATES)}
        deliveries = db.execute(OLD_DELIVERIES).fetchall()
        applied = db.execute("SELECT app, MAX(name) FROM django_migrations GROUP BY app").fetchall()
    return old, deliveries, applied


def test_the_versions_migration_keeps_every_code_and_file_on_sqlite(tmp_path):
    path = fixture_database(tmp_path)
    old, old_deliveries, _ = read_old(path)
    migrate(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:
        check(old, db.execute(NEW_CERTIFICATES).fetchall(), db.execute(NEW_DELIVERIES).fetchall(), old_deliveries)
        assert db.execute("SELECT COUNT(*) FROM delivery_trackingevent").fetchone() == (1,)
        assert db.execute("SELECT COUNT(*) FROM delivery_suppressedaddress").fetchone() == (1,)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_versions_migration_keeps_every_code_and_file_on_postgresql(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL run of the migration needs DATABASE_URL=postgres://...")
    import psycopg

    settings = connection.settings_dict
    name = "laurel_migration_check"
    server = f"host={settings['HOST'] or '127.0.0.1'} port={settings['PORT'] or 5432} user={settings['USER']}"
    if settings["PASSWORD"]:
        server += f" password={settings['PASSWORD']}"
    url = f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"
    with psycopg.connect(server + " dbname=postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        path = fixture_database(tmp_path)
        old, old_deliveries, applied = read_old(path)
        for app, last in applied:  # the same point the fixture was at, app by app
            if app in ("courses", "learners", "certificates"):
                migrate(url, app, last)
        for app in ("contenttypes", "auth", "admin", "sessions", "django_q"):
            migrate(url, app)
        with psycopg.connect(server + f" dbname={name}") as target, sqlite3.connect(path) as source:
            copy_rows(source, target)
        migrate(url)
        with psycopg.connect(server + f" dbname={name}") as target:
            check(
                old,
                target.execute(NEW_CERTIFICATES).fetchall(),
                target.execute(NEW_DELIVERIES).fetchall(),
                old_deliveries,
            )
            # The sequences moved past the copied ids: the next email gets a fresh one.
            next_id = target.execute("SELECT nextval(pg_get_serial_sequence('delivery_delivery', 'id'))").fetchone()
            assert next_id[0] > max(row[0] for row in old_deliveries)
    finally:
        with psycopg.connect(server + " dbname=postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# Made again by the target's own migrations (content types, permissions, the sweep's schedules).
SKIP_TABLES = {"django_migrations", "django_content_type", "auth_permission", "auth_group_permissions"}


def copy_rows(source: sqlite3.Connection, target) -> None:
    """Every row of every table the fixture has, SQLite's values cast to the PostgreSQL column types."""
    tables = [
        row[0]
        for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        if row[0] not in SKIP_TABLES and not row[0].startswith(("sqlite_", "django_q_"))
    ]
    with target.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # foreign keys checked by the migration, not here
        for table in tables:
            types = dict(
                cursor.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", [table]
                ).fetchall()
            )
            columns = [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]
            rows = source.execute(f'SELECT * FROM "{table}"').fetchall()
            if not rows:
                continue
            casts = [f"%s::{types[column]}" for column in columns]
            names = ", ".join(f'"{column}"' for column in columns)
            statement = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(casts)})'
            for row in rows:
                values = [
                    bool(value) if types[column] == "boolean" and value is not None else value
                    for column, value in zip(columns, row, strict=True)
                ]
                cursor.execute(statement, values)
            if "id" in columns:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM \"{table}\"))"
                )
        cursor.execute("SET session_replication_role = DEFAULT")
    target.commit()
