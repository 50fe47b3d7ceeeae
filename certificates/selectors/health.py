"""The pipeline's health on one page: how much waits where and for how long, what failed lately,
whether the worker cluster is alive, and how the last nightly import went.

The cluster's liveness is read from outside it: the sweep runs inside the cluster, so a stalled
cluster cannot report itself. Its heartbeat (the last task any worker finished) is written by every
task, and the sweep is one every minute, so a healthy cluster's heartbeat is never minutes old.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone

from delivery.models import Delivery, DeliveryStatus, TrackingEvent
from learners.models import Decision, Enrollment
from learners.selectors import ImportReportFile, last_import_report

from ..models import Case, CaseState, Certificate, Credential, LookupChannel, Pipeline
from ..watchdog.selectors import queue_health
from .lookups import CourseLookups, lookups_by_course

#: A heartbeat older than this, with the sweep scheduled every minute, means the cluster is not working.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


@dataclass(frozen=True)
class Figure:
    label: str
    value: int | str
    link: str = ""  # the admin list behind the figure (a URL path with its filters)
    red: bool = False


@dataclass(frozen=True)
class Waiting:
    stage: str
    count: int
    oldest_since: datetime | None
    link: str

    @property
    def age(self) -> timedelta | None:
        return timezone.now() - self.oldest_since if self.oldest_since else None


@dataclass
class PipelineHealth:
    pipeline: list[Figure] = field(default_factory=list)
    credentials: list[Figure] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    last_day: list[Figure] = field(default_factory=list)
    queued: int | None = None
    last_heartbeat: datetime | None = None
    cluster_stalled: bool = False
    open_stall: object | None = None
    last_import: ImportReportFile | None = None
    lookups: list[CourseLookups] = field(default_factory=list)
    lookup_channels: list[str] = field(default_factory=lambda: [channel.label for channel in LookupChannel])


def _admin(path: str) -> str:
    """The admin list behind a figure: "app/model/?filters" as a URL of this site's admin."""
    model, _, query = path.partition("/?")
    app_label, model_name = model.split("/")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    return f"{url}?{query}" if query else url


def pipeline_health(*, now: datetime | None = None) -> PipelineHealth:
    """Everything the health page shows, in a fixed number of queries."""
    now = now or timezone.now()
    health = PipelineHealth()
    by_state = dict(Certificate.objects.values_list("pipeline_state").annotate(n=Count("pk")))
    health.pipeline = [
        Figure(label, by_state.get(value, 0), _admin(f"certificates/certificate/?pipeline_state={value}"))
        for value, label in Pipeline.choices
    ]
    by_credential = dict(Certificate.objects.public().values_list("credential_state").annotate(n=Count("pk")))
    health.credentials = [
        Figure(label, by_credential.get(value, 0), _admin(f"certificates/certificate/?credential_state={value}"))
        for value, label in Credential.choices
    ]

    stages = Certificate.objects.filter(
        pipeline_state__in=[Pipeline.HELD, Pipeline.ISSUED, Pipeline.RENDERED, Pipeline.DELIVERY_FAILED]
    )
    oldest = dict(
        (state, (n, since))
        for state, n, since in stages.values_list("pipeline_state").annotate(n=Count("pk"), since=Min("updated_at"))
    )
    undecided = Enrollment.objects.filter(completed_at__isnull=False, decision=Decision.PENDING).aggregate(
        n=Count("pk"), since=Min("updated_at")
    )
    queued_emails = Delivery.objects.filter(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]).aggregate(
        n=Count("pk"), since=Min("created_at")
    )
    # Open, not waiting on the learner: what staff have to answer.
    live_cases = Case.objects.filter(state=CaseState.OPEN).aggregate(n=Count("pk"), since=Min("created_at"))
    health.waiting = [
        Waiting(
            "Completions not yet decided",
            undecided["n"],
            undecided["since"],
            _admin("learners/enrollment/?decision=pending"),
        ),
        *(
            Waiting(label, *oldest.get(state, (0, None)), _admin(f"certificates/certificate/?pipeline_state={state}"))
            for state, label in (
                (Pipeline.HELD, "Held for staff"),
                (Pipeline.ISSUED, "Waiting for the PDF"),
                (Pipeline.RENDERED, "Waiting for the email"),
                (Pipeline.DELIVERY_FAILED, "Email failed"),
            )
        ),
        Waiting(
            "Emails queued or sending",
            queued_emails["n"],
            queued_emails["since"],
            _admin("delivery/delivery/?status=queued"),
        ),
        Waiting("Open requests", live_cases["n"], live_cases["since"], _admin("certificates/case/?state=open")),
    ]

    day_ago = now - timedelta(hours=24)
    tracked = dict(
        TrackingEvent.objects.filter(received_at__gte=day_ago, event_type__in=["bounced", "complained"])
        .values_list("event_type")
        .annotate(n=Count("pk"))
    )
    failed_emails = Delivery.objects.filter(status=DeliveryStatus.FAILED, created_at__gte=day_ago).count()
    gave_up = Certificate.objects.filter(pipeline_state=Pipeline.ISSUED).exclude(state_reason="").count()
    health.last_day = [
        Figure("Emails failed", failed_emails, _admin("delivery/delivery/?status=failed"), failed_emails > 0),
        Figure("Bounced", tracked.get("bounced", 0), _admin("certificates/deliveryproblem/?tracking_status=bounced")),
        Figure(
            "Complaints",
            tracked.get("complained", 0),
            _admin("certificates/deliveryproblem/?tracking_status=complained"),
        ),
        Figure(
            "PDFs that gave up (any time)",
            gave_up,
            _admin("certificates/certificate/?pipeline_state=issued"),
            gave_up > 0,
        ),
    ]

    queue = queue_health(recent=0)
    health.queued = queue["queued"]
    health.last_heartbeat = queue["last_task_at"]
    health.open_stall = queue["open_stall"]
    # The supervisor's own rule too (work waits, nothing finished for WATCHDOG_STALL_AFTER): a stall is
    # shown while it lasts, not only once the supervisor has restarted the cluster (its row is written
    # then, and resolved by the first task after) or the heartbeat is minutes old.
    heartbeat_age = now - health.last_heartbeat if health.last_heartbeat else None
    work_waits = bool(health.queued) and (
        heartbeat_age is None or heartbeat_age > timedelta(seconds=settings.WATCHDOG_STALL_AFTER)
    )
    health.cluster_stalled = (
        heartbeat_age is None or heartbeat_age > HEARTBEAT_STALE_AFTER or health.open_stall is not None or work_waits
    )
    health.last_import = last_import_report(settings.COMPLETIONS_IMPORT_DIR)
    health.lookups = lookups_by_course()
    return health


@dataclass(frozen=True)
class QueueCount:
    label: str
    count: int
    link: str


def desk_queues() -> list[QueueCount]:
    """The staff desk's queues and how many items wait in each (the admin's front page)."""
    from ..models import CompletionDispute, DeliveryProblem, HeldCertificate, NameCorrection, ReviewCertificate

    live = {"state": CaseState.OPEN}  # the lists they link to show the open ones
    return [
        QueueCount("Held certificates", HeldCertificate.objects.count(), _admin("certificates/heldcertificate")),
        QueueCount("Manual review", ReviewCertificate.objects.count(), _admin("certificates/reviewcertificate")),
        QueueCount(
            "Name corrections",
            NameCorrection.objects.filter(**live).count(),
            _admin("certificates/namecorrection/?state=open"),
        ),
        QueueCount(
            "Completion disputes",
            CompletionDispute.objects.filter(**live).count(),
            _admin("certificates/completiondispute/?state=open"),
        ),
        QueueCount("Delivery problems", DeliveryProblem.objects.count(), _admin("certificates/deliveryproblem")),
    ]
