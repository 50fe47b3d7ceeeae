"""Open Badges credentials: sign a version's credential when it is rendered, publish the issuer's
keys and the status lists (docs/CREDENTIALS.md). The pure parts are ``certificates.credentials``."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from courses.models import IssuanceRule, Organisation

from ..credentials import badge, checking, keys, proof, status
from ..models import Certificate, CertificateVersion, Credential, StatusList, VersionCredential
from ..selectors.credentials import version_credential_document, versions_without_credential

logger = logging.getLogger(__name__)

#: A list takes new entries until half full: a random free index is then found in a try or two,
#: and a set bit still hides among at least 65,536 others.
FILL_LIMIT = 0.5
_INDEX_TRIES = 32

CRITERIA = {
    IssuanceRule.ON_COMPLETION: "Completed the course {title}.",
    IssuanceRule.MIN_SCORE: "Completed the course {title} with a score of at least {threshold}.",
    IssuanceRule.ATTENDANCE: "Attended at least {threshold}% of the course {title}.",
    IssuanceRule.MANUAL_REVIEW: "Completed the course {title}, reviewed by {organisation}.",
}


def key_store() -> keys.KeyStore:
    return keys.KeyStore(settings.CREDENTIAL_KEYS_DIR)


def signing_key() -> keys.SigningKey:
    store = key_store()
    if settings.CREDENTIAL_KEYS_AUTO_CREATE:
        store.ensure()
    return store.signing_key()


def site_did() -> str:
    return keys.did_web(settings.SITE_URL)


def organisation_did(slug: str) -> str:
    return keys.did_web(settings.SITE_URL, "issuers", slug)


def did_document(*, organisation_slug: str | None = None) -> dict | None:
    """The DID document of the site, or of an organisation (None if there is no such organisation)."""
    if organisation_slug is None:
        did = site_did()
    elif Organisation.objects.filter(slug=organisation_slug).exists():
        did = organisation_did(organisation_slug)
    else:
        return None
    return keys.did_document(did, key_store().published())


def status_list_url(organisation_slug: str, number: int, purpose: str) -> str:
    return f"{settings.SITE_URL}/issuers/{organisation_slug}/status/{number}/{purpose}"


def credential_url(version: CertificateVersion) -> str:
    return f"{version.certificate.verify_url}v{version.number}/credential.json"


def _status_list_for(organisation: Organisation) -> StatusList:
    """The organisation's list that takes new entries (locked), a new one when it is full enough.

    The organisation's row is locked first: with no list yet (or the last one full) there is no
    list row to lock, and two workers would both make list number N (a unique constraint refused
    the second, and its reissue failed: four workers reissuing 2,000 at once on PostgreSQL)."""
    Organisation.objects.select_for_update().filter(pk=organisation.pk).values_list("pk", flat=True).first()
    current = StatusList.objects.select_for_update().filter(organisation=organisation).order_by("-number").first()
    if current is not None and current.used < current.size * FILL_LIMIT:  # a COUNT grew with every entry
        return current
    number = current.number + 1 if current else 1
    return StatusList.objects.create(
        organisation=organisation, number=number, size=max(settings.CREDENTIAL_STATUS_LIST_SIZE, status.MINIMUM_SIZE)
    )


@transaction.atomic
def _entry_for(version: CertificateVersion) -> VersionCredential:
    """The version's place in the status lists: a random index, so neighbours tell nothing."""
    existing = VersionCredential.objects.filter(version=version).select_related("status_list").first()
    if existing is not None:
        return existing
    status_list = _status_list_for(version.certificate.enrollment.course.organisation)
    for _ in range(_INDEX_TRIES):
        try:
            with transaction.atomic():
                entry = VersionCredential.objects.create(
                    version=version, status_list=status_list, status_index=secrets.randbelow(status_list.size)
                )
                StatusList.objects.filter(pk=status_list.pk).update(used=F("used") + 1)  # its row is ours (locked)
                return entry
        except IntegrityError:
            if VersionCredential.objects.filter(version=version).exists():  # another worker got there first
                return VersionCredential.objects.select_related("status_list").get(version=version)
    raise RuntimeError(f"no free index found in {status_list} after {_INDEX_TRIES} tries")


def _valid_until(certificate: Certificate) -> datetime | None:
    """The certificate is expired from the day after ``valid_until``, in the site's time zone."""
    if certificate.valid_until is None:
        return None
    zone = ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(certificate.valid_until + timedelta(days=1), time.min, tzinfo=zone)


def _content(version: CertificateVersion, entry: VersionCredential) -> badge.BadgeContent:
    """What the credential says, from the version's frozen snapshot (and the stable ids of its course)."""
    certificate = version.certificate
    course = certificate.enrollment.course
    organisation = course.organisation
    criteria = CRITERIA.get(course.issuance_rule, CRITERIA[IssuanceRule.ON_COMPLETION]).format(
        title=version.course_title, threshold=course.threshold, organisation=version.organisation_name
    )
    return badge.BadgeContent(
        credential_id=credential_url(version),
        issuer_did=organisation_did(organisation.slug),
        issuer_name=version.organisation_name,
        issuer_url=organisation.website,
        achievement_id=f"{settings.SITE_URL}/issuers/{organisation.slug}/achievements/{course.slug}",
        course_title=version.course_title,
        description=f"Certificate of {version.template_family} of {version.course_title}, "
        f"issued by {version.organisation_name}.",
        criteria=criteria,
        image_url=f"{certificate.verify_url}v{version.number}/logo" if version.logo_path else "",
        holder_name=version.holder_name,
        email=version.recipient_email,
        salt=secrets.token_hex(16),
        valid_from=version.issued_at,
        valid_until=_valid_until(certificate),
        awarded=certificate.issued_at or version.issued_at,
        status=tuple(
            badge.StatusEntry(
                purpose, status_list_url(organisation.slug, entry.status_list.number, purpose), entry.status_index
            )
            for purpose in status.PURPOSES
        ),
        language=version.locale,
    )


def credential_sign(*, version_id: int) -> VersionCredential:
    """Sign the version's OpenBadgeCredential once; a second call returns the one already signed."""
    version = CertificateVersion.objects.select_related("certificate__enrollment__course__organisation").get(
        pk=version_id
    )
    entry = _entry_for(version)
    if entry.document is not None:
        return entry
    key = signing_key()
    did = organisation_did(version.certificate.enrollment.course.organisation.slug)
    now = timezone.now()
    document = proof.sign(
        badge.open_badge_credential(_content(version, entry)),
        private_key=key.private_key,
        verification_method=keys.verification_method_id(did, key.id),
        created=now,
    )
    # Two renders racing sign twice; the first to store wins and both return it.
    VersionCredential.objects.filter(pk=entry.pk, document__isnull=True).update(
        document=document, key_id=key.id, signed_at=now
    )
    return VersionCredential.objects.select_related("status_list").get(pk=entry.pk)


def credential_document(version: CertificateVersion) -> dict | None:
    """The version's signed credential, signed now if it is due one and not signed yet: its task
    is queued behind a burst's emails, and the holder or an employer may ask for it first. A
    version replaced before its task ran gets one too (it says so through its status lists)."""
    document = version_credential_document(version)
    if document is not None:
        return document
    due = (
        CertificateVersion.objects.filter(pk=version.pk)
        .exclude(pdf_sha256="")
        .exclude(certificate__credential_state=Credential.WITHDRAWN)
    )
    if not due.exists():
        return None
    try:
        return credential_sign(version_id=version.pk).document
    except Exception:  # its task or the sweep will sign it; the page says "not found" meanwhile
        logger.exception("signing the credential of version %s on request failed", version.pk)
        return None


BACKFILL_BATCH = 200


@dataclass
class BackfillSummary:
    found: int = 0
    signed: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (version id, why)


def credentials_backfill(
    *, course_slug: str | None = None, dry_run: bool = False, batch_size: int = BACKFILL_BATCH
) -> Iterator[BackfillSummary]:
    """Sign a credential for every current rendered version without one, a batch at a time; yields
    the running summary after each batch. Safe to run twice: a signed version is never found again."""
    summary = BackfillSummary()
    after = 0
    while True:
        # Keyset pages by id: a version signed in the meantime (by a render) simply drops out.
        batch = list(
            versions_without_credential(course_slug=course_slug)
            .filter(pk__gt=after)
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return
        after = batch[-1]
        summary.found += len(batch)
        for version_id in batch if not dry_run else ():
            try:
                credential_sign(version_id=version_id)
            except Exception as exc:  # one bad version must not stop the others; each is reported
                logger.exception("signing the credential of version %s failed", version_id)
                summary.failed.append((version_id, str(exc) or type(exc).__name__))
            else:
                summary.signed += 1
        yield summary


def _set_bits(status_list: StatusList, purpose: str) -> list[int]:
    entries = VersionCredential.objects.filter(status_list=status_list)
    if purpose == "revocation":  # a withdrawn certificate (data erased) is no longer vouched for either
        entries = entries.filter(version__certificate__credential_state__in=[Credential.REVOKED, Credential.WITHDRAWN])
    elif purpose == "suspension":
        entries = entries.filter(version__certificate__credential_state=Credential.SUSPENDED)
    else:  # refresh: a newer version replaces this one
        entries = entries.filter(version__is_current=False)
    return list(entries.values_list("status_index", flat=True))


def status_list_credential(*, organisation_slug: str, number: int, purpose: str) -> dict | None:
    """The signed BitstringStatusListCredential as it is now (None if there is no such list).

    Its bits are read from the certificates' states at this moment, and it is signed afresh: it is
    served with a cache lifetime of its ``ttl``, so a change shows within that time.
    """
    if purpose not in status.PURPOSES:
        return None
    status_list = StatusList.objects.filter(organisation__slug=organisation_slug, number=number).first()
    if status_list is None:
        return None
    url = status_list_url(organisation_slug, number, purpose)
    did = organisation_did(organisation_slug)
    now = timezone.now()
    key = signing_key()
    unsigned = status.status_list_credential(
        url=url,
        issuer_did=did,
        purpose=purpose,
        set_bits=_set_bits(status_list, purpose),
        size=status_list.size,
        ttl_seconds=settings.CREDENTIAL_STATUS_TTL,
        now=now,
    )
    return proof.sign(
        unsigned, private_key=key.private_key, verification_method=keys.verification_method_id(did, key.id), created=now
    )


def _local_did(did: str) -> dict | None:
    """Our own DID documents, read from our key files (no request to ourselves)."""
    if did == site_did():
        return did_document()
    prefix = organisation_did("")
    if did.startswith(prefix):
        return did_document(organisation_slug=did.removeprefix(prefix))
    return None


_STATUS_PATH = re.compile(r"^/issuers/(?P<slug>[-\w]+)/status/(?P<number>\d+)/(?P<purpose>\w+)$")


def _local_status_list(url: str) -> dict | None:
    site = settings.SITE_URL
    if not url.startswith(site + "/"):
        return None
    match = _STATUS_PATH.match(url.removeprefix(site))
    if match is None:
        return None
    try:
        with transaction.atomic():  # a savepoint: a failed read leaves the caller's transaction usable
            return status_list_credential(
                organisation_slug=match["slug"], number=int(match["number"]), purpose=match["purpose"]
            )
    except Exception:
        # A list we cannot read (its row, the database, the signing key) must read as "status could not
        # be checked", never as a clear bit. Nothing of the checked document is logged.
        logger.exception("a status list could not be read for a credential check")
        return None


def credential_check(
    *, document: object, resolve_did: Callable[[str], dict | None] | None = None, fetch=None
) -> checking.Verdict:
    """A verdict on a credential: ours are checked against our own keys and lists; another issuer's
    documents only through ``resolve_did`` / ``fetch`` when given (the page never fetches a URL)."""

    def resolve(did: str) -> dict | None:
        return _local_did(did) or (resolve_did(did) if resolve_did else None)

    def status_list(url: str) -> dict | None:
        return _local_status_list(url) or (fetch(url) if fetch else None)

    return checking.check_credential(document, resolve_did=resolve, fetch_status_list=status_list, now=timezone.now())
