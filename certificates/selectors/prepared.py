"""A hot read compiled once per process: the ORM writes the SQL and turns rows into models, as
always; only binding the value and running the statement happen per call.

The verify page is the busiest page we have and makes one small query, yet compiling that query
(two joined models, forty columns, their converters) took most of its time: several times longer
than running it (measured, docs/PERFORMANCE.md). This keeps the ORM's own SQL, converters and model
building (the same steps as Django's ModelIterable), so a prepared read returns exactly what the
queryset would, which a test checks field by field on SQLite and PostgreSQL.

On PostgreSQL the statement is also prepared on the server, once per connection, from its first
call: planning the verify page's two-table join took several times as long as running it (0.15-0.25
ms against 0.03 ms, measured). The settings bind values on the server and let psycopg prepare what
Django runs five times (``DATABASE_PREPARED_STATEMENTS``); this read asks for preparing on its first
run, on a server-binding cursor of its own wrapped by Django as usual (errors, query logging,
execute wrappers). psycopg prepares nothing on a connection whose ``prepare_threshold`` is None
(Django's default, and ours with the setting off), and then this read runs as any other. psycopg
forgets its prepared statements on a rollback and prepares again on the next call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from threading import Lock
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)

#: Stands for the value while the query is compiled; found again among the SQL parameters.
_SLOT = "\x00prepared-query-value\x00"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slot: int
    compiler: Any
    converters: dict
    fields: slice
    init_list: list[str]
    populators: list


class PreparedQuery(Generic[M]):
    """``build(value)`` must return a queryset whose SQL differs between values only in that value."""

    def __init__(self, model: type[M], build: Callable[[str], QuerySet]) -> None:
        self._model = model
        self._build = build
        self._compiled: dict[str, _Compiled] = {}
        self._lock = Lock()

    def first(self, value: str) -> M | None:
        alias = router.db_for_read(self._model)
        compiled = self._compiled.get(alias) or self._compile(alias)
        params = list(compiled.params)
        params[compiled.slot] = value
        connection = connections[alias]
        cursor = _server_prepared_cursor(connection) if _prepares(connection) else connection.cursor()
        with cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled.converters:  # the ORM's own: dates, JSON, decimals, booleans as each database needs
            (row,) = compiled.compiler.apply_converters([row], compiled.converters)
        instance = self._model.from_db(alias, compiled.init_list, row[compiled.fields])
        for populator in compiled.populators:
            populator.populate(row, instance)
        return instance

    def _compile(self, alias: str) -> _Compiled:
        with self._lock:
            if alias in self._compiled:
                return self._compiled[alias]
            queryset = self._build(_SLOT).using(alias)
            assert queryset.model is self._model and not queryset.query.annotations, "plain model reads only"
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            if list(params).count(_SLOT) != 1:
                raise ValueError("the value must appear exactly once in the query")
            klass_info, select = compiler.klass_info, compiler.select
            columns = [column[0] for column in select[: compiler.col_count]]
            assert not compiler.has_composite_fields(columns), "single-column keys only"
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            compiled = _Compiled(
                sql=sql,
                params=tuple(params),
                slot=list(params).index(_SLOT),
                compiler=compiler,
                # Converters take the connection only to read its features, never to run anything, so
                # the compiling thread's is as good as the caller's.
                converters=compiler.get_converters(columns),
                fields=slice(start, end),
                init_list=[column[0].target.attname for column in select[start:end]],
                populators=get_related_populators(klass_info, select, alias),
            )
            self._compiled[alias] = compiled
            return compiled


def _prepares(connection: BaseDatabaseWrapper) -> bool:
    if connection.vendor != "postgresql":
        return False
    # OPTIONS["prepare_threshold"] None (Django's default): psycopg would silently prepare nothing.
    return connection.settings_dict["OPTIONS"].get("prepare_threshold") is not None


@cache
def _postgresql_classes() -> tuple[type, type]:
    # Imported here: psycopg and Django's PostgreSQL backend are only there to import on PostgreSQL.
    from django.db.backends.postgresql.base import CursorDebugWrapper, ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Binds on the server and prepares every statement it runs (Django passes no ``prepare``)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    class PreparedDebugWrapper(CursorDebugWrapper):
        """Django's query log (tests, DEBUG) with the statement's text: psycopg keeps none for the
        run of a prepared statement, where Django's own log looks for it."""

        def execute(self, sql, params=None):
            with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
                return CursorWrapper.execute(self, sql, params)

    return PreparingCursor, PreparedDebugWrapper


def _server_prepared_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """Django's ``connection.cursor()`` (health check, errors, logging), over a preparing cursor."""
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    preparing_cursor, debug_wrapper = _postgresql_classes()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = preparing_cursor(connection.connection)
        timestamptz = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != timestamptz.timezone:  # as Django's own create_cursor does
            register_tzloader(connection.timezone, cursor)
        connection.validate_thread_sharing()
        if connection.queries_logged:
            return debug_wrapper(cursor, connection)
        return connection.make_cursor(cursor)
