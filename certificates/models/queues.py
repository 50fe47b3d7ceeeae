"""The staff desk's work queues, as proxy models: each is its own page in the admin, with its own
columns, actions and permission to see it, over the same rows (no copies, nothing to keep in step)."""

from django.db import models

from delivery.models import Delivery, DeliveryQuerySet

from .cases import Case, CaseKind
from .certificate import Certificate, CertificateQuerySet


class _HeldManager(models.Manager.from_queryset(CertificateQuerySet)):
    def get_queryset(self):
        return super().get_queryset().held_for_data()


class _ReviewManager(models.Manager.from_queryset(CertificateQuerySet)):
    def get_queryset(self):
        return super().get_queryset().awaiting_review()


class HeldCertificate(Certificate):
    objects = _HeldManager()

    class Meta:
        proxy = True
        verbose_name = "held certificate"
        verbose_name_plural = "queue: held certificates"


class ReviewCertificate(Certificate):
    objects = _ReviewManager()

    class Meta:
        proxy = True
        verbose_name = "certificate awaiting review"
        verbose_name_plural = "queue: manual review"


class _KindManager(models.Manager):
    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def get_queryset(self):
        return super().get_queryset().filter(kind=self.kind)


class NameCorrection(Case):
    objects = _KindManager(CaseKind.NAME_CORRECTION)

    class Meta:
        proxy = True
        verbose_name = "name correction"
        verbose_name_plural = "queue: name corrections"


class CompletionDispute(Case):
    objects = _KindManager(CaseKind.COMPLETION_DISPUTE)

    class Meta:
        proxy = True
        verbose_name = "completion dispute"
        verbose_name_plural = "queue: completion disputes"


class _ProblemManager(models.Manager.from_queryset(DeliveryQuerySet)):
    def get_queryset(self):
        return super().get_queryset().problems()


class DeliveryProblem(Delivery):
    objects = _ProblemManager()

    class Meta:
        proxy = True
        verbose_name = "delivery problem"
        verbose_name_plural = "queue: delivery problems"
