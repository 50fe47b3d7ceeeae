import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from certificates.watchdog.selectors import cluster_key
from certificates.watchdog.supervisor import Supervisor


def cluster_command(niceness: int) -> list[str]:
    """``manage.py qcluster``, under ``nice`` when asked: the cluster then yields the cores to the web server."""
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"]
    return ["nice", "-n", str(niceness), *command] if niceness else command


class Command(BaseCommand):
    help = (
        "Run the django-q2 cluster (manage.py qcluster) as a child process and restart it when it exits or "
        "queued work stops moving. Run this instead of qcluster; see docs/WATCHDOG.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=int, default=settings.WATCHDOG_INTERVAL, help="Seconds between checks.")
        parser.add_argument(
            "--stall-after",
            type=int,
            default=settings.WATCHDOG_STALL_AFTER,
            help="Seconds queued work may wait with no task finishing before the cluster is restarted.",
        )

    def handle(self, *args, interval: int, stall_after: int, **options):
        supervisor = Supervisor(
            command=cluster_command(settings.WORKER_NICE),
            cluster=cluster_key(),
            interval=interval,
            stall_after=stall_after,
        )
        sys.exit(supervisor.run())
