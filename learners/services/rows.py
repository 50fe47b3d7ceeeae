"""Many rows read and written at once as plain values: the nightly import's lookups and writes.

``bulk_create`` builds a model instance per row and asks every field of every instance to prepare
its value; for a 50,000-row import that was half the time (docs/PERFORMANCE.md). Here each column's
conversion is looked up once per call and the rows go to the database as tuples. Columns not given
take the field's default (the same for every row) and ``auto_now``/``auto_now_add`` columns the
time of the call, as ``Model.objects.create`` would; the database's constraints still apply.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import chain

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models

from ..models import Learner

Converter = Callable[[object], object] | None


def _converter(field: models.Field) -> Converter:
    """How a Python value of ``field`` goes to the driver; None when it goes as it is."""
    # Resolved once: ``connection`` is a proxy, and looking it up per value cost a second an import.
    db = connections[DEFAULT_DB_ALIAS]
    ops = db.ops
    internal = field.get_internal_type()
    if internal == "DateTimeField":
        return sqlite_datetime(db) if db.vendor == "sqlite" and settings.USE_TZ else ops.adapt_datetimefield_value
    if internal == "JSONField":
        encoder = field.encoder
        if encoder is None and db.vendor == "sqlite":
            return _json_text
        return lambda value: ops.adapt_json_value(value, encoder)
    if internal in {"CharField", "TextField", "ForeignKey", "BigIntegerField", "IntegerField", "BooleanField"}:
        return None
    if internal == "DecimalField":
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    return lambda value: field.get_db_prep_save(value, db)


def _json_text(value: object) -> str:
    """What SQLite's ``adapt_json_value`` writes (``json.dumps``), remembered for the text-only
    objects rows repeat: every completion of a course has the same custom fields, often."""
    if type(value) is dict and len(value) <= 4 and all(type(k) is str and type(v) is str for k, v in value.items()):
        return _json_of_items(tuple(value.items()))
    return json.dumps(value)


@functools.lru_cache(maxsize=1024)
def _json_of_items(items: tuple[tuple[str, str], ...]) -> str:
    return json.dumps(dict(items))


def sqlite_datetime(db) -> Callable[[datetime], str]:
    """SQLite's ``adapt_datetimefield_value`` with USE_TZ, without looking settings up per value:
    an aware time as the naive text of the connection's time zone (every import row has one)."""
    tz, adapt = db.timezone, db.ops.adapt_datetimefield_value

    def adapt_datetime(value: datetime) -> str:
        if value.utcoffset() is not None:
            return str(value.astimezone(tz).replace(tzinfo=None))
        return adapt(value)  # what Django does with anything else

    return adapt_datetime


def _constant(field: models.Field, now: datetime) -> object:
    """The value a column not given takes in every row."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        value = now
    else:
        value = field.get_default()
    convert = _converter(field)
    return value if convert is None or value is None else convert(value)


def rows_insert(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence], *, key: Sequence[str], now: datetime
) -> dict[tuple, int]:
    """INSERT ``rows`` (values in the order of ``columns``, attribute names) and return each new
    primary key by the row's ``key`` (columns of a unique constraint, also in ``columns``).

    Raises IntegrityError as ``bulk_create`` would (a key someone else inserted meanwhile)."""
    if not rows:
        return {}
    opts = model._meta
    given = [opts.get_field(name) for name in columns]
    others = [
        f for f in opts.concrete_fields if not f.primary_key and f.attname not in columns and f.name not in columns
    ]
    fields = [*given, *others]
    converting = [(index, convert) for index, field in enumerate(given) if (convert := _converter(field))]
    constants = tuple(_constant(field, now) for field in others)
    quote = connection.ops.quote_name
    params_of_rows = []
    for row in rows:
        if len(row) != len(given):
            raise ValueError(f"{len(row)} values for {len(given)} columns")
        values = list(row)
        for index, convert in converting:
            if values[index] is not None:
                values[index] = convert(values[index])
        values.extend(constants)
        params_of_rows.append(values)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    head = f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column, unnested: one short statement a batch. psycopg splits a long
            # statement's placeholders in Python on every call, which cost more than the inserts.
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
            returning = ", ".join(quote(opts.get_field(name).column) for name in [opts.pk.name, *key])
            cursor.execute(
                f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                f"SELECT * FROM unnest({arrays}) RETURNING {returning}",
                [list(column) for column in zip(*params_of_rows, strict=True)],
            )
            return {tuple(returned[1:]): returned[0] for returned in cursor.fetchall()}
        # SQLite compiles a statement per call, so rows go many to a statement, their keys returned
        # with the primary key: neither database promises RETURNING's row order.
        per_statement = max(1, connection.features.max_query_params // len(fields))
        tail = " RETURNING " + ", ".join(quote(opts.get_field(name).column) for name in [opts.pk.name, *key])
        pks: dict[tuple, int] = {}
        for start in range(0, len(params_of_rows), per_statement):
            chunk = params_of_rows[start : start + per_statement]
            cursor.execute(head + ", ".join([placeholders] * len(chunk)) + tail, list(chain.from_iterable(chunk)))
            for pk, *unique in cursor.fetchall():
                pks[tuple(unique)] = pk
        return pks


def rows_update(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """UPDATE each row by primary key: ``rows`` hold the values of ``columns`` and then the key."""
    if not rows:
        return
    opts = model._meta
    fields = [opts.get_field(name) for name in columns]
    converting = [(index, convert) for index, field in enumerate(fields) if (convert := _converter(field))]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(opts.db_table)} SET {assignments} WHERE {quote(opts.pk.column)} = %s"
    params = []
    for row in rows:
        values = list(row)
        if len(values) != len(fields) + 1:
            raise ValueError(f"{len(values)} values for {len(fields)} columns and the key")
        for index, convert in converting:
            if values[index] is not None:
                values[index] = convert(values[index])
        params.append(values)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def learners_locked(lms: str, external_ids: list[str], *, columns: Sequence[str]) -> list[tuple]:
    """``columns`` (text or the key) of these learners, locked in primary-key order: the ORM's
    ``select_for_update().filter(lms=..., external_id__in=...).order_by("pk").values_list(...)``
    written once, not built and compiled again (a value at a time) for every batch. Text and keys
    are what no database converts, so the rows are the queryset's."""
    quote, opts = connection.ops.quote_name, Learner._meta
    table = quote(opts.db_table)

    def column(name: str) -> str:
        return f"{table}.{quote(opts.get_field(name).column)}"

    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT {', '.join(column(name) for name in columns)} FROM {table} WHERE {column('lms')} = %s"
        f" AND {column('external_id')} IN ({', '.join(['%s'] * len(external_ids))})"
        f" ORDER BY {column('id')}{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [lms, *external_ids])
        return cursor.fetchall()


def lookup_chunks(keys: list) -> list[list]:
    """One IN list per query on PostgreSQL (so rows are locked in one primary-key order); SQLite, which
    has no row locks, may be built to take only 999 parameters a statement."""
    size = 900 if connection.vendor == "sqlite" else len(keys) or 1
    return [keys[start : start + size] for start in range(0, len(keys), size)]
