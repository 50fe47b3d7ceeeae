"""The worker watchdog: a supervisor outside the django-q2 cluster that restarts it when queued work stops moving.

See docs/WATCHDOG.md. `decision` is pure; `receivers` writes the progress marker from inside the cluster;
`supervisor` runs the cluster as a child process and acts on `decision.decide()`.
"""
