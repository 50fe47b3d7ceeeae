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
        .filter(
            design__family=family
        )  # a version prints for the family it was published for, whatever the draft says now
        .order_by("-number")
        .first()
    )


class PublishedTemplates:
    """published_template_version, remembered for one pass over many certificates (a reissue plan
    reads the same few organisations' templates for thousands of certificates)."""

    def __init__(self) -> None:
        self._found: dict[tuple[int, str], CertificateTemplateVersion | None] = {}

    def version_for(self, *, organisation_id: int, family: str) -> CertificateTemplateVersion | None:
        key = (organisation_id, family)
        if key not in self._found:
            self._found[key] = published_template_version(organisation_id=organisation_id, family=family)
        return self._found[key]
