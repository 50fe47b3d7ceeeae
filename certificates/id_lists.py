"""A list of ids of any length as one SQL parameter, for ``field__in=``.

A statement whose values are bound on the server (PostgreSQL here, config/settings/base.py) takes
at most 65,535 of them (SQLite 32,766 unless built with more); a reissue or an export of a large course names more
certificates than that. As one array (PostgreSQL) or one JSON text (SQLite) the statement has one
parameter however many ids there are, and its text is the same for every length, so it is prepared
once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL


def id_subquery(ids: Iterable[int] | QuerySet) -> RawSQL | QuerySet:
    """``ids`` as a subquery: ``Model.objects.filter(pk__in=id_subquery(ids))``. A queryset (the
    admin's selection, ``values("pk")``) is a subquery already and is returned as it is."""
    if isinstance(ids, QuerySet):
        return ids
    values = [int(value) for value in ids]
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [values])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])
