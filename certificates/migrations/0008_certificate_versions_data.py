"""Every existing certificate becomes a certificate with version 1 under the same code and files.

The old single status splits in two: the pipeline (how far issuing got) and the credential (revoked or
not). Emails and their tracking move to the delivery app, keeping their ids (and so their Message-IDs).
"""

from django.core.management.color import no_style
from django.db import IntegrityError, migrations, transaction

SNAPSHOT_FIELDS = (
    "holder_name",
    "recipient_email",
    "course_title",
    "instructor_name",
    "instructor_title",
    "organisation_name",
    "template_family",
    "completed_at",
    "issued_on",
    "score",
    "cohort",
    "custom_fields",
    "accent_color",
    "secondary_color",
    "page_size",
    "locale",
    "logo_path",
    "signature_path",
)
PIPELINE = {
    "issued": "issued",
    "rendered": "rendered",
    "sending": "rendered",  # its delivery is still SENDING; the sweep reports it if it never finishes
    "emailed": "emailed",
    "delivery_failed": "delivery_failed",
}
DELIVERY_FIELDS = (
    "recipient",
    "purpose",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "requested_by_id",
    "esp_message_id",
    "tracking_status",
    "opened_at",
    "clicked_at",
    "claimed_at",
    "sent_at",
)


def _pipeline_from_timestamps(old) -> str:
    if old.emailed_at:
        return "emailed"
    return "rendered" if old.rendered_at else "issued"


def forwards(apps, schema_editor):
    Certificate = apps.get_model("certificates", "Certificate")
    Version = apps.get_model("certificates", "CertificateVersion")
    Event = apps.get_model("certificates", "CertificateEvent")
    OldDelivery = apps.get_model("certificates", "Delivery")
    OldTracking = apps.get_model("certificates", "TrackingEvent")
    OldSuppressed = apps.get_model("certificates", "SuppressedAddress")
    Delivery = apps.get_model("delivery", "Delivery")
    Tracking = apps.get_model("delivery", "TrackingEvent")
    Suppressed = apps.get_model("delivery", "SuppressedAddress")

    version_of: dict[int, int] = {}
    enrollments: set[int] = set()
    for old in Certificate.objects.order_by("enrollment_id", "version", "pk").iterator():
        if old.enrollment_id in enrollments:
            raise RuntimeError(
                f"enrollment {old.enrollment_id} has more than one certificate row; merge them by hand first"
            )
        enrollments.add(old.enrollment_id)
        changes = {"state_reason": "", "credential_state": "active", "credential_reason": ""}
        # A held row was never issued, or its render gave up: either way it is issued again from
        # current data when staff re-check it, under the same code.
        # A revoked row that was never issued is what revoking a held certificate did (that bug is
        # fixed): it stays private, held with both reasons, for staff to look at again.
        if old.status == "revoked" and old.issued_at is None:
            changes.update(pipeline_state="held", state_reason=f"revoked while held: {old.status_reason}"[:500])
            Certificate.objects.filter(pk=old.pk).update(**changes, revoked_at=None)
            continue
        if old.status == "held":
            changes.update(pipeline_state="held", state_reason=old.status_reason, issued_at=None)
            Certificate.objects.filter(pk=old.pk).update(**changes)
            continue
        issued_at = old.issued_at or old.created_at
        version = Version.objects.create(
            certificate_id=old.pk,
            number=old.version,
            is_current=True,
            reason="first_issue",
            issued_at=issued_at,
            pdf=old.pdf.name,
            pdf_sha256=old.pdf_sha256,
            preview=old.preview.name,
            renderer_version=old.renderer_version,
            rendered_at=old.rendered_at if old.pdf_sha256 else None,
            **{name: getattr(old, name) for name in SNAPSHOT_FIELDS},
        )
        version_of[old.pk] = version.pk
        if old.status in PIPELINE:
            changes["pipeline_state"] = PIPELINE[old.status]
            if old.status == "delivery_failed":
                changes["state_reason"] = old.status_reason
        else:  # revoked (or superseded, which nothing produced): the pipeline state comes from what was done
            changes["pipeline_state"] = _pipeline_from_timestamps(old)
            if old.status == "revoked":
                changes.update(credential_state="revoked", credential_reason=old.status_reason)
                changes["revoked_at"] = old.revoked_at or old.updated_at
        if changes["pipeline_state"] == "emailed" and not old.emailed_at:
            changes["emailed_at"] = old.updated_at
        changes["issued_at"] = issued_at
        Certificate.objects.filter(pk=old.pk).update(**changes)
        Event.objects.filter(certificate_id=old.pk).update(version_id=version.pk)

    delivery_ids = set()
    for old in OldDelivery.objects.order_by("pk").iterator():
        if old.certificate_id not in version_of:
            continue  # no certificate was ever issued for it
        values = {name: getattr(old, name) for name in DELIVERY_FIELDS}
        try:
            with transaction.atomic():
                Delivery.objects.create(
                    pk=old.pk, composer="certificate", reference=str(version_of[old.certificate_id]), **values
                )
        except IntegrityError:  # a second live first send of one version (two addresses): keep it, as failed
            values.update(status="failed", last_error=("duplicate first send: " + values["last_error"])[:500])
            Delivery.objects.create(
                pk=old.pk, composer="certificate", reference=str(version_of[old.certificate_id]), **values
            )
        Delivery.objects.filter(pk=old.pk).update(created_at=old.created_at)  # auto_now_add overwrote it
        delivery_ids.add(old.pk)
    for old in OldTracking.objects.order_by("pk").iterator():
        Tracking.objects.create(
            pk=old.pk,
            event_key=old.event_key,
            delivery_id=old.delivery_id if old.delivery_id in delivery_ids else None,
            event_type=old.event_type,
            esp_message_id=old.esp_message_id,
            recipient=old.recipient,
            description=old.description,
            occurred_at=old.occurred_at,
        )
        Tracking.objects.filter(pk=old.pk).update(received_at=old.received_at)
    for old in OldSuppressed.objects.order_by("pk").iterator():
        Suppressed.objects.create(pk=old.pk, email=old.email, reason=old.reason, description=old.description)
        Suppressed.objects.filter(pk=old.pk).update(created_at=old.created_at)
    # Rows came in with their ids: move the id sequences past them (PostgreSQL; a no-op elsewhere).
    with schema_editor.connection.cursor() as cursor:
        for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [Delivery, Tracking, Suppressed]):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0007_certificate_versions"),
        ("delivery", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, elidable=False)]  # no way back: versions cannot fold into one row
