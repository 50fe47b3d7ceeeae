"""Rendering: a version's frozen snapshot -> PDF and PNG in storage, with their SHA-256.

The attempt is claimed (and counted) in its own committed UPDATE before any work, so a render killed
by the task timeout or the OOM killer still counts. The PDF and PNG are made and written outside
any transaction (on SQLite a transaction is the whole database's write lock); the result is then
committed with a guarded transition.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from courses.models import Course
from learners.models import Enrollment, Learner

from .. import codes, pdf, signing
from ..models import (
    SNAPSHOT_FIELDS,
    Certificate,
    CertificateVersion,
    Credential,
    Pipeline,
    pdf_upload_to,
    preview_upload_to,
)
from ..transitions import log_event, transition
from .designs import page_design, read_file, template_from_design
from .handoff import CREDENTIAL_TASK, EMAIL_TASK, RENDER_TASK, enqueue_after_commit
from .snapshot import snapshot_of

logger = logging.getLogger(__name__)

GAVE_UP_PREFIX = "rendering gave up"
GAVE_UP = GAVE_UP_PREFIX + " after {attempts} tries; last: {message}"


def content_for(version: CertificateVersion) -> pdf.CertificateContent:
    """The renderer's input, from the version's frozen snapshot only."""
    return pdf.CertificateContent(
        holder_name=version.holder_name,
        course_title=version.course_title,
        organisation_name=version.organisation_name,
        issued_on=version.issued_on,
        code=version.certificate.display_code,
        verify_url=version.certificate.verify_url,
        template_family=version.template_family,
        instructor_name=version.instructor_name,
        instructor_title=version.instructor_title,
        score=version.score,
        cohort=version.cohort,
        custom_fields=tuple((label, value) for label, value in version.custom_fields),
        phrase=version.phrase,
        completed_on=timezone.localtime(version.completed_at).date() if version.completed_at else None,
    )


def template_for(version: CertificateVersion) -> pdf.Template:
    """The published template version that prints it, or its family's built-in template."""
    if version.template_version_id is None:
        return pdf.built_in(version.template_family)
    return template_from_design(version.template_version.design)


def _printed_look(version: CertificateVersion) -> tuple:
    """What of a version's template reaches its page: the wording of its locale (not the others'),
    the look, and the template's own ink, muted colour and artwork. A template's name does not print."""
    template = template_for(version)
    design = version.template_version.design if version.template_version_id is not None else {}
    words = ((version.locale, template.wording_for(version.locale)),)
    defaults = pdf.Design()
    return (
        replace(template, wording=words),
        design.get("ink_color", defaults.ink),
        design.get("muted_color", defaults.muted),
        design.get("background_path", ""),
    )


def prints_the_same(version: CertificateVersion, other: CertificateVersion) -> bool:
    """Would the two versions print the same page? (Same text, same design inputs; the code is shared.)
    A new template version that changes nothing this certificate prints (another locale's wording,
    the template's name) is the same page: reissuing for it would email the holder for nothing."""
    design_inputs = ("accent_color", "secondary_color", "page_size", "locale", "logo_path", "signature_path")
    return (
        pdf.printed_content(content_for(version), template_for(version))
        == pdf.printed_content(content_for(other), template_for(other))
        and all(getattr(version, name) == getattr(other, name) for name in design_inputs)
        and _printed_look(version) == _printed_look(other)
    )


def design_for(version: CertificateVersion) -> pdf.Design:
    if version.template_version_id is not None:
        return page_design(
            version.template_version.design,
            locale=version.locale,
            accent=version.accent_color,
            secondary=version.secondary_color,
            page_size=version.page_size,
            logo=version.logo_path,
            signature=version.signature_path,
        )
    return pdf.Design(
        accent=version.accent_color,
        secondary=version.secondary_color,
        page_size=version.page_size,
        locale=version.locale,
        logo=read_file(version.logo_path),
        signature=read_file(version.signature_path),
    )


def unsigned_pdf(version: CertificateVersion) -> bytes:
    """The version's page before it is signed: the same bytes every time it is made."""
    return pdf.render_pdf(content_for(version), design_for(version), template_for(version))


def _store(field, name: str, data: bytes) -> str:
    if field.storage.exists(name):  # left by a try that died before its commit (same bytes)
        field.storage.delete(name)
    return field.storage.save(name, ContentFile(data))


def _claim(certificate_id: int):
    """Count one attempt at rendering, committed before the work; the claim's time, or None if it is
    not ours to do. A claim older than CERTIFICATE_STUCK_AFTER (longer than any task may run, by a
    system check) was abandoned by a worker that died."""
    now = timezone.now()
    taken_until = now - timedelta(seconds=settings.CERTIFICATE_STUCK_AFTER)
    claimed = (
        Certificate.objects.filter(pk=certificate_id, pipeline_state=Pipeline.ISSUED)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=taken_until))
        .filter(attempts__lt=settings.CERTIFICATE_MAX_ATTEMPTS)
        .exclude(credential_state=Credential.WITHDRAWN)  # nothing left to print
        .update(attempts=F("attempts") + 1, claimed_at=now, updated_at=now)
    )
    return now if claimed else None


def _give_up_if_spent(certificate_id: int) -> None:
    """Past the attempt limit the certificate stays issued, with the reason for staff, and is not retried."""
    certificate = Certificate.objects.filter(pk=certificate_id, pipeline_state=Pipeline.ISSUED).first()
    if certificate is None or certificate.attempts < settings.CERTIFICATE_MAX_ATTEMPTS:
        return
    if certificate.state_reason.startswith(GAVE_UP_PREFIX):
        return  # said once already
    reason = GAVE_UP.format(attempts=certificate.attempts, message=certificate.state_reason or "killed")[:500]
    with transaction.atomic():
        if Certificate.objects.filter(pk=certificate_id, pipeline_state=Pipeline.ISSUED).update(
            state_reason=reason, updated_at=timezone.now()
        ):
            log_event(certificate_id, "render_gave_up", reason)


def certificate_render(*, certificate_id: int) -> Certificate:
    """Render and store the current version's PDF; does nothing if it is rendered or being rendered."""
    claim = _claim(certificate_id)
    if claim is None:
        _give_up_if_spent(certificate_id)  # e.g. every try was killed before it could say why
        return Certificate.objects.get(pk=certificate_id)
    version = CertificateVersion.objects.select_related("certificate").get(
        certificate_id=certificate_id, is_current=True
    )
    try:
        data = signing.sign_pdf(unsigned_pdf(version))
        pdf_name = _store(version.pdf, pdf_upload_to(version, ""), data)  # stored, sent and hashed: signed
    except Exception as exc:
        logger.exception("rendering certificate %s failed", certificate_id)
        message = f"render failed: {type(exc).__name__}: {exc}"[:500]
        with transaction.atomic():
            Certificate.objects.filter(pk=certificate_id, pipeline_state=Pipeline.ISSUED).update(
                state_reason=message, claimed_at=None
            )
            log_event(certificate_id, "render_failed", message, version=version)
        _give_up_if_spent(certificate_id)
        raise
    sha256 = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        # Still ours? A worker that outlived its claim must not overwrite the one that took over.
        if not Certificate.objects.select_for_update().filter(pk=certificate_id, claimed_at=claim).exists():
            return Certificate.objects.get(pk=certificate_id)
        CertificateVersion.objects.filter(pk=version.pk, is_current=True).update(
            pdf=pdf_name,
            preview="",  # made when first asked for (stored_preview): it is not needed for the email
            preview_sha256="",
            pdf_sha256=sha256,
            renderer_version=pdf.RENDERER_VERSION,
            rendered_at=timezone.now(),
        )
        if transition(
            certificate_id,
            from_=Pipeline.ISSUED,
            to=Pipeline.RENDERED,
            kind="rendered",
            reason=f"{len(data)} bytes",
            version=version,
            data={"sha256": sha256},
            state_reason="",
            attempts=0,
            claimed_at=None,
        ):
            enqueue_after_commit(EMAIL_TASK, certificate_id)
            # The Open Badges credential through the queue, behind the emails of a burst: nobody
            # needs it in the first minute (its pages sign it if asked first; the sweep if it is lost).
            enqueue_after_commit(CREDENTIAL_TASK, version.pk)
    return Certificate.objects.get(pk=certificate_id)


def stored_preview(version: CertificateVersion) -> str:
    """The storage name of ``version``'s 1200x627 PNG, made from its stored PDF the first time it is
    asked for (a page view, a link preview, the dashboard), or "" while it has no PDF.

    Not made when the PDF is: at 80-90 ms it cost more than the PDF itself, and a learner waiting for
    an email needs only the PDF. Two first requests at once both make it; the PNG is a pure function
    of the PDF, so whichever is stored last is the same picture.
    """
    if version.preview:
        return version.preview.name
    if not version.pdf:
        return ""
    try:
        with version.pdf.storage.open(version.pdf.name, "rb") as handle:  # not the field's file: callers read it
            png = pdf.render_preview_png(handle.read())
    except FileNotFoundError:  # erased since the version was read
        return ""
    name = _store(version.preview, preview_upload_to(version, ""), png)
    sha256 = hashlib.sha256(png).hexdigest()
    kept = CertificateVersion.objects.filter(pk=version.pk, pdf=version.pdf.name).update(
        preview=name, preview_sha256=sha256
    )
    if not kept:  # erased (or replaced) meanwhile: keep no picture of it
        version.preview.storage.delete(name)
        return ""
    version.preview, version.preview_sha256 = name, sha256
    return name


def certificate_render_retry(*, certificate_id: int, by) -> Certificate:
    """Staff try rendering again after it gave up (the cause fixed): the attempts start over."""
    with transaction.atomic():
        if Certificate.objects.filter(pk=certificate_id, pipeline_state=Pipeline.ISSUED).update(
            attempts=0, claimed_at=None, nudged_at=None, state_reason="", updated_at=timezone.now()
        ):
            log_event(certificate_id, "render_retry", "attempts reset by staff", actor=by)
            enqueue_after_commit(RENDER_TASK, certificate_id)
    return Certificate.objects.get(pk=certificate_id)


SAMPLE_HOLDER = "Alex Sample"


def certificate_preview(*, course_id: int, holder_name: str = SAMPLE_HOLDER) -> tuple[bytes, bytes]:
    """A sample certificate for a course as it would be issued now: (PDF, PNG). Nothing is saved."""
    course = Course.objects.select_related("organisation").get(pk=course_id)
    enrollment = Enrollment(
        learner=Learner(full_name=holder_name or SAMPLE_HOLDER),
        course=course,
        completed_at=timezone.now(),
        score=Decimal("92"),
    )
    snapshot, _problems = snapshot_of(enrollment)
    version = CertificateVersion(certificate=Certificate(code=codes.new_code()), number=1, **snapshot)
    data = pdf.render_pdf(pdf.as_sample(content_for(version)), design_for(version), template_for(version))
    return data, pdf.render_preview_png(data)


def certificate_preview_with_name(*, certificate_id: int, holder_name: str) -> bytes:
    """The certificate's current version as it would print with another name: a PNG for staff to
    judge a name correction before approving it. Nothing is saved."""
    current = CertificateVersion.objects.select_related("certificate").get(
        certificate_id=certificate_id, is_current=True
    )
    corrected = CertificateVersion(
        certificate=current.certificate,
        number=current.number + 1,
        **{name: getattr(current, name) for name in SNAPSHOT_FIELDS if name != "holder_name"},
        holder_name=holder_name,
    )
    sample = pdf.render_pdf(pdf.as_sample(content_for(corrected)), design_for(corrected), template_for(corrected))
    return pdf.render_preview_png(sample)
