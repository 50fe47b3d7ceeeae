"""Which published template a course's new certificates print."""

from __future__ import annotations

from ..models import CertificateTemplateVersion


def published_template_version(*, organisation_id: int, family: str) -> CertificateTemplateVersion | None:
    """The latest published version of the organisation's default template for ``family``, or None
    (then certificates print the built-in template of the family)."""
    return (
        CertificateTemplateVersion.objects.filter(
            template__organisation_id=organisation_id, template__family=family, template__is_default=True
        )
        .order_by("-number")
        .first()
    )
