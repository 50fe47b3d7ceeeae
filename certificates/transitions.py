"""The whole state machine of a certificate, and the one helper that changes a state.

Two columns, two machines: ``pipeline_state`` (how far issuing has got) and ``credential_state``
(what the credential is worth). Every change of either is a guarded UPDATE ... WHERE state = from_,
and writes its event in the same transaction; of two racing callers exactly one wins.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.utils import timezone

from .models import Certificate, CertificateEvent, CertificateVersion, Credential, Pipeline

logger = logging.getLogger(__name__)

P, C = Pipeline, Credential

#: Every allowed change, readable at a glance. Nothing else can happen to a certificate.
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        (P.HELD, P.ISSUED),  # released: data fixed, or approved in manual review
        (P.HELD, P.REJECTED),  # manual review said no; never public
        (P.ISSUED, P.RENDERED),
        (P.RENDERED, P.EMAILED),
        (P.RENDERED, P.DELIVERY_FAILED),
        (P.EMAILED, P.DELIVERY_FAILED),  # it bounced after all
        (P.DELIVERY_FAILED, P.EMAILED),  # a resend got through
        (P.DELIVERY_FAILED, P.RENDERED),  # the address was fixed: the email is queued again
        (P.RENDERED, P.ISSUED),  # reissue: a new version to render
        (P.EMAILED, P.ISSUED),
        (P.DELIVERY_FAILED, P.ISSUED),
        (C.ACTIVE, C.SUSPENDED),
        (C.SUSPENDED, C.ACTIVE),  # reinstated
        (C.ACTIVE, C.REVOKED),
        (C.SUSPENDED, C.REVOKED),
        (C.REVOKED, C.ACTIVE),  # un-revoked by an admin
        # the holder's personal data was erased: final, whatever the credential was worth
        (C.ACTIVE, C.WITHDRAWN),
        (C.SUSPENDED, C.WITHDRAWN),
        (C.REVOKED, C.WITHDRAWN),
    }
)


class TransitionNotAllowed(ValueError):
    def __init__(self, from_: str, to: str) -> None:
        super().__init__(f"a certificate cannot go from {from_} to {to}")
        self.from_, self.to = from_, to


def _column(state: str) -> str:
    if state in Pipeline.values:
        return "pipeline_state"
    if state in Credential.values:
        return "credential_state"
    raise ValueError(f"unknown state {state!r}")


def actor_label(actor) -> str:
    return actor.get_username() if getattr(actor, "pk", None) else (actor if isinstance(actor, str) else "system")


def log_event(
    certificate: Certificate | int,
    kind: str,
    message: str = "",
    *,
    actor=None,
    version: CertificateVersion | int | None = None,
    from_state: str = "",
    to_state: str = "",
    **data: object,
) -> CertificateEvent:
    """Append one line to a certificate's audit log (who, what, when, why)."""
    certificate_id = certificate if isinstance(certificate, int) else certificate.pk
    version_id = version if isinstance(version, int) or version is None else version.pk
    event = CertificateEvent.objects.create(
        certificate_id=certificate_id,
        version_id=version_id,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        message=message[:500],
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label(actor)[:150],
        data=data,
    )
    # Logged once committed: a worker killed inside the transaction must not leave a line in the log
    # for an event the database never kept (the drills compare the logs of two machines).
    transaction.on_commit(partial(logger.info, "certificate %s: %s %s", certificate_id, kind, message))
    return event


def transition(
    certificate_id: int,
    *,
    from_: str | Iterable[str],
    to: str,
    actor=None,
    reason: str = "",
    kind: str = "",
    version: CertificateVersion | int | None = None,
    data: dict | None = None,
    **fields: object,
) -> bool:
    """Move a certificate from one of ``from_`` to ``to`` and log it; False if it was not in ``from_``.

    ``fields`` are written in the same UPDATE (timestamps, reasons). Raises ``TransitionNotAllowed``
    for a change the table does not have, whatever the certificate's state.
    """
    sources = [from_] if isinstance(from_, str) else list(from_)
    column = _column(to)
    for source in sources:
        if (source, to) not in ALLOWED or _column(source) != column:
            raise TransitionNotAllowed(source, to)
    fields.setdefault("updated_at", timezone.now())
    # No savepoint inside a caller's transaction: the UPDATE and its event succeed or fail with it
    # (no caller goes on after a failed transition in the same transaction), and a SAVEPOINT and
    # its RELEASE would be two statements of a transition's four.
    with transaction.atomic(savepoint=False):
        if len(sources) == 1:  # the guarded UPDATE locks the row itself, and the old state is known
            row = sources[0]
            if not Certificate.objects.filter(pk=certificate_id, **{column: row}).update(**{column: to}, **fields):
                return False
        else:
            row = (
                Certificate.objects.select_for_update()
                .filter(pk=certificate_id, **{f"{column}__in": sources})
                .values_list(column, flat=True)
                .first()
            )
            if row is None:
                return False
            Certificate.objects.filter(pk=certificate_id).update(**{column: to}, **fields)
        log_event(
            certificate_id,
            kind or to,
            reason,
            actor=actor,
            version=version,
            from_state=row,
            to_state=to,
            **(data or {}),
        )
    return True
