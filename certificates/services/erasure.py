"""Erasing a holder's personal data: their certificates are withdrawn, never deleted.

The code keeps answering on the verify page, as "withdrawn", with no name, score or address (a
certificate someone once checked must not turn into "not found", which reads as a forgery). The
files that print the name are deleted; each version keeps its PDF's SHA-256, so a copy of the PDF
still checks as a withdrawn certificate of ours. A held certificate, never public, is rejected.
The append-only event log keeps what it says (who did what, when); names are not written there.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from delivery.services import delivery_forget_addresses
from learners.services.erasure import learner_erase_personal_data

from ..models import (
    ISSUED_STATES,
    LIVE_CASE_STATES,
    Case,
    CaseState,
    Certificate,
    CertificateVersion,
    Credential,
    Pipeline,
    VersionCredential,
)
from ..transitions import transition
from .cases import case_transition

ERASED = "(erased)"


def learner_erase(*, learner_id: int, by, reason: str) -> int:
    """Erase a learner's personal data and withdraw their certificates; returns how many were withdrawn."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("say why the personal data is erased (e.g. the learner's request and its date)")
    now = timezone.now()
    withdrawn = 0
    with transaction.atomic():
        certificates = list(Certificate.objects.select_for_update().filter(enrollment__learner_id=learner_id))
        for certificate in certificates:
            if certificate.pipeline_state == Pipeline.HELD:
                transition(
                    certificate.pk,
                    from_=Pipeline.HELD,
                    to=Pipeline.REJECTED,
                    actor=by,
                    reason="personal data erased",
                    rejected_at=now,
                    state_reason="personal data erased",
                )
            if certificate.pipeline_state in ISSUED_STATES:
                withdrawn += transition(
                    certificate.pk,
                    from_=[Credential.ACTIVE, Credential.SUSPENDED, Credential.REVOKED],
                    to=Credential.WITHDRAWN,
                    actor=by,
                    reason=reason,
                    withdrawn_at=now,
                    credential_reason="",
                )
        versions = CertificateVersion.objects.filter(certificate__in=certificates)
        files = [name for pair in versions.values_list("pdf", "preview") for name in pair if name]
        # The signed credential names the holder: it goes too (its revocation bit stays set).
        VersionCredential.objects.filter(version__in=versions).update(document=None, key_id="", signed_at=None)
        versions.update(holder_name="", recipient_email="", score=None, cohort="", custom_fields=[], pdf="", preview="")
        for case in Case.objects.filter(learner_id=learner_id, state__in=LIVE_CASE_STATES):
            # Closed without telling the learner: there is no address left to tell.
            case_transition(case_id=case.pk, to=CaseState.DECLINED, actor=by, note="personal data erased")
        cases = Case.objects.filter(learner_id=learner_id)
        cases.update(current_name="", message="", decision_note="")
        cases.exclude(requested_name="").update(requested_name=ERASED)
        cases.exclude(new_email="").update(new_email=ERASED)
        delivery_forget_addresses(learner_erase_personal_data(learner_id=learner_id))
        transaction.on_commit(lambda: _delete_files(files))
    return withdrawn


def _delete_files(names: list[str]) -> None:
    storage = CertificateVersion._meta.get_field("pdf").storage
    for name in names:
        storage.delete(name)
