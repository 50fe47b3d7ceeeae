"""Settings for bench/drill.py: production's settings with short clocks and the drills' fault injector.

Nothing here is read by production code: the fault (a certificate whose render kills its worker) lives
in ``bench.drill_faults``, an app only this module installs.
"""

from config.settings.local import *  # noqa: F403
from config.settings.local import INSTALLED_APPS, Q_CLUSTER, env

INSTALLED_APPS = [*INSTALLED_APPS, "bench.drill_faults.DrillFaultsConfig"]
# The ORM broker gives a task whose worker died to another after `retry` seconds: 180 in production,
# short here so a drill takes minutes. Still above the drills' Q_TIMEOUT, as certificates.E003 demands.
Q_CLUSTER = {**Q_CLUSTER, "retry": env.int("DRILL_Q_RETRY", default=45)}
